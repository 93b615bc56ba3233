"""Accessibility backends (the UI element under the pointer or with focus), chosen at start.

``atspi`` (Linux) speaks AT-SPI over D-Bus with a pure-Python client and is tested here on
Xvfb with real GTK applications. ``uia`` (Windows UI Automation) and ``ax`` (macOS
Accessibility) stand behind the same :class:`~apprentice.capture.base.ElementSource`
protocol and are **untested in this repository** (see docs/accessibility.md); ``fake``
answers from a script, for unit tests.
"""

from __future__ import annotations

import importlib
import sys

from apprentice.capture.base import ElementSource
from apprentice.errors import CaptureError, ConfigError

_BACKENDS = {"atspi": "._atspi", "uia": "._uia", "ax": "._ax", "fake": "._fake"}


def _platform_default() -> str:
    if sys.platform == "win32":
        return "uia"
    if sys.platform == "darwin":
        return "ax"
    return "atspi"


def open_element_source(name: str = "auto") -> ElementSource:
    """Return the accessibility backend for this machine, or the one named.

    Raises :class:`CaptureError` when the backend cannot start here (no accessibility bus,
    missing library); the recorder then runs without element context.
    """
    if name == "auto":
        name = _platform_default()
    if name not in _BACKENDS:
        raise ConfigError(f"unknown accessibility backend {name!r}; choose from {sorted(_BACKENDS)}")
    try:
        module = importlib.import_module(_BACKENDS[name], __package__)
    except ImportError as exc:
        raise CaptureError(
            f"accessibility backend {name!r} cannot start: {exc}. Install the agent extra "
            "(pip install 'apprentice[agent]')."
        ) from exc
    source: ElementSource = module.ElementSource()
    return source
