from __future__ import annotations

import errno
from pathlib import Path

import pytest

from apprentice import events as ev
from apprentice.spool import FrameBlob, open_sink, open_spool
from apprentice.spool.writer import SpoolWriter


def _frame_event(seq: int) -> ev.Frame:
    return ev.Frame(seq, seq, "f" * 64, "pre", 0, ev.Rect(0, 0, 1, 1), 1, 1, "png", "p")


def _gap_factory(sink):  # type: ignore[no-untyped-def]
    counter = iter(range(10_000, 20_000))

    def make(info):  # type: ignore[no-untyped-def]
        event = ev.Control(next(counter), 0, "gap", info["reason"], {})
        sink.put_event(event)
        return event

    return make


def test_stop_drains_everything_in_order(tmp_path: Path) -> None:
    sink = open_sink(tmp_path / "s", flush_interval=10.0)
    sink.start(_gap_factory(sink))
    for i in range(1, 501):
        sink.put_event(ev.MouseMove(i, i, i, i))
    sink.put_frame(FrameBlob("f" * 64, "png", 1, 1, b"img"), _frame_event(501))
    sink.stop()
    reader = open_spool(tmp_path / "s")
    events = list(reader.events())
    assert [e.seq for e in events] == list(range(1, 502))
    assert reader.load_frame("f" * 64) == b"img"
    assert sink.stats.events_written == 501


def test_frames_beyond_the_backlog_become_gaps_not_memory(tmp_path: Path) -> None:
    sink = open_sink(tmp_path / "s")
    # Not started: nothing is consumed, so the backlog fills up.
    accepted = [
        sink.put_frame(FrameBlob(f"{i:064x}", "png", 1, 1, b"x"), _frame_event(i)) for i in range(1, 13)
    ]
    assert accepted == [True] * 8 + [False] * 4
    sink.start(_gap_factory(sink))
    sink.stop()
    events = list(open_spool(tmp_path / "s").events())
    gaps = [e for e in events if isinstance(e, ev.Control)]
    assert [e.seq for e in gaps] == [9, 10, 11, 12]
    assert all(g.reason == "frame_backlog" for g in gaps)
    assert sorted(e.seq for e in events) == list(range(1, 13))


def test_a_refused_event_write_is_retried_not_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sink = open_sink(tmp_path / "s", flush_interval=0.01)
    real = SpoolWriter.write_events
    failures = {"left": 2}

    def flaky(self, batch):  # type: ignore[no-untyped-def]
        if failures["left"]:
            failures["left"] -= 1
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, batch)

    monkeypatch.setattr(SpoolWriter, "write_events", flaky)
    sink.start(_gap_factory(sink))
    for i in range(1, 4):
        sink.put_event(ev.MouseMove(i, i, 0, 0))
    sink.stop()
    assert [e.seq for e in open_spool(tmp_path / "s").events()] == [1, 2, 3]
    assert sink.stats.write_errors >= 1
