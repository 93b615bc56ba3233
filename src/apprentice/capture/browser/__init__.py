"""Browser context from the apprentice Chromium extension (``extensions/chromium/``).

    extension ──native messaging──▶ host (``apprentice browser-host``) ──Unix socket──▶
    listener ──▶ BrowserContext ──▶ BrowserWindows (URL, private windows → the gate)
                                └─▶ BrowserElementSource (clicked / focused element)

:func:`open_browser_context` starts the recorder's side. Nothing here stores what it
receives; the recorder stamps only what the gate allows, after redaction. See
``docs/browser.md``.
"""

from __future__ import annotations

from apprentice.capture.browser.context import BrowserContext
from apprentice.capture.browser.elements import BrowserElementSource
from apprentice.capture.browser.windows import BrowserWindows

__all__ = ["BrowserContext", "BrowserElementSource", "BrowserWindows"]
