from __future__ import annotations

import pytest

from apprentice.cli.tray_cmd import describe, icon_image


@pytest.mark.parametrize(
    "info, state, words",
    [
        ({"recording": True, "keys": True}, "recording", "recording"),
        ({"recording": True, "keys": False}, "recording", "keystrokes off"),
        ({"recording": False, "paused_until": "x", "pause_left_s": 125}, "paused", "3 min left"),
        ({"recording": False, "reason": "not_allowlisted"}, "off", "not_allowlisted"),
    ],
)
def test_every_state_has_its_own_icon_and_a_tooltip_that_says_why(info, state, words) -> None:  # type: ignore[no-untyped-def]
    got, tooltip = describe(info)
    assert got == state and words in tooltip


def test_icons_differ_by_state() -> None:
    images = {s: icon_image(s).tobytes() for s in ("recording", "paused", "off")}
    assert len(set(images.values())) == 3
