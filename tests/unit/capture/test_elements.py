"""The element worker and its place in the session: what a click or a burst targeted.

The accessibility backend here is the scripted ``fake`` source (a real AT-SPI bus runs in
tests/integration/test_accessibility_xvfb.py); everything else — gate, redactor, guard,
stamper and spool — is the real code.
"""

from __future__ import annotations

import threading
from pathlib import Path

from apprentice import events as ev
from apprentice.capture.a11y import open_element_source
from apprentice.capture.a11y._fake import ElementSource as FakeElements
from apprentice.capture.base import ElementInfo, ElementQuery
from apprentice.capture.config import CaptureConfig
from apprentice.capture.elements import ElementWorker, normalise_states
from apprentice.capture.textguard import TypedTextGuard
from apprentice.spool import open_spool
from tests.integration.conftest import wait_until
from tests.support import make_gate, spool_bytes
from tests.unit.helpers import EDITOR, fake_session

BROWSER = ev.WindowInfo(wid=8, app_id="Firefox", process="firefox", title="Holiday photos",
                        bounds=ev.Rect(0, 0, 64, 48))
SAVE = ElementInfo(
    source="atspi", role="push button", name="Save", states=frozenset({"focusable", "FOCUSED"}),
    bounds=ev.Rect(10, 20, 80, 24),
    path=(ev.UiNode("frame", "notes.txt"), ev.UiNode("panel", "card 4111 1111 1111 1111")),
)
PASSWORD = ElementInfo(source="atspi", role="password text", name="Password",
                       states=frozenset({"focused", "editable"}))
ENTRY = ElementInfo(source="atspi", role="text", name="User", states=frozenset({"focused", "editable"}))


def _type(text: str) -> list[tuple[str, dict]]:
    script = []
    for ch in text:
        script.append(("key_down", {"key": ch, "vk": None, "char": ch}))
        script.append(("key_up", {"key": ch, "vk": None, "char": ch}))
    return script


def _key(name: str) -> list[tuple[str, dict]]:
    return [("key_down", {"key": name, "char": None}), ("key_up", {"key": name, "char": None})]


def _events(tmp_path: Path) -> list[ev.Event]:
    return list(open_spool(tmp_path / "s").events())


def test_a_click_gets_its_element_with_name_and_path_redacted(tmp_path: Path) -> None:
    session, inputs, _, _, _ = fake_session(tmp_path / "s", element_sources=(FakeElements(SAVE),))
    session.start()
    inputs.play([("mouse_down", {"x": 30, "y": 30, "button": "left"}),
                 ("mouse_up", {"x": 30, "y": 30, "button": "left"})])
    wait_until(lambda: session.elements.stats.answered == 1)
    session.stop()
    events = _events(tmp_path)
    down = next(e for e in events if isinstance(e, ev.MouseDown))
    element = next(e for e in events if isinstance(e, ev.Element))
    assert element.for_seq == down.seq and element.seq > down.seq
    assert (element.role, element.name, element.source) == ("push button", "Save", "atspi")
    assert element.states == ("focused",)  # "focusable" is not in the vocabulary
    assert element.bounds == ev.Rect(10, 20, 80, 24)
    assert element.path[0] == ev.UiNode("frame", "notes.txt")
    assert element.path[1].role == "panel" and "4111" not in (element.path[1].name or "")
    assert b"4111 1111" not in spool_bytes(tmp_path)
    stop = next(e for e in events if isinstance(e, ev.Control) and e.op == "stop")
    assert stop.info["elements"]["answered"] == 1


def test_a_hung_source_degrades_to_no_element_without_stalling_input(tmp_path: Path) -> None:
    """The source ignores its timeout (sleeps 30 s); hooks must still return at once."""
    hung = FakeElements(SAVE, delay=30)
    config = CaptureConfig(refresh_interval=0.05, settle_delay=0.01, element_timeout=0.05, element_wait=0.2)
    session, inputs, _, _, _ = fake_session(tmp_path / "s", config, element_sources=(hung,))
    session.start()
    clicks = []
    for i in range(5):
        clicks += [("mouse_down", {"x": i, "y": i, "button": "left"}),
                   ("mouse_up", {"x": i, "y": i, "button": "left"})]
    player = threading.Thread(target=inputs.play, args=(clicks + _type("hello"),))
    player.start()
    player.join(10)  # a deadlock guard, not a speed figure
    assert not player.is_alive(), "the input hooks blocked on a hung accessibility source"
    wait_until(lambda: session.elements.stats.timeout >= 1)
    session.stop()
    hung.unblock()
    events = _events(tmp_path)
    assert not any(isinstance(e, ev.Element) for e in events)
    assert sum(isinstance(e, ev.MouseDown) for e in events) == 5
    assert "".join(e.char or "" for e in events if isinstance(e, ev.KeyDown)) == "hello"
    stats = next(e for e in events if isinstance(e, ev.Control) and e.op == "stop").info["elements"]
    assert stats["answered"] == 0 and stats["timeout"] >= 1
    assert stats["timeout"] + stats["dropped_queue_full"] + stats["none"] <= 6


def test_a_full_queue_drops_queries_and_counts_them() -> None:
    stamped: list[object] = []
    gate = make_gate(["Editor"])
    worker = ElementWorker([FakeElements(SAVE)], lambda cls, **f: stamped.append(f), gate, queue_size=2)
    # Not started: nothing drains the queue.
    results = [worker.submit(ElementQuery(i, 0, "pointer", EDITOR, 1, 1)) for i in range(5)]
    assert results == [True, True, False, False, False]
    assert worker.stats.dropped_queue_full == 3
    worker.stop()
    assert stamped == []


def test_a_window_outside_the_allowlist_is_never_stamped() -> None:
    stamped: list[dict] = []
    source = FakeElements(ElementInfo(source="atspi", role="label", name="Holiday in Rome"))
    worker = ElementWorker([source], lambda cls, **f: stamped.append(f), make_gate(["Editor"]))
    worker.start()
    worker.submit(ElementQuery(1, 0, "pointer", BROWSER, 1, 1))
    worker.submit(ElementQuery(2, 0, "pointer", EDITOR, 1, 1))
    wait_until(lambda: worker.stats.answered + worker.stats.refused == 2)
    worker.stop()
    assert worker.stats.refused == 1 and [f["for_seq"] for f in stamped] == [2]
    assert source.closed


def test_names_that_cannot_be_redacted_are_dropped() -> None:
    class Broken:
        def redact(self, text: str) -> object:
            raise RuntimeError("recognizer crashed")

    class Gate:
        redactor = Broken()

        def window_allowed(self, window: ev.WindowInfo) -> bool:
            return True

    stamped: list[dict] = []
    worker = ElementWorker([FakeElements(SAVE)], lambda cls, **f: stamped.append(f), Gate())
    worker.start()
    worker.submit(ElementQuery(1, 0, "pointer", EDITOR, 1, 1))
    wait_until(lambda: worker.stats.answered == 1)
    worker.stop()
    assert stamped[0]["name"] is None and all(node.name is None for node in stamped[0]["path"])
    assert stamped[0]["role"] == "push button"


def test_the_first_source_with_an_answer_wins_and_errors_are_counted() -> None:
    class Failing:
        def element(self, query: ElementQuery, timeout_s: float) -> ElementInfo | None:
            raise OSError("bus gone")

        def close(self) -> None:
            pass

    stamped: list[dict] = []
    worker = ElementWorker([Failing(), FakeElements(None), FakeElements(SAVE)],
                           lambda cls, **f: stamped.append(f), make_gate(["Editor"]))
    worker.start()
    worker.submit(ElementQuery(1, 0, "pointer", EDITOR, 1, 1))
    wait_until(lambda: worker.stats.answered == 1)
    worker.stop()
    assert worker.stats.errors == 1 and stamped[0]["name"] == "Save"


def test_states_map_onto_the_vocabulary() -> None:
    assert normalise_states({"Focused", "has-focus", "pressed", "visible", "protected"}) == (
        "checked", "focused", "password")
    assert normalise_states(set(), "Password Text") == ("password",)


def test_a_password_field_yields_no_keystrokes(tmp_path: Path) -> None:
    answers = iter([PASSWORD, ENTRY])
    source = FakeElements(lambda query: next(answers) if query.target == "focus" else None)
    session, inputs, _, _, _ = fake_session(tmp_path / "s", element_sources=(source,))
    session.start()
    inputs.play(_type("hunter2"))
    wait_until(lambda: session.elements.stats.answered == 1)
    inputs.play(_type("xyz") + _key("tab"))  # typed after the answer: refused by the gate
    inputs.play(_type("ok"))  # another field: its own focus query, not a password
    wait_until(lambda: session.elements.stats.answered == 2)
    session.stop()
    events = _events(tmp_path)
    typed = "".join(e.char or "" for e in events if isinstance(e, ev.KeyDown))
    assert typed == "ok"
    redacted = [e for e in events if isinstance(e, ev.Control) and e.op == "redacted"]
    # The keys stamped before the answer are dropped by the guard; later ones the gate refuses.
    assert [e.reason for e in redacted] == ["password_field"] and 1 <= redacted[0].info["keys"] <= 7
    assert any(isinstance(e, ev.Control) and e.reason == "secure_input" for e in events)
    elements = [e for e in events if isinstance(e, ev.Element)]
    assert [(e.role, e.states) for e in elements] == [
        ("password text", ("editable", "focused", "password")), ("text", ("editable", "focused"))]
    assert b"hunter2" not in spool_bytes(tmp_path) and b"xyz" not in spool_bytes(tmp_path)


def test_the_guard_drops_a_burst_held_for_a_password_answer() -> None:
    out: list[ev.Event] = []
    guard = TypedTextGuard(make_gate(["Editor"]).redactor, lambda e, b: out.append(e))
    guard.accept(ev.MouseDown(1, 1, "left", 0, 0))
    guard.arm_element_check()
    for seq, ch in enumerate("secret", start=2):
        guard.accept(ev.KeyDown(seq, seq, ch, None, ch))
    guard.accept(ev.KeyDown(8, 8, "enter", None, None))  # a boundary: still waits for the answer
    guard.accept(ev.Focus(9, 9, EDITOR))
    assert [e.seq for e in out] == [1]
    assert guard.element_answered(2, password=True)
    guard.stop()
    assert [(e.kind, getattr(e, "reason", None)) for e in out] == [
        ("mouse_down", None), ("control", "password_field"), ("focus", None)]
    assert out[1].info == {"keys": 7}
    assert guard.redacted == {"password_field": 1}


def test_the_guard_releases_keys_when_the_field_is_not_a_password_or_the_answer_is_late() -> None:
    out: list[ev.Event] = []
    guard = TypedTextGuard(make_gate(["Editor"]).redactor, lambda e, b: out.append(e), element_wait=0.05)
    guard.arm_element_check()
    guard.accept(ev.KeyDown(1, 1, "a", None, "a"))
    guard.accept(ev.KeyDown(2, 2, "enter", None, None))
    assert out == []
    assert guard.element_answered(1, password=False)
    assert [e.seq for e in out] == [1, 2]
    guard.start()
    guard.arm_element_check()
    guard.accept(ev.KeyDown(3, 3, "b", None, "b"))
    guard.accept(ev.KeyDown(4, 4, "enter", None, None))
    wait_until(lambda: len(out) == 4)  # the check ran out of time: released unanswered
    assert not guard.element_answered(3, password=True)
    guard.stop()
    assert guard.element_checks_expired == 1


def test_the_registry_opens_the_fake_and_refuses_unknown_names() -> None:
    import pytest

    from apprentice.errors import ConfigError

    assert isinstance(open_element_source("fake"), FakeElements)
    with pytest.raises(ConfigError, match="unknown accessibility backend"):
        open_element_source("braille")
