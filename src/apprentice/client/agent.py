"""Uploading a spool: closed segments → sealed chunks in an outbox → the collector.

For each closed segment (one the recorder will never append to again):

1. read and decrypt it with the device spool key, in memory only;
2. seal its records to the contributor public key (``crypto/sealed.py``) and write the
   sealed chunk to the outbox — ``<segment>.<chunk id>.chunk``, fsynced and renamed into
   place — so every retry, even after a crash or a reboot, sends identical bytes;
3. upload it; the collector stores a chunk id once, however often it arrives;
4. after the collector acknowledges: delete the segment, then the outbox entry.

A crash anywhere repeats at most step 3 for one chunk (harmless: content-addressed) and
never seals a segment twice (which would store it twice under two ids): the outbox entry
names its segment, and a segment with an entry is not sealed again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from apprentice.client.uploader import Uploader
from apprentice.crypto import ChunkHeader, chunk_id, seal_chunk
from apprentice.errors import CorruptRecord
from apprentice.fileio import write_atomically
from apprentice.spool import open_layout
from apprentice.spool.payload import encode_payload
from apprentice.spool.segment import read_segment
from apprentice.spool.writer import closed_segments

log = logging.getLogger("apprentice.client.agent")
_STREAMS = {"ev": "events", "fr": "frames"}
_SUFFIX = ".chunk"


@dataclass
class UploadStats:
    chunks: int = 0
    new: int = 0
    duplicates: int = 0
    bytes: int = 0
    empty_segments: int = 0
    damaged_records: int = 0


class SpoolUploader:
    def __init__(self, spool_root: Path, spool_key: bytes, uploader: Uploader,
                 outbox: Path | None = None) -> None:
        self._root = spool_root
        self._key = spool_key
        self._uploader = uploader
        self._identity = uploader.identity
        self._layout = open_layout(spool_root)
        self.outbox = outbox or spool_root / "outbox"

    def run_once(self) -> UploadStats:
        """Upload everything that is ready now; raise UploadError if the collector is away."""
        self.outbox.mkdir(mode=0o700, parents=True, exist_ok=True)
        stats = UploadStats()
        for entry in sorted(self.outbox.glob("*" + _SUFFIX)):  # left over from an earlier run
            self._send(entry, stats)
        pending = {e.name.split(".chunk")[0].rsplit(".", 1)[0] for e in self.outbox.glob("*" + _SUFFIX)}
        for _, _, segment in closed_segments(self._root):
            if segment.name in pending:
                continue
            entry = self._seal(segment, stats)
            if entry is not None:
                self._send(entry, stats)
        return stats

    def _seal(self, segment: Path, stats: UploadStats) -> Path | None:
        stream = _STREAMS[segment.name.split(".")[1]]
        try:
            items = list(read_segment(segment, self._key))
        except FileNotFoundError:  # the spool cap deleted it meanwhile
            return None
        records = [item[1] for item in items if not isinstance(item, CorruptRecord)]
        damaged = sum(isinstance(item, CorruptRecord) for item in items)
        stats.damaged_records += damaged
        if not records:
            stats.empty_segments += 1
            segment.unlink(missing_ok=True)
            return None
        meta = {"spool": self._layout.spool_id, "segment": segment.name, "stream": stream, "damaged": damaged}
        header = ChunkHeader(
            self._identity.contributor_id, self._identity.device_id, self._identity.key_id,
            f"{self._layout.spool_id}:{segment.name}",
        )
        sealed = seal_chunk(encode_payload(meta, records), self._identity.contributor_public_key, header)
        del records
        entry = self.outbox / f"{segment.name}.{chunk_id(sealed)}{_SUFFIX}"
        write_atomically(entry, sealed)
        return entry

    def _send(self, entry: Path, stats: UploadStats) -> None:
        sealed = entry.read_bytes()
        segment_name, cid = entry.name[: -len(_SUFFIX)].rsplit(".", 1)
        if chunk_id(sealed) != cid:  # damaged on disk: re-seal from the segment next time
            log.warning("outbox entry failed its hash check; discarding it")
            entry.unlink()
            return
        created = self._uploader.put_chunk(cid, sealed)
        stats.chunks += 1
        stats.bytes += len(sealed)
        stats.new += created
        stats.duplicates += not created
        (self._layout.segments / segment_name).unlink(missing_ok=True)
        entry.unlink()
