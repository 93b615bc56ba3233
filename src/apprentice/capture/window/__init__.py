"""Window-context backends, chosen when the agent starts (never at import).

``xorg`` is tested here on Xvfb with openbox. ``win32`` and ``darwin`` implement the same
protocol with the platforms' own APIs and are **untested in this repository** (no such
machine is available to CI); they are kept honest by the shared protocol, not by faking.
"""

from __future__ import annotations

import importlib
import os
import sys

from apprentice.capture.base import WindowSource
from apprentice.errors import CaptureError, ConfigError

_BACKENDS = {"xorg": "._xorg", "win32": "._win32", "darwin": "._darwin", "fake": "._fake"}


def _platform_default() -> str:
    if sys.platform == "win32":
        return "win32"
    if sys.platform == "darwin":
        return "darwin"
    return "xorg"


def open_window_source(name: str = "auto") -> WindowSource:
    """Return the window-context backend for this machine, or the one named."""
    if name == "auto":
        name = os.environ.get("APPRENTICE_WINDOW_BACKEND") or _platform_default()
    if name not in _BACKENDS:
        raise ConfigError(f"unknown window backend {name!r}; choose from {sorted(_BACKENDS)}")
    try:
        module = importlib.import_module(_BACKENDS[name], __package__)
    except ImportError as exc:
        raise CaptureError(
            f"window backend {name!r} cannot start: {exc}. Install the agent extra "
            "(pip install 'apprentice[agent]')."
        ) from exc
    source: WindowSource = module.WindowSource()
    return source
