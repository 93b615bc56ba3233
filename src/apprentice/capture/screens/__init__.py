"""Screen backends: ``mss`` (X11, Windows, macOS; X11 tested here) and ``fake`` for tests."""

from __future__ import annotations

import importlib

from apprentice.capture.base import ScreenSource
from apprentice.errors import CaptureError, ConfigError

_BACKENDS = {"mss": "._mss", "fake": "._fake"}


def open_screen_source(name: str = "mss") -> ScreenSource:
    if name not in _BACKENDS:
        raise ConfigError(f"unknown screen backend {name!r}; choose from {sorted(_BACKENDS)}")
    try:
        module = importlib.import_module(_BACKENDS[name], __package__)
        source: ScreenSource = module.ScreenSource()
    except ImportError as exc:
        raise CaptureError(f"screen backend {name!r} cannot start: {exc}") from exc
    return source
