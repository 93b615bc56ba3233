"""The plaintext inside a sealed chunk: one spool segment's records, as the spool wrote them.

    payload = "APPAYLD1" (8) ‖ meta_len u32 ‖ meta (JSON) ‖ (record_len u32 ‖ record)*
    meta    = {"spool": id, "segment": "00000001.ev.seg", "stream": "events"|"frames",
               "records": n, "damaged": k}

Each record is exactly a spool codec payload (``spool/codec.py``): an event batch or a
frame image, so the pipeline decodes them with the same functions the spool reader uses.
``damaged`` counts records the device could not read back (they are not included).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import Any

from apprentice import events as ev
from apprentice.errors import SpoolError
from apprentice.spool.codec import FrameBlob, decode_events, decode_frame

MAGIC = b"APPAYLD1"
_U32 = struct.Struct(">I")


def encode_payload(meta: dict[str, Any], records: Sequence[bytes]) -> bytes:
    head = json.dumps({**meta, "records": len(records)}, separators=(",", ":"), sort_keys=True).encode()
    parts = [MAGIC, _U32.pack(len(head)), head]
    for record in records:
        parts += [_U32.pack(len(record)), record]
    return b"".join(parts)


def decode_payload(payload: bytes) -> tuple[dict[str, Any], list[bytes]]:
    """Split a payload into its meta and records; SpoolError if it is not one."""
    try:
        if payload[:8] != MAGIC:
            raise ValueError("magic")
        (size,) = _U32.unpack_from(payload, 8)
        meta = json.loads(payload[12 : 12 + size])
        offset, records = 12 + size, []
        while offset < len(payload):
            (length,) = _U32.unpack_from(payload, offset)
            if offset + 4 + length > len(payload):
                raise ValueError("truncated")
            records.append(payload[offset + 4 : offset + 4 + length])
            offset += 4 + length
    except (struct.error, ValueError):
        raise SpoolError("undecodable chunk payload") from None
    if not isinstance(meta, dict) or meta.get("records") != len(records):
        raise SpoolError("undecodable chunk payload (record count)")
    return meta, records


def payload_events(payload: bytes) -> list[ev.Event]:
    """Every event in an events payload, in order (empty for a frames payload)."""
    meta, records = decode_payload(payload)
    if meta.get("stream") != "events":
        return []
    return [event for record in records for event in decode_events(record)]


def payload_frames(payload: bytes) -> list[FrameBlob]:
    meta, records = decode_payload(payload)
    if meta.get("stream") != "frames":
        return []
    return [decode_frame(record) for record in records]
