"""Windows window context (pywinctl). UNTESTED here: see _pywinctl.py."""

from apprentice.capture.window._pywinctl import WindowSource

__all__ = ["WindowSource"]
