"""The recorder with fake backends: ordering, one clock, pre-action frames, de-duplication."""

from __future__ import annotations

from pathlib import Path

from apprentice import events as ev
from apprentice.capture.config import CaptureConfig
from apprentice.spool import open_spool
from tests.unit.helpers import TERMINAL, fake_session

SCRIPT = [
    ("mouse_move", {"x": 10, "y": 10}),
    ("mouse_down", {"x": 10, "y": 10, "button": "left"}),
    ("mouse_up", {"x": 10, "y": 10, "button": "left"}),
    ("key_down", {"key": "shift", "vk": 65505, "char": None}),
    ("key_down", {"key": "H", "vk": 72, "char": "H"}),
    ("key_up", {"key": "H", "vk": 72, "char": "H"}),
    ("key_up", {"key": "shift", "vk": 65505, "char": None}),
    ("scroll", {"x": 10, "y": 10, "dx": 0, "dy": -1}),
    ("mouse_down", {"x": 20, "y": 20, "button": "right"}),
    ("mouse_up", {"x": 20, "y": 20, "button": "right"}),
]


def _record(tmp_path: Path, script=SCRIPT, config: CaptureConfig | None = None):  # type: ignore[no-untyped-def]
    session, inputs, windows, screen, sink = fake_session(tmp_path / "s", config)
    session.start()
    assert session.ready.wait(10)
    inputs.play(script)
    session.stop()
    return list(open_spool(tmp_path / "s").events()), session, screen


def _inputs(events: list[ev.Event]) -> list[tuple[str, dict]]:
    out = []
    for e in events:
        if e.kind in ev.INPUT_KINDS:
            d = ev.to_dict(e)
            for k in ("k", "seq", "t"):
                d.pop(k)
            d.setdefault("char", None) if e.kind.startswith("key") else None
            d.setdefault("vk", None) if e.kind.startswith("key") else None
            out.append((e.kind, d))
    return out


def test_the_spool_holds_exactly_the_input_in_order(tmp_path: Path) -> None:
    events, _, _ = _record(tmp_path)
    assert _inputs(events) == SCRIPT
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    non_frames = [e.t for e in events if e.kind != "frame"]
    assert non_frames == sorted(non_frames)  # one clock, in seq order


def test_start_holds_the_one_wall_anchor_and_geometry(tmp_path: Path) -> None:
    events, session, _ = _record(tmp_path)
    start, stop = events[0], events[-1]
    assert isinstance(start, ev.Control) and start.op == "start"
    assert start.info["session"] == session.session_id
    assert start.info["mono_ns"] == start.t and start.info["wall_ns"] > 1_600_000_000 * 10**9
    assert start.info["monitors"] == [
        {"index": 0, "x": 0, "y": 0, "width": 64, "height": 48, "scale": 1.0, "primary": True}
    ]
    assert isinstance(stop, ev.Control) and stop.op == "stop"
    assert stop.info["counts"]["mouse_down"] == 2


def test_every_action_start_has_a_pre_frame_grabbed_before_it(tmp_path: Path) -> None:
    events, _, _ = _record(tmp_path)
    by_seq = {e.seq: e for e in events}
    pre = {f.for_seq: f for f in events if isinstance(f, ev.Frame) and f.trigger == "pre"}
    starts = [e for e in events if e.kind == "mouse_down"]
    starts.append(next(e for e in events if e.kind == "key_down"))  # first key of the burst
    starts.append(next(e for e in events if e.kind == "scroll"))
    for action in starts:
        frame = pre[action.seq]
        assert frame.t < action.t
        assert frame.seq > action.seq  # committed after the action, grabbed before it
    assert len(pre) == len(starts)  # the second key of the burst gets no frame of its own
    assert all(by_seq[s] for s in pre)


def test_identical_screens_are_stored_once(tmp_path: Path) -> None:
    events, _, _ = _record(tmp_path)
    frames = [e for e in events if isinstance(e, ev.Frame)]
    reader = open_spool(tmp_path / "s")
    assert len(frames) >= 4
    assert len({f.blob for f in frames}) == 1 == len(reader.frame_hashes())
    assert reader.load_frame(frames[0].blob).startswith(b"\x89PNG")


def test_new_images_are_rate_limited(tmp_path: Path) -> None:
    session, inputs, _, screen, _ = fake_session(
        tmp_path / "s",
        CaptureConfig(max_frame_rate=0.001, frame_burst=1, refresh_interval=0.01, settle_delay=0.01),
    )
    session.start()
    for shade in range(1, 6):
        screen.shade = shade
        session.frames._grab_all(screen)  # what the worker's refresh would do
        inputs.play([("mouse_down", {"x": 1, "y": 1, "button": "left"}),
                     ("mouse_up", {"x": 1, "y": 1, "button": "left"})])
    session.stop()
    reader = open_spool(tmp_path / "s")
    assert len(reader.frame_hashes()) == 1
    assert session.frames.stats.rate_limited >= 1


def test_focus_changes_are_recorded_with_the_window(tmp_path: Path) -> None:
    session, inputs, windows, _, _ = fake_session(tmp_path / "s")
    session.start()
    inputs.play([("key_down", {"key": "a", "vk": 97, "char": "a"})])
    windows.focus(TERMINAL)
    inputs.play([("key_down", {"key": "b", "vk": 98, "char": "b"})])
    session.stop()
    events = list(open_spool(tmp_path / "s").events())
    sequence = [(e.kind, getattr(e, "window", None)) for e in events if e.kind in ("focus", "key_down")]
    assert [k for k, _ in sequence] == ["focus", "key_down", "focus", "key_down"]
    assert sequence[0][1].app_id == "Editor" and sequence[2][1].app_id == "Terminal"


def test_input_after_stop_is_not_recorded(tmp_path: Path) -> None:
    session, inputs, _, _, _ = fake_session(tmp_path / "s")
    session.start()
    emit = inputs._emit
    session.stop()
    assert emit is not None
    emit("key_down", {"key": "z", "vk": 122, "char": "z"})
    events = list(open_spool(tmp_path / "s").events())
    assert not any(e.kind == "key_down" for e in events)
