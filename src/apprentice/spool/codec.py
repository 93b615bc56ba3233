"""Plaintext payloads of spool records: event batches and frame images.

An events record is one zlib-compressed JSON array of events (``events.to_dict``), so a
batch of a few hundred input events costs a few kilobytes. A frames record is a small
JSON header (hash, format, size) followed by the encoded image bytes, which are already
compressed and are stored as they are.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from apprentice import events as ev
from apprentice.errors import SpoolError

_HEADER_LEN = struct.Struct(">I")


def encode_events(batch: Iterable[ev.Event]) -> bytes:
    body = json.dumps([ev.to_dict(e) for e in batch], separators=(",", ":"), ensure_ascii=False)
    return zlib.compress(body.encode("utf-8"), 6)


def decode_events(payload: bytes) -> list[ev.Event]:
    try:
        items = json.loads(zlib.decompress(payload))
    except (zlib.error, ValueError) as exc:
        raise SpoolError(f"undecodable event batch: {type(exc).__name__}") from None
    if not isinstance(items, list):
        raise SpoolError("undecodable event batch: not a list")
    return [ev.from_dict(item) for item in items]


@dataclass(frozen=True, slots=True)
class FrameBlob:
    """An encoded screenshot and the facts needed to use it without decoding it."""

    blob: str
    format: str
    width: int
    height: int
    data: bytes


def encode_frame(frame: FrameBlob) -> bytes:
    header = json.dumps(
        {"blob": frame.blob, "format": frame.format, "width": frame.width, "height": frame.height},
        separators=(",", ":"),
    ).encode()
    return _HEADER_LEN.pack(len(header)) + header + frame.data


def decode_frame(payload: bytes) -> FrameBlob:
    try:
        (size,) = _HEADER_LEN.unpack_from(payload)
        meta = json.loads(payload[4 : 4 + size])
        return FrameBlob(
            meta["blob"], meta["format"], meta["width"], meta["height"], payload[4 + size :]
        )
    except (struct.error, ValueError, KeyError, TypeError):
        raise SpoolError("undecodable frame record") from None
