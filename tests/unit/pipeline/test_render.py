"""Rendering: pyautogui code (absolute and normalised) and computer_13 JSON."""

from __future__ import annotations

import ast

import pytest

from apprentice import events as ev
from apprentice.pipeline.model import Action
from apprentice.pipeline.render import render_computer13, render_pyautogui

S = 1_000_000_000


def act(kind: str, **fields: object) -> Action:
    return Action(kind, 0, int(fields.pop("ns", 0)), (1,), **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("action", "code"),
    [
        (act("click", x=10, y=20, button="left"), "pyautogui.click(x=10, y=20)"),
        (act("double_click", x=1, y=2), "pyautogui.doubleClick(x=1, y=2)"),
        (act("triple_click", x=1, y=2), "pyautogui.tripleClick(x=1, y=2)"),
        (act("right_click", x=1, y=2), "pyautogui.rightClick(x=1, y=2)"),
        (act("middle_click", x=1, y=2), "pyautogui.middleClick(x=1, y=2)"),
        (act("click", x=1, y=2, modifiers=("ctrl", "shift")),
         "pyautogui.keyDown('ctrl')\npyautogui.keyDown('shift')\npyautogui.click(x=1, y=2)\n"
         "pyautogui.keyUp('shift')\npyautogui.keyUp('ctrl')"),
        (act("drag", x=1, y=2, end_x=30, end_y=40, button="left", ns=S // 2),
         "pyautogui.moveTo(x=1, y=2)\npyautogui.dragTo(x=30, y=40, duration=0.5, button='left')"),
        (act("long_press", x=5, y=6, button="left", ns=S),
         "pyautogui.mouseDown(x=5, y=6, button='left')\ntime.sleep(1.0)\n"
         "pyautogui.mouseUp(x=5, y=6, button='left')"),
        (act("scroll", x=5, y=6, dy=-3), "pyautogui.scroll(-3, x=5, y=6)"),
        (act("scroll", x=5, y=6, dx=2, dy=1),
         "pyautogui.scroll(1, x=5, y=6)\npyautogui.hscroll(2, x=5, y=6)"),
        (act("type", text="it's \"quoted\" \\ back"),
         "pyautogui.write('it\\'s \"quoted\" \\\\ back')"),
        (act("press", key="enter"), "pyautogui.press('enter')"),
        (act("press", key="left", count=3), "pyautogui.press('left', presses=3)"),
        (act("press", key="left", modifiers=("shift",)), "pyautogui.hotkey('shift', 'left')"),
        (act("press", key="down", modifiers=("shift",), count=2),
         "pyautogui.keyDown('shift')\npyautogui.press('down', presses=2)\npyautogui.keyUp('shift')"),
        (act("hotkey", key="s", modifiers=("ctrl",)), "pyautogui.hotkey('ctrl', 's')"),
        (act("wait", ns=5 * S // 2), "time.sleep(2.5)"),
        (act("done"), "DONE"),
        (act("fail"), "FAIL"),
    ],
)
def test_absolute_pyautogui(action: Action, code: str) -> None:
    assert render_pyautogui(action) == code
    ast.parse(code)


@pytest.mark.parametrize(
    "text", ["'", '"', "\\", "'''", "\n", "\x00", "é日本", "a\\nb", "${x}", "'); import os; ('"]
)
def test_any_text_renders_as_one_parsable_literal(text: str) -> None:
    code = render_pyautogui(act("type", text=text))
    call = ast.parse(code).body[0].value  # type: ignore[attr-defined]
    assert len(ast.parse(code).body) == 1
    assert ast.literal_eval(call.args[0]) == text


def test_normalised_coordinates_use_four_decimals_of_the_frame() -> None:
    frame = ev.Rect(1920, 0, 1920, 1080)
    action = act("click", x=1920 + 960, y=270)
    assert render_pyautogui(action, frame=frame) == "pyautogui.click(x=0.5000, y=0.2500)"
    drag = act("drag", x=1920, y=0, end_x=3839, end_y=1079, button="left", ns=S)
    assert render_pyautogui(drag, frame=frame) == (
        "pyautogui.moveTo(x=0.0000, y=0.0000)\n"
        "pyautogui.dragTo(x=0.9995, y=0.9991, duration=1.0, button='left')"
    )


def test_super_is_command_on_macos() -> None:
    action = act("hotkey", key="space", modifiers=("win",))
    assert render_pyautogui(action, platform="darwin") == "pyautogui.hotkey('command', 'space')"
    assert render_pyautogui(action) == "pyautogui.hotkey('win', 'space')"


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (act("click", x=1, y=2), [("CLICK", {"button": "left", "x": 1, "y": 2, "num_clicks": 1})]),
        (act("triple_click", x=1, y=2),
         [("CLICK", {"button": "left", "x": 1, "y": 2, "num_clicks": 3})]),
        (act("middle_click", x=1, y=2),
         [("CLICK", {"button": "middle", "x": 1, "y": 2, "num_clicks": 1})]),
        (act("double_click", x=1, y=2), [("DOUBLE_CLICK", {"x": 1, "y": 2})]),
        (act("right_click", x=1, y=2), [("RIGHT_CLICK", {"x": 1, "y": 2})]),
        (act("drag", x=1, y=2, end_x=3, end_y=4, button="left"),
         [("MOVE_TO", {"x": 1, "y": 2}), ("DRAG_TO", {"x": 3, "y": 4})]),
        (act("drag", x=1, y=2, end_x=3, end_y=4, button="right"),
         [("MOVE_TO", {"x": 1, "y": 2}), ("MOUSE_DOWN", {"button": "right"}),
          ("MOVE_TO", {"x": 3, "y": 4}), ("MOUSE_UP", {"button": "right"})]),
        (act("scroll", x=1, y=2, dx=0, dy=-5),
         [("MOVE_TO", {"x": 1, "y": 2}), ("SCROLL", {"dx": 0, "dy": -5})]),
        (act("type", text="hi"), [("TYPING", {"text": "hi"})]),
        (act("press", key="enter", count=2), [("PRESS", {"key": "enter"})] * 2),
        (act("press", key="space"), [("PRESS", {"key": " "})]),
        (act("hotkey", key="t", modifiers=("ctrl", "shift")),
         [("HOTKEY", {"keys": ["ctrl", "shift", "t"]})]),
        (act("click", x=1, y=2, modifiers=("shift",)),
         [("KEY_DOWN", {"key": "shift"}),
          ("CLICK", {"button": "left", "x": 1, "y": 2, "num_clicks": 1}),
          ("KEY_UP", {"key": "shift"})]),
        (act("wait"), [("WAIT", {})]),
        (act("done"), [("DONE", {})]),
        (act("fail"), [("FAIL", {})]),
    ],
)
def test_computer13(action: Action, expected: list[tuple[str, dict[str, object]]]) -> None:
    got = [(a["action_type"], a["parameters"]) for a in render_computer13(action)]
    assert got == expected
