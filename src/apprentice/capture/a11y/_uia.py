"""Windows UI Automation: not implemented yet — this backend refuses to start, clearly.

The intended shape (docs/accessibility.md): ``IUIAutomation.ElementFromPoint`` for pointer
queries and ``GetFocusedElement`` for focus queries, keeping only elements whose top-level
ancestor's native window handle is the queried window; ``ControlType`` → role,
``Name``, ``BoundingRectangle``, ``IsPassword`` → the ``password`` state; each call on a
worker thread bounded by the query's timeout. No Windows machine runs this repository's
tests, so rather than ship untested COM code the backend refuses and the recorder runs
without element context (a warning says so).
"""

from __future__ import annotations

from apprentice.capture.base import ElementInfo, ElementQuery
from apprentice.errors import CaptureError


class ElementSource:
    def __init__(self) -> None:
        raise CaptureError(
            "the Windows UI Automation backend is not implemented in this version; recording "
            "goes on without UI element context (see docs/accessibility.md)"
        )

    def element(self, query: ElementQuery, timeout_s: float) -> ElementInfo | None:
        return None

    def close(self) -> None:
        pass
