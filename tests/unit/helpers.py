"""Small builders shared by the unit tests."""

from __future__ import annotations

from typing import Any

from apprentice.capture.config import CaptureConfig
from apprentice.capture.inputs._fake import InputSource as FakeInput
from apprentice.capture.screens._fake import ScreenSource as FakeScreen
from apprentice.capture.session import CaptureSession
from apprentice.capture.window._fake import WindowSource as FakeWindow
from apprentice.events import Rect, WindowInfo
from apprentice.redact.image import ScreenRedactor
from apprentice.spool import SpoolSink, open_sink
from tests.support import make_gate


class NoTextOcr:
    """An OCR engine for unit tests that finds no words (the real one is Tesseract)."""

    def words(self, image, timeout):  # type: ignore[no-untyped-def]
        return []

EDITOR = WindowInfo(wid=1, app_id="Editor", process="editor", title="notes.txt", bounds=Rect(0, 0, 64, 48))
TERMINAL = WindowInfo(wid=2, app_id="Terminal", process="term", title="shell", bounds=Rect(0, 0, 64, 48))


def fake_session(spool_dir, config: CaptureConfig | None = None, window: WindowInfo | None = EDITOR,
                 apps: tuple[str, ...] = ("Editor", "Terminal"), element_sources: tuple = (),
                 **sink_args: Any):  # type: ignore[no-untyped-def]
    sink: SpoolSink = open_sink(spool_dir, **sink_args)
    inputs, windows, screen = FakeInput(), FakeWindow(window), FakeScreen()
    gate = make_gate(list(apps))
    session = CaptureSession(
        sink, inputs, windows, lambda: screen, gate,
        config or CaptureConfig(refresh_interval=0.05, settle_delay=0.01),
        screen_redactor=ScreenRedactor(gate.redactor, ocr=NoTextOcr()),
        element_sources=element_sources,
    )
    return session, inputs, windows, screen, sink
