"""reduce_actions: every action type and the cases that trip reducers up."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable

import pytest

from apprentice import events as ev
from apprentice.pipeline.actions import Action, reduce_actions
from apprentice.pipeline.config import ActionConfig

from .conftest import Log


def summary(action: Action) -> tuple[object, ...]:
    kind = action.type
    if kind in ("click", "double_click", "triple_click", "right_click", "middle_click",
                "long_press"):
        return (kind, action.x, action.y, *action.modifiers)
    if kind == "drag":
        return (kind, action.x, action.y, action.end_x, action.end_y)
    if kind == "scroll":
        return (kind, action.dx, action.dy)
    if kind == "type":
        return (kind, action.text)
    if kind in ("press", "hotkey"):
        return (kind, "+".join(action.keys), action.count)
    return (kind,)


def reduce(log: Log, **config: object) -> list[tuple[object, ...]]:
    return [summary(a) for a in reduce_actions(log.events, ActionConfig(**config))]


CASES: list[tuple[str, Callable[[Log], object], list[tuple[object, ...]]]] = [
    ("click", lambda g: g.click(10, 20), [("click", 10, 20)]),
    ("right click", lambda g: g.click(10, 20, "right"), [("right_click", 10, 20)]),
    ("middle click", lambda g: g.click(10, 20, "middle"), [("middle_click", 10, 20)]),
    ("double click", lambda g: g.click(10, 20).click(11, 21), [("double_click", 10, 20)]),
    ("triple click", lambda g: g.click(10, 20).click(10, 20).click(12, 21),
     [("triple_click", 10, 20)]),
    ("four clicks are a triple then a click",
     lambda g: g.click(5, 5).click(5, 5).click(5, 5).click(5, 5),
     [("triple_click", 5, 5), ("click", 5, 5)]),
    ("double click on two different spots is two clicks",
     lambda g: g.click(10, 20).click(40, 20), [("click", 10, 20), ("click", 40, 20)]),
    ("slow second click is two clicks",
     lambda g: g.click(10, 20).wait(600).click(10, 20), [("click", 10, 20), ("click", 10, 20)]),
    ("right double click is two right clicks",
     lambda g: g.click(1, 1, "right").click(1, 1, "right"),
     [("right_click", 1, 1), ("right_click", 1, 1)]),
    ("drag", lambda g: g.drag([(100, 100), (150, 120), (200, 140)]),
     [("drag", 100, 100, 200, 140)]),
    ("drag that returns to its start",
     lambda g: g.drag([(100, 100), (160, 100), (101, 100)]), [("drag", 100, 100, 101, 100)]),
    ("jitter under the threshold is a click",
     lambda g: g.drag([(100, 100), (103, 102), (102, 101)]), [("click", 100, 100)]),
    ("long press", lambda g: g.click(30, 40, hold_ms=900), [("long_press", 30, 40)]),
    ("shift click keeps the modifier",
     lambda g: g.down("shift").click(5, 6).up("shift"), [("click", 5, 6, "shift")]),
    ("ctrl click does not merge with a plain click",
     lambda g: g.click(5, 6).down("ctrl").click(5, 6).up("ctrl"),
     [("click", 5, 6), ("click", 5, 6, "ctrl")]),
    ("back button is browser back", lambda g: g.click(5, 6, "back"),
     [("press", "browserback", 1)]),
    ("mouse up without down is ignored",
     lambda g: g.add(ev.MouseUp, x=1, y=1, button="left"), []),
    ("press never released is dropped",
     lambda g: g.add(ev.MouseDown, x=1, y=1, button="left"), []),
    ("scroll burst is summed", lambda g: g.scroll(50, 50, dy=-1).scroll(50, 50, dy=-1)
     .scroll(51, 50, dy=-1), [("scroll", 0, -3)]),
    ("scroll burst in both axes", lambda g: g.scroll(50, 50, dx=1).scroll(50, 50, dy=2)
     .scroll(50, 50, dx=1), [("scroll", 2, 2)]),
    ("scroll bursts apart in time", lambda g: g.scroll(50, 50, dy=1).wait(700)
     .scroll(50, 50, dy=-2), [("scroll", 0, 1), ("scroll", 0, -2)]),
    ("scroll bursts apart in space", lambda g: g.scroll(50, 50, dy=1)
     .scroll(400, 300, dy=1), [("scroll", 0, 1), ("scroll", 0, 1)]),
    ("scroll that cancels out is dropped",
     lambda g: g.scroll(50, 50, dy=1).scroll(50, 50, dy=-1), []),
    ("typing", lambda g: g.text("hello world"), [("type", "hello world")]),
    ("typing with corrections", lambda g: g.text("helo").tap("backspace").text("lo wrld")
     .tap("backspace").tap("backspace").tap("backspace").text("orld"),
     [("type", "hello world")]),
    ("typing then erasing all of it is nothing",
     lambda g: g.text("ab").tap("backspace").tap("backspace"), []),
    ("backspace with nothing to delete is a press",
     lambda g: g.tap("backspace").text("x"), [("press", "backspace", 1), ("type", "x")]),
    ("delete is a press", lambda g: g.text("ab").tap("delete"),
     [("type", "ab"), ("press", "delete", 1)]),
    ("shift gives capitals, not hotkeys", lambda g: g.text("Hello World"),
     [("type", "Hello World")]),
    ("enter flushes", lambda g: g.text("ab").tap("enter").text("cd"),
     [("type", "ab"), ("press", "enter", 1), ("type", "cd")]),
    ("tab flushes", lambda g: g.text("ab").tap("tab").text("cd"),
     [("type", "ab"), ("press", "tab", 1), ("type", "cd")]),
    ("hotkey while typing", lambda g: g.text("abc").combo("ctrl", "s").text("de"),
     [("type", "abc"), ("hotkey", "ctrl+s", 1), ("type", "de")]),
    ("ctrl shift t", lambda g: g.combo("ctrl_l", "shift", "T"), [("hotkey", "ctrl+shift+t", 1)]),
    ("control character from ctrl", lambda g: g.down("ctrl").tap("c", "\x03").up("ctrl"),
     [("hotkey", "ctrl+c", 1)]),
    ("super hotkey", lambda g: g.combo("cmd", "e"), [("hotkey", "win+e", 1)]),
    ("alt tab twice", lambda g: g.down("alt").tap("tab").tap("tab").up("alt"),
     [("hotkey", "alt+tab", 1), ("hotkey", "alt+tab", 1)]),
    ("altgr produces text", lambda g: g.down("alt_gr").tap("q", "@").up("alt_gr"),
     [("type", "@")]),
    ("shift selection is press with shift",
     lambda g: g.text("ab").down("shift").tap("left").tap("left").up("shift").text("X"),
     [("type", "ab"), ("press", "shift+left", 1), ("press", "shift+left", 1), ("type", "X")]),
    ("auto-repeat of an arrow counts",
     lambda g: g.down("right").down("right").down("right").up("right"),
     [("press", "right", 3)]),
    ("auto-repeat of a letter types it", lambda g: g.down("a", "a").down("a", "a").up("a", "a"),
     [("type", "aa")]),
    ("auto-repeat of shift selection counts",
     lambda g: g.down("shift").down("down").down("down").up("down").up("shift"),
     [("press", "shift+down", 2)]),
    ("same hotkey twice, each released after its modifiers (X11 reports the up unshifted)",
     lambda g: [g.down("ctrl").down("shift").down("Z", "Z").up("shift").up("ctrl").up("z", "z")
                for _ in range(2)],
     [("hotkey", "ctrl+shift+z", 1), ("hotkey", "ctrl+shift+z", 1)]),
    ("shifted symbol released after shift is no longer held",
     lambda g: g.down("shift").down("!", "!").up("shift").up("1", "1").tap("cmd"),
     [("type", "!"), ("press", "win", 1)]),
    ("capital released after shift is no longer held",
     lambda g: g.down("shift").down("A", "A").up("shift").up("a", "a").tap("cmd"),
     [("type", "A"), ("press", "win", 1)]),
    ("caps lock", lambda g: g.tap("caps_lock").text("abc").down("shift").tap("D", "D")
     .up("shift").tap("caps_lock").text("e"), [("type", "ABCde")]),
    ("non-ascii comes from char", lambda g: g.tap("eacute", "é").tap("ß", "ß").tap("日", "日"),
     [("type", "éß日")]),
    ("caps lock leaves sharp s alone", lambda g: g.tap("caps_lock").tap("ß", "ß"),
     [("type", "ß")]),
    ("special keys are presses", lambda g: g.tap("esc").tap("f5").tap("page_down"),
     [("press", "esc", 1), ("press", "f5", 1), ("press", "pagedown", 1)]),
    ("lone super tap is a press", lambda g: g.tap("cmd"), [("press", "win", 1)]),
    ("lone shift tap is nothing", lambda g: g.tap("shift").tap("ctrl"), []),
    ("click flushes typing", lambda g: g.text("ab").click(3, 4).text("cd"),
     [("type", "ab"), ("click", 3, 4), ("type", "cd")]),
    ("long idle splits typing", lambda g: g.text("ab").wait(2500).text("cd"),
     [("type", "ab"), ("type", "cd")]),
    ("redacted keys leave their entity in the text run", lambda g: g.text("mail ")
     .add(ev.Control, op="redacted", reason="EMAIL_ADDRESS", info={"keys": 12}) and g.text(" now"),
     [("type", "mail <EMAIL_ADDRESS> now")]),
    ("redacted keys alone are a placeholder",
     lambda g: g.add(ev.Control, op="redacted", reason="CREDIT_CARD", info={"keys": 16}),
     [("type", "<CREDIT_CARD>")]),
    ("backspace after a placeholder removes all of it", lambda g: g.text("a")
     .add(ev.Control, op="redacted", reason="SECRET", info={"keys": 30}) and g.tap("backspace")
     .text("b"), [("type", "ab")]),
    ("redacted keys after enter start a new run", lambda g: g.text("to").tap("enter")
     .add(ev.Control, op="redacted", reason="CREDIT_CARD", info={"keys": 16}) and g.tap("enter"),
     [("type", "to"), ("press", "enter", 1), ("type", "<CREDIT_CARD>"), ("press", "enter", 1)]),
    ("pause forgets held modifiers", lambda g: g.down("ctrl").control("pause")
     .control("resume").text("a"), [("type", "a")]),
]


@pytest.mark.parametrize(("build", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_reduce_actions(build: Callable[[Log], object], expected: list[tuple[object, ...]]) -> None:
    log = Log().start().focus(1)
    build(log)
    assert reduce(log) == expected


def test_typing_across_a_focus_change_is_two_runs_in_two_windows() -> None:
    log = Log().start().focus(1, "Editor").text("ab").focus(2, "Mail").text("cd")
    actions = reduce_actions(log.events)
    assert [(a.text, a.window.app_id if a.window else None) for a in actions] == [
        ("ab", "Editor"), ("cd", "Mail")]


def test_title_change_of_the_same_window_does_not_split_typing() -> None:
    log = Log().start().focus(1, "Editor", "untitled").text("ab")
    log.focus(1, "Editor", "*untitled").text("cd")
    assert reduce(log) == [("type", "abcd")]


def test_natural_scrolling_is_applied_once() -> None:
    log = Log().start().scroll(5, 5, dy=2).scroll(5, 5, dx=-1)
    (action,) = reduce_actions(log.events, ActionConfig(natural_scrolling=True))
    assert (action.dx, action.dy) == (1, -2)


def test_caps_lock_already_in_char_is_not_applied_again() -> None:
    log = Log().start().tap("caps_lock").tap("A", "A")
    assert reduce(log, caps_lock_in_char=True) == [("type", "A")]


def test_drag_keeps_its_path_and_button() -> None:
    log = Log().start().drag([(10, 10), (30, 10), (60, 15)], button="right")
    (drag,) = reduce_actions(log.events)
    assert drag.button == "right"
    assert [(x, y) for _, x, y in drag.path] == [(10, 10), (30, 10), (60, 15), (60, 15)]
    assert drag.seqs == tuple(e.seq for e in log.events[1:])


def test_actions_point_back_to_their_raw_events() -> None:
    log = Log().start().focus(1).text("hi").combo("ctrl", "s").click(5, 5).click(5, 5)
    actions = reduce_actions(log.events)
    by_seq = {e.seq: e for e in log.events}
    typed, hotkey, double = actions
    assert [by_seq[s].char for s in typed.seqs] == ["h", "i"]
    assert [by_seq[s].key for s in hotkey.seqs] == ["ctrl", "s"]
    assert [by_seq[s].kind for s in double.seqs] == ["mouse_down", "mouse_up"] * 2
    for action in actions:
        assert list(action.seqs) == sorted(action.seqs)
        assert (action.first_seq, action.last_seq) == (action.seqs[0], action.seqs[-1])


def test_events_are_read_in_seq_order_and_never_mutated() -> None:
    log = Log().start().focus(1).text("ab").click(3, 3).frame("p1")
    shuffled = list(reversed(log.events))
    before = copy.deepcopy(shuffled)
    assert reduce_actions(shuffled) == reduce_actions(log.events)
    assert shuffled == before


def test_placeholder_points_back_to_the_redacted_control() -> None:
    log = Log().start().focus(1).text("pay ")
    marker = log.add(ev.Control, op="redacted", reason="CREDIT_CARD", info={"keys": 16})
    log.text(" ok")
    (typed,) = reduce_actions(log.events)
    assert typed.text == "pay <CREDIT_CARD> ok"
    assert marker.seq in typed.seqs and list(typed.seqs) == sorted(typed.seqs)


def test_actions_are_frozen() -> None:
    (action,) = reduce_actions(Log().start().click(1, 1).events)
    with pytest.raises(dataclasses.FrozenInstanceError):
        action.x = 2  # type: ignore[misc]


# -- waits ----------------------------------------------------------------------------------

def _idle(pixels: list[str], idle_ms: int = 3000, boundary: str | None = None) -> Log:
    log = Log().start().focus(1).frame(pixels[0]).click(10, 10)
    for p in pixels[1:]:
        log.wait(idle_ms // len(pixels)).frame(p)
    if boundary:
        log.control(boundary)
    return log.wait(idle_ms // len(pixels)).click(200, 200)


@pytest.mark.parametrize(
    ("pixels", "idle_ms", "boundary", "expected"),
    [
        (["a", "b"], 3000, None, ["click", "wait", "click"]),
        (["a", "a", "a"], 3000, None, ["click", "click"]),
        (["a", "b"], 1000, None, ["click", "click"]),
        (["a", "b"], 3000, "pause", ["click", "click"]),
        (["a"], 3000, None, ["click", "click"]),
    ],
    ids=["screen changed", "screen still", "too short", "pause inside", "no frame inside"],
)
def test_wait_needs_idle_time_and_a_visible_change(
    pixels: list[str], idle_ms: int, boundary: str | None, expected: list[str]
) -> None:
    actions = reduce_actions(_idle(pixels, idle_ms, boundary).events)
    assert [a.type for a in actions] == expected


def test_wait_spans_the_idle_gap_and_lists_its_frames() -> None:
    log = _idle(["a", "b", "c"])
    click, wait, second = reduce_actions(log.events)
    assert (wait.t_start, wait.t_end) == (click.t_end, second.t_start)
    frames = [e.seq for e in log.events if isinstance(e, ev.Frame)][1:]
    assert wait.seqs == tuple(frames)
