"""The on-disk format of one spool segment: a header, then framed, sealed records.

Layout (all integers big-endian)::

    segment  = header record*
    header   = "APSPOOL1" (8) ‖ segment_id (16) ‖ stream (1) ‖ reserved (7)      32 bytes
    record   = "\\xa5REC" (4) ‖ length u32 ‖ index u32 ‖ crc32(length‖index) u32 ‖ sealed
    sealed   = nonce (12) ‖ AES-GCM ciphertext ‖ tag (16)         (see crypto/aead.py)

The associated data of every record is ``segment_id ‖ stream ‖ index``, so a record moved
to another segment, stream or position fails authentication. The CRC over the framing lets
a reader tell a damaged length field from a damaged body: with a bad frame it scans forward
for the next record marker whose CRC checks (resynchronisation); with a bad body it reports
that one record and continues after it. A record that runs past the end of the file is a
torn tail — what a crash mid-write leaves — and is reported as such.

Never: write a partial record on purpose, or hand out plaintext that did not authenticate.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from apprentice.crypto import RecordCipher
from apprentice.errors import CorruptRecord, DecryptionError, SpoolError
from apprentice.fileio import fsync_dir

SEGMENT_MAGIC = b"APSPOOL1"
RECORD_MAGIC = b"\xa5REC"
HEADER_SIZE = 32
FRAME_SIZE = 16
MAX_RECORD = 64 * 1024 * 1024
STREAMS = {"ev": 0, "fr": 1}

_FRAME = struct.Struct(">4sIII")
_LEN_INDEX = struct.Struct(">II")


def _aad(segment_id: bytes, stream: int, index: int) -> bytes:
    return segment_id + bytes([stream]) + index.to_bytes(4, "big")


class SegmentWriter:
    """Appends sealed records to one new segment file. Not thread-safe: one writer thread."""

    def __init__(self, path: Path, key: bytes, stream: str) -> None:
        self.path = path
        self._stream = STREAMS[stream]
        self._segment_id = os.urandom(16)
        self._cipher = RecordCipher(key, self._segment_id)
        self._index = 0
        header = SEGMENT_MAGIC + self._segment_id + bytes([self._stream]) + bytes(7)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        self._write(header)
        self.size = HEADER_SIZE
        os.fsync(self._fd)
        fsync_dir(path.parent)

    def append(self, plaintext: bytes) -> int:
        """Seal and append one record; return the bytes written."""
        sealed = self._cipher.seal(plaintext, _aad(self._segment_id, self._stream, self._index))
        if len(sealed) > MAX_RECORD:
            raise SpoolError(f"record of {len(sealed)} bytes exceeds the {MAX_RECORD} byte limit")
        framing = _LEN_INDEX.pack(len(sealed), self._index)
        record = RECORD_MAGIC + framing + zlib.crc32(framing).to_bytes(4, "big") + sealed
        self._write(record)
        self._index += 1
        self.size += len(record)
        return len(record)

    def sync(self) -> None:
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]


@dataclass(frozen=True, slots=True)
class RecordRef:
    """Where one record sits, so that it can be read again without a scan."""

    path: Path
    offset: int
    length: int
    index: int


def read_segment(path: Path, key: bytes) -> Iterator[tuple[RecordRef, bytes] | CorruptRecord]:
    """Yield each record's plaintext, or a CorruptRecord for each damaged place.

    Damage never stops the iteration: the reader skips the bad record (or resynchronises
    on the next marker) and carries on, so one flipped byte costs one record.
    """
    data = path.read_bytes()
    name = path.name
    if len(data) < HEADER_SIZE or data[:8] != SEGMENT_MAGIC:
        yield CorruptRecord(name, 0, "not a spool segment (bad header)")
        return
    segment_id, stream = data[8:24], data[24]
    cipher = RecordCipher(key, segment_id)
    offset = HEADER_SIZE
    while offset < len(data):
        if len(data) - offset < FRAME_SIZE:
            yield CorruptRecord(name, offset, "torn tail (incomplete record header)")
            return
        magic, length, index, crc = _FRAME.unpack_from(data, offset)
        if magic != RECORD_MAGIC or zlib.crc32(data[offset + 4 : offset + 12]) != crc:
            resync = _next_record(data, offset + 1)
            yield CorruptRecord(name, offset, "damaged record framing; skipped to next record")
            if resync is None:
                return
            offset = resync
            continue
        end = offset + FRAME_SIZE + length
        if end > len(data):
            yield CorruptRecord(name, offset, "torn tail (record cut short)")
            return
        sealed = data[offset + FRAME_SIZE : end]
        try:
            plaintext = cipher.open(sealed, _aad(segment_id, stream, index))
        except DecryptionError:
            yield CorruptRecord(name, offset, "record failed authentication (damaged or wrong key)")
        else:
            yield RecordRef(path, offset, length, index), plaintext
        offset = end


def read_record(ref: RecordRef, key: bytes) -> bytes:
    """Read one record again by reference (used to fetch frame images on demand)."""
    with open(ref.path, "rb") as handle:
        header = handle.read(HEADER_SIZE)
        handle.seek(ref.offset + FRAME_SIZE)
        sealed = handle.read(ref.length)
    cipher = RecordCipher(key, header[8:24])
    return cipher.open(sealed, _aad(header[8:24], header[24], ref.index))


def _next_record(data: bytes, start: int) -> int | None:
    pos = data.find(RECORD_MAGIC, start)
    while pos != -1:
        if pos + FRAME_SIZE <= len(data):
            crc = int.from_bytes(data[pos + 12 : pos + 16], "big")
            if zlib.crc32(data[pos + 4 : pos + 12]) == crc:
                return pos
        pos = data.find(RECORD_MAGIC, pos + 1)
    return None
