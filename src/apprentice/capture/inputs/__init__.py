"""Input backends (keyboard and mouse hooks), chosen when the agent starts.

``pynput`` covers X11, Windows and macOS through one library; only X11 is tested here
(the Windows and macOS paths are pynput's own and documented as untested in this repo).
``fake`` replays a scripted list of events for unit tests.
"""

from __future__ import annotations

import importlib

from apprentice.capture.base import InputSource
from apprentice.errors import CaptureError, ConfigError

_BACKENDS = {"pynput": "._pynput", "fake": "._fake"}


def open_input_source(name: str = "pynput") -> InputSource:
    """Return the named input backend (imported now, not before)."""
    if name not in _BACKENDS:
        raise ConfigError(f"unknown input backend {name!r}; choose from {sorted(_BACKENDS)}")
    try:
        module = importlib.import_module(_BACKENDS[name], __package__)
    except ImportError as exc:
        raise CaptureError(
            f"input backend {name!r} cannot start: {exc}. Install the agent extra "
            "(pip install 'apprentice[agent]') and run inside an X11 session."
        ) from exc
    source: InputSource = module.InputSource()
    return source
