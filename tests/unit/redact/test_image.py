"""Screenshot redaction: window masking, OCR text redaction, change-only OCR, failing closed.

Text is rendered with DejaVu Sans at a readable size, dark on light (and once light on
dark). Tests that run real OCR need the ``tesseract`` binary and skip without it; CI
installs it through scripts/setup.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from apprentice.events import Monitor, RawImage, Rect, WindowInfo
from apprentice.redact import build_redactor
from apprentice.redact.base import Finding
from apprentice.redact.image import (
    MASK_BGRA,
    WINDOW,
    FrameDropped,
    ScreenRedactor,
    mask_windows,
    redact_frame,
    redact_text_regions,
)
from apprentice.redact.ocr import OcrError, OcrTimeout, OcrUnavailable, TesseractOcr, Word, parse_tsv

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None,
    reason="needs the tesseract binary (apt-get install tesseract-ocr tesseract-ocr-eng)",
)

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SCREEN = Rect(0, 0, 640, 400)
EMAIL = "alice.smith@example.com"
CARD = "4111 1111 1111 1111"
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
MASK = np.array(MASK_BGRA, dtype=np.uint8)

EDITOR = WindowInfo(wid=1, app_id="Editor", bounds=Rect(0, 0, 640, 400))
CHAT = WindowInfo(wid=2, app_id="Chat", bounds=Rect(400, 100, 200, 150))


def only_editor(window: WindowInfo) -> bool:
    return window.app_id == "Editor"


def screen(
    texts: list[tuple[int, int, str]] = (),  # type: ignore[assignment]
    size: tuple[int, int] = (640, 400),
    background: tuple[int, int, int] = (245, 245, 245),
    ink: tuple[int, int, int] = (20, 20, 20),
) -> Image.Image:
    picture = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(picture)
    font = ImageFont.truetype(FONT, 18)
    for x, y, text in texts:
        draw.text((x, y), text, fill=ink, font=font)
    return picture


def raw(picture: Image.Image) -> RawImage:
    return RawImage(picture.width, picture.height, picture.convert("RGBA").tobytes("raw", "BGRA"))


def pixels(image: RawImage) -> np.ndarray:
    return np.frombuffer(image.bgra, dtype=np.uint8).reshape(image.height, image.width, 4)


def picture_of(image: RawImage) -> Image.Image:
    return Image.frombuffer("RGB", (image.width, image.height), image.bgra, "raw", "BGRX", 0, 1)


def masked(area: np.ndarray) -> bool:
    return bool((area == MASK).all())


def read_text(image: RawImage) -> str:
    words = TesseractOcr().words(picture_of(image).convert("L"), timeout=30)
    return " ".join(w.text for w in words)


@dataclass
class SpyOcr:
    """Counts OCR calls and canvas sizes; reads with ``inner`` or finds no words."""

    inner: TesseractOcr | None = None
    sizes: list[tuple[int, int]] = field(default_factory=list)

    def words(self, image: Image.Image, timeout: float) -> list[Word]:
        self.sizes.append(image.size)
        return self.inner.words(image, timeout) if self.inner else []


@dataclass
class FailingOcr:
    error: Exception

    def words(self, image: Image.Image, timeout: float) -> list[Word]:
        raise self.error


# -- windows ---------------------------------------------------------------------------------


def test_non_allowlisted_window_is_fully_masked_and_counted() -> None:
    out, counts = mask_windows(raw(screen()), SCREEN, [EDITOR, CHAT], only_editor)
    px = pixels(out)
    assert masked(px[100:250, 400:600])
    assert not masked(px[0:100, 0:400])
    assert counts == {WINDOW: 1}


def test_desktop_outside_allowlisted_windows_is_masked() -> None:
    editor = WindowInfo(wid=1, app_id="Editor", bounds=Rect(100, 50, 300, 200))
    out, counts = mask_windows(raw(screen()), SCREEN, [editor], only_editor)
    px = pixels(out)
    assert masked(px[:50]) and masked(px[250:]) and masked(px[:, :100]) and masked(px[:, 400:])
    assert (px[50:250, 100:400] != MASK).any(axis=2).all()
    assert counts == {}


def test_when_no_window_is_allowlisted_then_everything_is_masked() -> None:
    out, counts = mask_windows(raw(screen()), SCREEN, [EDITOR, CHAT], lambda w: False)
    assert masked(pixels(out))
    assert counts == {WINDOW: 2}


def test_allowlisted_window_is_masked_where_a_non_allowlisted_one_covers_it() -> None:
    out, _ = mask_windows(raw(screen()), SCREEN, [EDITOR, CHAT], only_editor)
    px = pixels(out)
    assert masked(px[100:250, 400:600])  # the chat, above the editor
    assert (px[100:250, 390:400] != MASK).any(axis=2).all()  # the editor just beside it


def test_allowlisted_window_on_top_shows_over_a_non_allowlisted_one() -> None:
    chat = WindowInfo(wid=2, app_id="Chat", bounds=Rect(0, 0, 640, 400))
    editor = WindowInfo(wid=1, app_id="Editor", bounds=Rect(100, 100, 200, 100))
    out, counts = mask_windows(raw(screen()), SCREEN, [chat, editor], only_editor)
    px = pixels(out)
    assert (px[100:200, 100:300] != MASK).any(axis=2).all()
    assert masked(px[:100]) and masked(px[200:])
    assert counts == {WINDOW: 1}


def test_window_hidden_under_an_allowlisted_one_is_not_counted() -> None:
    hidden = WindowInfo(wid=3, app_id="Chat", bounds=Rect(10, 10, 50, 50))
    _, counts = mask_windows(raw(screen()), SCREEN, [hidden, EDITOR], only_editor)
    assert counts == {}


def test_second_monitor_with_scale_factor_maps_root_pixels_to_image_pixels() -> None:
    monitor = Rect(1280, 0, 320, 200)  # image is 640x400: scale 2
    editor = WindowInfo(wid=1, app_id="Editor", bounds=Rect(1280, 0, 160, 200))  # left half
    out, _ = mask_windows(raw(screen()), monitor, [editor], only_editor)
    px = pixels(out)
    assert (px[:, :320] != MASK).any(axis=2).all()
    assert masked(px[:, 320:])


def test_window_on_another_monitor_does_not_touch_this_one() -> None:
    elsewhere = WindowInfo(wid=2, app_id="Chat", bounds=Rect(2000, 0, 500, 500))
    out, counts = mask_windows(raw(screen()), SCREEN, [EDITOR, elsewhere], only_editor)
    assert not (pixels(out) == MASK).all(axis=2).any()
    assert counts == {}


def test_when_a_non_allowlisted_window_has_unknown_bounds_then_the_frame_is_dropped() -> None:
    ghost = WindowInfo(wid=9, app_id="Chat", bounds=None)
    with pytest.raises(FrameDropped) as info:
        mask_windows(raw(screen()), SCREEN, [EDITOR, ghost], only_editor)
    assert info.value.reason == "window_geometry_unknown"


def test_allowlisted_window_with_unknown_bounds_shows_nothing() -> None:
    ghost = WindowInfo(wid=9, app_id="Editor", bounds=None)
    out, _ = mask_windows(raw(screen()), SCREEN, [ghost], only_editor)
    assert masked(pixels(out))


def test_when_the_policy_predicate_fails_then_the_frame_is_dropped() -> None:
    def broken(window: WindowInfo) -> bool:
        raise RuntimeError("policy exploded")

    with pytest.raises(FrameDropped) as info:
        mask_windows(raw(screen()), SCREEN, [EDITOR], broken)
    assert info.value.reason == "policy_failed"


@pytest.mark.parametrize(
    "image",
    [RawImage(10, 10, b"\0" * 399), RawImage(0, 10, b""), RawImage(10, 10, "x" * 400)],  # type: ignore[arg-type]
    ids=["short_buffer", "zero_width", "not_bytes"],
)
def test_when_the_image_is_malformed_then_the_frame_is_dropped(image: RawImage) -> None:
    with pytest.raises(FrameDropped) as info:
        mask_windows(image, SCREEN, [EDITOR], only_editor)
    assert info.value.reason == "bad_image"


# -- text (real OCR) ----------------------------------------------------------------------------


@needs_tesseract
def test_email_card_and_aws_key_in_an_allowlisted_window_are_filled() -> None:
    picture = screen([
        (20, 20, f"Contact: {EMAIL} for access"),
        (20, 60, f"Card {CARD} exp 12/29"),
        (20, 100, f"aws_access_key_id = {AWS_KEY}"),
        (20, 140, "The quick brown fox jumps over the lazy dog"),
    ])
    before = read_text(raw(picture))
    assert EMAIL in before and CARD in before and AWS_KEY in before  # the fixture is readable

    result = redact_frame(raw(picture), SCREEN, [EDITOR], only_editor, build_redactor())

    after = read_text(result.image)
    for gone in ("alice", "smith", "example.com", "4111", "1111", "AKIA", "EXAMPLE"):
        assert gone not in after
    assert "quick brown fox" in after and "Contact" in after
    assert result.masked == {"EMAIL_ADDRESS": 1, "CREDIT_CARD": 1, "SECRET": 1}


@needs_tesseract
def test_light_text_on_a_dark_background_is_redacted_too() -> None:
    picture = screen([(20, 20, f"mail {EMAIL} now")], background=(30, 30, 30), ink=(220, 220, 220))
    result = redact_frame(raw(picture), SCREEN, [EDITOR], only_editor, build_redactor())
    assert result.masked == {"EMAIL_ADDRESS": 1}
    assert "example" not in read_text(result.image)


@needs_tesseract
def test_text_in_a_non_allowlisted_window_is_masked_not_read() -> None:
    picture = screen([(420, 150, "ssh key"), (20, 20, "plain words only")])
    spy = SpyOcr(TesseractOcr())
    result = redact_frame(raw(picture), SCREEN, [EDITOR, CHAT], only_editor, build_redactor(), ocr=spy)
    assert masked(pixels(result.image)[100:250, 400:600])
    assert result.masked == {WINDOW: 1}
    assert "ssh" not in read_text(result.image)


@needs_tesseract
def test_only_the_changed_area_is_read_again_and_earlier_findings_stay_filled() -> None:
    redactor, spy = build_redactor(), SpyOcr(TesseractOcr())
    first = screen([(20, 20, f"Contact: {EMAIL} for access"), (20, 60, "nothing to see")])
    one = redact_frame(raw(first), SCREEN, [EDITOR], only_editor, redactor, ocr=spy)
    assert spy.sizes[0][1] >= SCREEN.height  # the first frame is read whole

    second = first.copy()
    font = ImageFont.truetype(FONT, 18)
    ImageDraw.Draw(second).text((20, 300), f"Card {CARD}", fill=(20, 20, 20), font=font)
    two = redact_frame(raw(second), SCREEN, [EDITOR], only_editor, redactor, one.state, ocr=spy)

    assert len(spy.sizes) == 2
    height = spy.sizes[1][1]
    assert height <= 32 + 2 * 8 + 2 * 12 + 32  # one tile row, its context, the canvas border
    assert all(box[1] >= 250 for box in two.ocr_boxes)  # nowhere near the email
    assert two.masked == {"EMAIL_ADDRESS": 1, "CREDIT_CARD": 1}
    after = read_text(two.image)
    assert "example" not in after and "4111" not in after

    three = redact_frame(raw(second), SCREEN, [EDITOR], only_editor, redactor, two.state, ocr=spy)
    assert len(spy.sizes) == 2  # nothing changed: no OCR at all
    assert three.masked == two.masked
    assert three.image.bgra == two.image.bgra


@needs_tesseract
def test_a_change_that_cuts_a_known_line_rereads_the_whole_line() -> None:
    redactor, spy = build_redactor(), SpyOcr(TesseractOcr())
    first = screen([(20, 44, f"Reach me at {EMAIL} today")])  # ink from y 48 to about 65
    one = redact_frame(raw(first), SCREEN, [EDITOR], only_editor, redactor, ocr=spy)
    # A spell-check underline appears below the line: only tile row 2 (y 64..96) changes,
    # so the changed area starts at y 56 and would cut the email in half.
    second = first.copy()
    ImageDraw.Draw(second).line([(20, 70), (120, 70)], fill=(200, 0, 0), width=2)
    two = redact_frame(raw(second), SCREEN, [EDITOR], only_editor, redactor, one.state, ocr=spy)
    (box,) = two.ocr_boxes
    assert box[0] == 0 and box[2] == SCREEN.width  # across the window
    assert box[1] <= 50  # grown up to the top of the known line
    assert two.masked == {"EMAIL_ADDRESS": 1}
    assert "alice" not in read_text(two.image)


@needs_tesseract
def test_redact_text_regions_reads_only_the_regions_given() -> None:
    picture = screen([(20, 20, f"mail {EMAIL}"), (20, 300, f"card {CARD}")])
    result = redact_text_regions(raw(picture), [(0, 0, 640, 200)], build_redactor(), ocr=TesseractOcr())
    assert result.counts == {"EMAIL_ADDRESS": 1}
    assert result.ocr_boxes == ((0, 0, 640, 200),)


# -- change detection without OCR ------------------------------------------------------------------


def test_unchanged_frame_is_not_read_and_a_one_tile_change_reads_one_strip() -> None:
    spy = SpyOcr()
    picture = screen()
    one = redact_frame(raw(picture), SCREEN, [EDITOR], only_editor, build_redactor(), ocr=spy)
    two = redact_frame(raw(picture), SCREEN, [EDITOR], only_editor, build_redactor(), one.state, ocr=spy)
    assert len(spy.sizes) == 1 and two.ocr_boxes == ()

    changed = picture.copy()
    changed.putpixel((100, 200), (0, 0, 0))
    three = redact_frame(raw(changed), SCREEN, [EDITOR], only_editor, build_redactor(), two.state, ocr=spy)
    assert len(spy.sizes) == 2
    (box,) = three.ocr_boxes
    assert box == (0, 192 - 8, 640, 224 + 8)  # tile row 6, with context, across the window


def test_change_in_a_non_allowlisted_window_is_not_read() -> None:
    spy = SpyOcr()
    one = redact_frame(raw(screen()), SCREEN, [EDITOR, CHAT], only_editor, build_redactor(), ocr=spy)
    changed = screen([(420, 150, "new message")])
    redact_frame(raw(changed), SCREEN, [EDITOR, CHAT], only_editor, build_redactor(), one.state, ocr=spy)
    assert len(spy.sizes) == 1


def test_new_window_layout_is_read_where_it_changed() -> None:
    spy = SpyOcr()
    one = redact_frame(raw(screen()), SCREEN, [EDITOR, CHAT], only_editor, build_redactor(), ocr=spy)
    two = redact_frame(raw(screen()), SCREEN, [EDITOR], only_editor, build_redactor(), one.state, ocr=spy)
    assert len(spy.sizes) == 2
    assert two.ocr_boxes == ((0, 96 - 8, 640, 256 + 8),)  # the tile rows the chat covered


# -- failing closed -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (OcrTimeout("slow"), "ocr_timeout"),
        (OcrUnavailable("gone"), "ocr_unavailable"),
        (OcrError("status 1"), "ocr_failed"),
        (MemoryError(), "ocr_failed"),
    ],
)
def test_when_ocr_fails_then_the_frame_is_dropped(error: Exception, reason: str) -> None:
    with pytest.raises(FrameDropped) as info:
        redact_frame(raw(screen()), SCREEN, [EDITOR], only_editor, build_redactor(), ocr=FailingOcr(error))
    assert info.value.reason == reason
    assert info.value.__suppress_context__


class LeakyRedactor:
    def findings(self, text: str) -> list[Finding]:
        raise ValueError(f"cannot handle {text!r}")


class Reads:
    """An OCR engine that 'reads' a fixed secret wherever it is asked."""

    def words(self, image: Image.Image, timeout: float) -> list[Word]:
        return [Word(12, 12, 80, 14, AWS_KEY)]


def test_when_the_redactor_fails_then_the_frame_is_dropped_without_the_text() -> None:
    with pytest.raises(FrameDropped) as info:
        redact_frame(raw(screen()), SCREEN, [EDITOR], only_editor, LeakyRedactor(), ocr=Reads())
    assert info.value.reason == "redactor_failed"
    assert AWS_KEY not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_when_the_time_budget_is_exceeded_then_the_frame_is_dropped() -> None:
    now = [0.0]

    class Slow:
        def words(self, image: Image.Image, timeout: float) -> list[Word]:
            assert timeout == pytest.approx(1.0)
            now[0] += 1.5
            return []

    with pytest.raises(FrameDropped) as info:
        redact_frame(raw(screen()), SCREEN, [EDITOR], only_editor, build_redactor(),
                     ocr=Slow(), budget=1.0, clock=lambda: now[0])
    assert info.value.reason == "over_budget"


@needs_tesseract
def test_when_tesseract_runs_past_its_timeout_then_it_is_killed_and_the_frame_dropped() -> None:
    picture = screen([(20, 20 + 30 * i, f"line {i} of some text to read") for i in range(12)])
    with pytest.raises(FrameDropped) as info:
        redact_frame(raw(picture), SCREEN, [EDITOR], only_editor, build_redactor(), budget=0.05)
    assert info.value.reason == "ocr_timeout"


def test_when_tesseract_is_missing_then_frames_are_dropped(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(OcrUnavailable):
        TesseractOcr()
    with pytest.raises(FrameDropped) as info:
        redact_frame(raw(screen()), SCREEN, [EDITOR], only_editor, build_redactor())
    assert info.value.reason == "ocr_unavailable"


def test_screen_redactor_keeps_the_last_good_state_when_a_frame_is_dropped() -> None:
    spy = SpyOcr()
    failing: list[Exception] = []

    class Flaky:
        def words(self, image: Image.Image, timeout: float) -> list[Word]:
            if failing:
                raise failing.pop()
            return spy.words(image, timeout)

    monitor = Monitor(index=0, bounds=SCREEN, primary=True)
    redactor = ScreenRedactor(build_redactor(), ocr=Flaky())
    redactor.redact(raw(screen()), monitor, [EDITOR], only_editor)
    changed = screen([(20, 20, "x")])
    failing.append(OcrTimeout("slow"))
    with pytest.raises(FrameDropped):
        redactor.redact(raw(changed), monitor, [EDITOR], only_editor)
    redactor.redact(raw(changed), monitor, [EDITOR], only_editor)  # re-reads the change
    assert len(spy.sizes) == 2 and spy.sizes[1][1] < SCREEN.height
    redactor.forget()
    redactor.redact(raw(changed), monitor, [EDITOR], only_editor)
    assert spy.sizes[2][1] >= SCREEN.height


def test_when_something_unexpected_fails_then_the_frame_is_dropped() -> None:
    odd = WindowInfo(wid=5, app_id="Chat", bounds=Rect("x", 0, 10, 10))  # type: ignore[arg-type]
    with pytest.raises(FrameDropped) as info:
        redact_frame(raw(screen()), SCREEN, [EDITOR, odd], only_editor, build_redactor(), ocr=SpyOcr())
    assert info.value.reason == "internal_error"


def test_a_frame_of_another_size_is_read_whole() -> None:
    spy = SpyOcr()
    one = redact_frame(raw(screen()), SCREEN, [EDITOR], only_editor, build_redactor(), ocr=spy)
    small = Rect(0, 0, 320, 200)
    two = redact_frame(raw(screen(size=(320, 200))), small, [EDITOR], only_editor, build_redactor(),
                       one.state, ocr=spy)
    assert two.ocr_boxes == ((0, 0, 320, 200),)


def test_remembered_state_holds_boxes_and_entity_names_never_text() -> None:
    result = redact_frame(raw(screen()), SCREEN, [EDITOR], only_editor, build_redactor(), ocr=Reads())
    assert result.masked == {"SECRET": 1}
    state = result.state
    assert [entity for entity, _ in state.findings] == ["SECRET"]
    boxes = list(state.lines) + [b for _, group in state.findings for b in group]
    assert all(isinstance(v, int) for box in boxes for v in box)
    assert AWS_KEY not in repr(state)


def test_nothing_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    redact_frame(raw(screen()), SCREEN, [EDITOR, CHAT], only_editor, build_redactor(), ocr=Reads())
    assert caplog.records == []


# -- Tesseract output ------------------------------------------------------------------------------


def test_parse_tsv_keeps_words_with_text_and_a_box() -> None:
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [
        "1\t1\t0\t0\t0\t0\t0\t0\t640\t400\t-1\t",
        "5\t1\t1\t1\t1\t1\t10\t20\t30\t12\t96.5\thello",
        "5\t1\t1\t1\t1\t2\t50\t20\t30\t12\t95.0\t ",
        "5\t1\t1\t1\t1\t3\t90\t20\t0\t12\t95.0\tempty",
    ]
    assert parse_tsv("\n".join([header, *rows]).encode()) == [Word(10, 20, 30, 12, "hello")]


@pytest.mark.parametrize(
    "data",
    [b"", b"not tsv", b"level\tx\n5\t1\t1\t1\t1\t1\tL\t20\t30\t12\t96\tword"],
    ids=["empty", "not_tsv", "bad_box"],
)
def test_parse_tsv_rejects_what_is_not_tesseract_output(data: bytes) -> None:
    with pytest.raises(OcrError) as info:
        parse_tsv(data)
    assert "word" not in str(info.value)


def test_ocr_with_no_time_left_times_out_without_starting() -> None:
    if shutil.which("tesseract") is None:
        pytest.skip("needs the tesseract binary (apt-get install tesseract-ocr tesseract-ocr-eng)")
    with pytest.raises(OcrTimeout):
        TesseractOcr().words(Image.new("L", (10, 10), 255), timeout=0)
