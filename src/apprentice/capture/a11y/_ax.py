"""macOS Accessibility (AX): not implemented yet — this backend refuses to start, clearly.

The intended shape (docs/accessibility.md): ``AXUIElementCopyElementAtPosition`` on the
system-wide element for pointer queries and ``kAXFocusedUIElementAttribute`` for focus
queries, keeping only elements whose ``kAXWindowAttribute`` is the queried window, with
``AXUIElementSetMessagingTimeout`` set to the query's timeout; ``AXRole`` → role,
``AXTitle``/``AXDescription`` → name, ``AXSecureTextField`` subrole → ``password``. It needs
the Accessibility permission. No Mac runs this repository's tests, so the backend refuses
and the recorder runs without element context (a warning says so).
"""

from __future__ import annotations

from apprentice.capture.base import ElementInfo, ElementQuery
from apprentice.errors import CaptureError


class ElementSource:
    def __init__(self) -> None:
        raise CaptureError(
            "the macOS Accessibility backend is not implemented in this version; recording "
            "goes on without UI element context (see docs/accessibility.md)"
        )

    def element(self, query: ElementQuery, timeout_s: float) -> ElementInfo | None:
        return None

    def close(self) -> None:
        pass
