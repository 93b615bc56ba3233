from __future__ import annotations

import pytest

from apprentice.capture.inputs import open_input_source
from apprentice.capture.platform import check_recordable, platform_name
from apprentice.capture.screens import open_screen_source
from apprentice.capture.window import open_window_source
from apprentice.errors import ConfigError, UnsupportedPlatform


@pytest.mark.skipif(platform_name() != "linux-x11", reason="X11 rules apply on Linux only")
@pytest.mark.parametrize(
    "env",
    [{"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, {"XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0"}],
)
def test_wayland_is_refused_with_an_explanation(env: dict[str, str]) -> None:
    with pytest.raises(UnsupportedPlatform, match="Wayland.*X11"):
        check_recordable(env)


def test_no_display_is_refused_with_what_to_do() -> None:
    with pytest.raises(UnsupportedPlatform, match="--display"):
        check_recordable({})


def test_an_x11_session_is_accepted() -> None:
    assert check_recordable({"DISPLAY": ":1"}) == "linux-x11"


@pytest.mark.parametrize("opener", [open_input_source, open_screen_source, open_window_source])
def test_unknown_backends_name_the_valid_choices(opener) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="choose from"):
        opener("teleport")


def test_importing_capture_needs_no_display() -> None:
    import apprentice.capture  # noqa: F401  (DISPLAY is unset by the clean_environ fixture)

    assert open_window_source("fake").active() is None


def test_importing_capture_loads_no_hook_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys, apprentice.capture; "
        "sys.exit(any(m in sys.modules for m in ('pynput', 'mss', 'Xlib')))"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
