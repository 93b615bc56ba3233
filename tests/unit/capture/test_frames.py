"""The frame worker's bookkeeping of grabs: each is redacted at most once, its raw pixels
are let go once redacted and its redacted pixels once stored.

The OCR engines here are stand-ins (one finds no words, one always fails) because these
tests are about how often redaction runs and what the worker keeps, not about reading text;
real Tesseract runs in tests/unit/redact and the Xvfb integration tests.
"""

from __future__ import annotations

from PIL import Image

from apprentice import events as ev
from apprentice.capture.clock import Stamper
from apprentice.capture.config import CaptureConfig
from apprentice.capture.frames import FrameWorker, Grab
from apprentice.capture.screens._fake import ScreenSource as FakeScreen
from apprentice.redact.image import ScreenRedactor
from apprentice.redact.ocr import OcrError, Word
from apprentice.spool.codec import FrameBlob
from tests.support import make_gate

EDITOR = ev.WindowInfo(wid=1, app_id="Editor", process="editor", title="notes", bounds=ev.Rect(0, 0, 64, 48))


class CountingOcr:
    """Finds no words; counts how often it was asked."""

    def __init__(self, fail: bool = False) -> None:
        self.calls, self.fail = 0, fail

    def words(self, image: Image.Image, timeout: float) -> list[Word]:
        self.calls += 1
        if self.fail:
            raise OcrError("stand-in failure")
        return []


def worker(ocr: CountingOcr) -> tuple[FrameWorker, list[tuple[ev.Frame, FrameBlob | None]], list[str]]:
    delivered: list[tuple[ev.Frame, FrameBlob | None]] = []
    dropped: list[str] = []
    gate = make_gate(["Editor"])
    frames = FrameWorker(
        FakeScreen, Stamper(lambda event: None), lambda frame, blob: delivered.append((frame, blob)),
        CaptureConfig(), may_capture=lambda: True,
        screen_redactor=ScreenRedactor(gate.redactor, ocr=ocr),
        stacking=lambda: [EDITOR], window_allowed=gate.window_allowed, on_dropped=dropped.append,
    )
    return frames, delivered, dropped


def grab() -> Grab:
    screen = FakeScreen()
    monitor = screen.monitors()[0]
    return Grab(1, monitor, screen.grab(monitor), allowed=True, windows=[EDITOR])


def test_a_grab_is_redacted_once_and_its_buffers_are_released() -> None:
    ocr = CountingOcr()
    frames, delivered, _ = worker(ocr)
    g = grab()
    frames._commit(g, "pre", 1)
    assert ocr.calls == 1
    assert g.image is None  # the unredacted pixels are gone once redacted
    assert g.redacted is None  # and the redacted ones once encoded and stored
    assert g.pixels is not None
    frames._commit(g, "pre", 2)  # a second action before the next grab
    assert ocr.calls == 1
    assert [blob is not None for _, blob in delivered] == [True, False]
    assert delivered[0][0].blob == delivered[1][0].blob
    assert frames.stats.stored == 1 and frames.stats.deduplicated == 1


def test_a_rate_limited_grab_keeps_its_redacted_pixels_for_a_later_use() -> None:
    ocr = CountingOcr()
    frames, delivered, _ = worker(ocr)
    frames._bucket._tokens = 0.0
    frames._bucket._rate = 0.0
    g = grab()
    frames._commit(g, "pre", 1)
    assert frames.stats.rate_limited == 1 and not delivered
    assert g.redacted is not None and g.image is None
    frames._bucket._tokens = 1.0
    frames._commit(g, "post", 1)
    assert ocr.calls == 1
    assert len(delivered) == 1 and delivered[0][1] is not None


def test_a_grab_redaction_refused_is_not_read_again_and_never_stored() -> None:
    ocr = CountingOcr(fail=True)
    frames, delivered, dropped = worker(ocr)
    g = grab()
    frames._commit(g, "pre", 1)
    frames._commit(g, "pre", 2)
    assert ocr.calls == 1
    assert dropped == ["ocr_failed", "ocr_failed"]  # each use still records its gap
    assert not delivered
    assert frames.stats.redaction_dropped == 2
