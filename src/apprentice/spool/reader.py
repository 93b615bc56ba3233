"""Reading a spool back: events in order, frame images by hash, and damage reports.

Reading never stops at damage. Each damaged record is reported once (``problems``) and
skipped; everything else is returned. A torn tail — what ``kill -9`` or a power cut leaves
in the last segment — is expected and reported as such.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from apprentice import events as ev
from apprentice.crypto import load_key_file
from apprentice.errors import CorruptRecord, SpoolError
from apprentice.spool.codec import decode_events, decode_frame
from apprentice.spool.layout import SpoolLayout, open_layout
from apprentice.spool.segment import RecordRef, read_record, read_segment
from apprentice.spool.writer import list_segments


class SpoolReader:
    def __init__(self, layout: SpoolLayout, key: bytes) -> None:
        self.layout = layout
        self._key = key
        self.problems: list[CorruptRecord] = []
        self._frame_index: dict[str, RecordRef] | None = None

    def events(self) -> Iterator[ev.Event]:
        """Yield every readable event, in recording (seq) order."""
        for _, kind, path in list_segments(self.layout.segments):
            if kind != "ev":
                continue
            for item in read_segment(path, self._key):
                if isinstance(item, CorruptRecord):
                    self.problems.append(item)
                    continue
                try:
                    batch = decode_events(item[1])
                except (SpoolError, ev.SchemaError) as exc:
                    self.problems.append(CorruptRecord(path.name, item[0].offset, str(exc)))
                    continue
                yield from batch

    def frame_hashes(self) -> list[str]:
        return list(self._index())

    def load_frame(self, blob: str) -> bytes:
        """Return the encoded image stored under ``blob`` (KeyError if it is not there)."""
        ref = self._index()[blob]
        return decode_frame(read_record(ref, self._key)).data

    def segment_bytes(self) -> dict[str, int]:
        sizes = {"events": 0, "frames": 0}
        for _, kind, path in list_segments(self.layout.segments):
            sizes["events" if kind == "ev" else "frames"] += path.stat().st_size
        return sizes

    def _index(self) -> dict[str, RecordRef]:
        if self._frame_index is None:
            index: dict[str, RecordRef] = {}
            for _, kind, path in list_segments(self.layout.segments):
                if kind != "fr":
                    continue
                for item in read_segment(path, self._key):
                    if isinstance(item, CorruptRecord):
                        self.problems.append(item)
                        continue
                    try:
                        index[decode_frame(item[1]).blob] = item[0]
                    except SpoolError as exc:
                        self.problems.append(CorruptRecord(path.name, item[0].offset, str(exc)))
            self._frame_index = index
        return self._frame_index


def open_spool(root: Path, key_file: Path | None = None) -> SpoolReader:
    """Open the spool at ``root`` for reading with its key (default key location if None)."""
    layout = open_layout(root)
    return SpoolReader(layout, load_key_file(key_file or layout.key_path()))
