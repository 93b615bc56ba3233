from __future__ import annotations

import errno
import json
from pathlib import Path
from typing import Any

import pytest

from apprentice import events as ev
from apprentice.errors import KeyFileError, SpoolError
from apprentice.spool import FrameBlob, SpoolWriter, create_or_open, open_spool
from apprentice.spool.layout import open_layout
from apprentice.spool.segment import HEADER_SIZE, SegmentWriter
from apprentice.spool.writer import list_segments


def _keys(n: int, start: int = 1) -> list[ev.Event]:
    return [ev.KeyDown(seq=i, t=i * 1000, key="a", char="a") for i in range(start, start + n)]


def _frame(tag: int, size: int = 1000) -> FrameBlob:
    return FrameBlob(f"{tag:064x}", "png", 4, 4, bytes([tag % 256]) * size)


def _writer(root: Path, **kwargs: Any) -> tuple[SpoolWriter, list[dict[str, Any]]]:
    layout, key = create_or_open(root)
    drops: list[dict[str, Any]] = []
    return SpoolWriter(layout, key, on_drop=drops.append, **kwargs), drops


def test_events_and_frames_read_back_exactly(tmp_path: Path) -> None:
    writer, _ = _writer(tmp_path / "s")
    writer.write_events(_keys(3))
    writer.write_frame(_frame(7))
    writer.write_events(_keys(2, start=4))
    writer.close()
    reader = open_spool(tmp_path / "s")
    assert list(reader.events()) == _keys(5)
    assert reader.load_frame(f"{7:064x}") == bytes([7]) * 1000
    assert reader.problems == []


def test_nothing_on_disk_is_plaintext(tmp_path: Path) -> None:
    writer, _ = _writer(tmp_path / "s")
    canary = "CANARY-4242-secret"
    writer.write_events([ev.Control(1, 1, "marker", info={"text": canary})])
    writer.write_frame(FrameBlob("b" * 64, "png", 1, 1, canary.encode() * 10))
    writer.close()
    for path in (tmp_path / "s").rglob("*"):
        if path.is_file():
            assert canary.encode() not in path.read_bytes()


def test_key_lives_outside_the_spool_and_is_refused_inside(tmp_path: Path) -> None:
    layout, _ = create_or_open(tmp_path / "s")
    assert not str(layout.key_path()).startswith(str(tmp_path / "s"))
    with pytest.raises(SpoolError, match="outside"):
        create_or_open(tmp_path / "t", key_file=tmp_path / "t" / "inside.key")


def test_reopening_appends_after_existing_segments(tmp_path: Path) -> None:
    writer, _ = _writer(tmp_path / "s")
    writer.write_events(_keys(2))
    writer.close()
    writer, _ = _writer(tmp_path / "s")
    writer.write_events(_keys(2, start=3))
    writer.close()
    assert [e.seq for e in open_spool(tmp_path / "s").events()] == [1, 2, 3, 4]
    assert len(list_segments(tmp_path / "s" / "segments")) == 2


def test_segments_rotate_by_size(tmp_path: Path) -> None:
    writer, _ = _writer(tmp_path / "s", frame_segment_bytes=2500)
    for tag in range(5):
        writer.write_frame(_frame(tag))
    writer.close()
    frames = [p for _, kind, p in list_segments(tmp_path / "s" / "segments") if kind == "fr"]
    assert len(frames) >= 3
    reader = open_spool(tmp_path / "s")
    assert sorted(reader.frame_hashes()) == sorted(f"{t:064x}" for t in range(5))


def test_a_flipped_byte_costs_exactly_one_record(tmp_path: Path) -> None:
    writer, _ = _writer(tmp_path / "s")
    for batch in range(5):
        writer.write_events(_keys(10, start=batch * 10 + 1))
    writer.close()
    (segment,) = (p for _, _, p in list_segments(tmp_path / "s" / "segments"))
    data = bytearray(segment.read_bytes())
    # Records are equal-sized here; flip a byte in the middle of the third record's body.
    record = (len(data) - HEADER_SIZE) // 5
    data[HEADER_SIZE + 2 * record + record // 2] ^= 0xFF
    segment.write_bytes(bytes(data))
    reader = open_spool(tmp_path / "s")
    seqs = [e.seq for e in reader.events()]
    assert seqs == list(range(1, 21)) + list(range(31, 51))
    assert len(reader.problems) == 1
    assert "failed authentication" in str(reader.problems[0])


def test_a_damaged_length_field_resynchronises_on_the_next_record(tmp_path: Path) -> None:
    writer, _ = _writer(tmp_path / "s")
    for batch in range(3):
        writer.write_events(_keys(10, start=batch * 10 + 1))
    writer.close()
    (segment,) = (p for _, _, p in list_segments(tmp_path / "s" / "segments"))
    data = bytearray(segment.read_bytes())
    data[HEADER_SIZE + 5] ^= 0x40  # inside the first record's length field
    segment.write_bytes(bytes(data))
    reader = open_spool(tmp_path / "s")
    assert [e.seq for e in reader.events()] == list(range(11, 31))
    assert "framing" in str(reader.problems[0])


def test_a_torn_tail_is_reported_and_the_rest_is_read(tmp_path: Path) -> None:
    writer, _ = _writer(tmp_path / "s")
    writer.write_events(_keys(10))
    writer.write_events(_keys(10, start=11))
    writer.close()
    (segment,) = (p for _, _, p in list_segments(tmp_path / "s" / "segments"))
    segment.write_bytes(segment.read_bytes()[:-7])
    reader = open_spool(tmp_path / "s")
    assert [e.seq for e in reader.events()] == list(range(1, 11))
    assert "torn tail" in str(reader.problems[0])


def test_a_wrong_key_reads_nothing_and_says_so(tmp_path: Path) -> None:
    writer, _ = _writer(tmp_path / "s")
    writer.write_events(_keys(3))
    writer.close()
    other = tmp_path / "other.key"
    create_or_open(tmp_path / "o", key_file=other)
    reader = open_spool(tmp_path / "s", key_file=other)
    assert list(reader.events()) == []
    assert "failed authentication" in str(reader.problems[0])


def test_missing_key_is_a_clear_error(tmp_path: Path) -> None:
    writer, _ = _writer(tmp_path / "s")
    writer.close()
    open_layout(tmp_path / "s").key_path().unlink()
    with pytest.raises(KeyFileError, match="not found"):
        open_spool(tmp_path / "s")


def test_not_a_spool_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    with pytest.raises(SpoolError, match="not a spool"):
        open_spool(tmp_path / "x")
    (tmp_path / "x" / "junk").write_text("hi")
    with pytest.raises(SpoolError, match="not a spool"):
        create_or_open(tmp_path / "x")
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / "spool.json").write_text(json.dumps({"format": "apprentice-spool", "version": 99}))
    with pytest.raises(SpoolError, match="unsupported"):
        open_spool(tmp_path / "y")


def test_over_the_cap_frames_are_dropped_before_events(tmp_path: Path) -> None:
    writer, drops = _writer(
        tmp_path / "s", frame_segment_bytes=1200, segment_bytes=100_000, max_total_bytes=6000
    )
    writer.write_events(_keys(20))
    for tag in range(8):
        writer.write_frame(_frame(tag))
    writer.write_events(_keys(20, start=21))
    writer.close()
    reader = open_spool(tmp_path / "s")
    assert [e.seq for e in reader.events()] == list(range(1, 41))
    assert drops and all(d["stream"] == "frames" for d in drops)
    assert sum(d.get("dropped_frames") or 0 for d in drops) >= 3
    assert writer.total_bytes <= 6000
    kept = set(reader.frame_hashes())
    assert f"{7:064x}" in kept and f"{0:064x}" not in kept  # oldest went first


def test_events_are_dropped_only_when_no_frames_are_left(tmp_path: Path) -> None:
    writer, drops = _writer(tmp_path / "s", segment_bytes=300, max_total_bytes=700)
    for batch in range(10):
        writer.write_events(_keys(5, start=batch * 5 + 1))
    writer.close()
    assert any(d["stream"] == "events" for d in drops)
    seqs = [e.seq for e in open_spool(tmp_path / "s").events()]
    assert seqs and seqs[-1] == 50  # the newest survive


def test_a_full_disk_drops_the_frame_and_reports_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writer, drops = _writer(tmp_path / "s")
    writer.write_events(_keys(1))

    def full(self: SegmentWriter, payload: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(SegmentWriter, "append", full)
    assert writer.write_frame(_frame(1)) is False
    assert drops == [{"reason": "disk_full", "stream": "frames", "dropped_frames": 1}]
    with pytest.raises(OSError):
        writer.write_events(_keys(1, start=2))  # events are never dropped silently


def test_one_writer_per_spool_and_uploaders_see_only_closed_segments(tmp_path: Path) -> None:
    from apprentice.spool.writer import closed_segments, writer_active

    writer, _ = _writer(tmp_path / "s", segment_bytes=300)
    for batch in range(4):
        writer.write_events(_keys(10, start=batch * 10 + 1))
    assert writer_active(tmp_path / "s")
    with pytest.raises(SpoolError, match="another recorder"):
        _writer(tmp_path / "s")
    all_segments = list_segments(tmp_path / "s" / "segments")
    assert closed_segments(tmp_path / "s") == all_segments[:-1]
    writer.close()
    assert not writer_active(tmp_path / "s")
    assert closed_segments(tmp_path / "s") == all_segments


def test_segments_the_uploader_deleted_no_longer_count_against_the_cap(tmp_path: Path) -> None:
    writer, drops = _writer(tmp_path / "s", frame_segment_bytes=1200, max_total_bytes=5000)
    for tag in range(3):
        writer.write_frame(_frame(tag))
    for _, _kind, path in list_segments(tmp_path / "s" / "segments")[:-1]:
        path.unlink()  # what the agent does once the collector acknowledged a segment
    for tag in range(3, 6):
        writer.write_frame(_frame(tag))
    writer.close()
    assert drops == []
