"""A scripted input source for tests: replays (kind, fields) pairs when told to."""

from __future__ import annotations

from typing import Any

from apprentice.capture.base import InputCallback


class InputSource:
    def __init__(self, script: list[tuple[str, dict[str, Any]]] | None = None) -> None:
        self.script = list(script or [])
        self._emit: InputCallback | None = None

    def start(self, emit: InputCallback) -> None:
        self._emit = emit

    def play(self, script: list[tuple[str, dict[str, Any]]] | None = None) -> None:
        """Deliver the script (or the one given at construction) synchronously."""
        assert self._emit is not None, "start() first"
        for kind, fields in script if script is not None else self.script:
            self._emit(kind, dict(fields))

    def stop(self) -> None:
        self._emit = None
