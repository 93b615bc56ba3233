from __future__ import annotations

import pytest

from apprentice.redact import build_redactor
from apprentice.redact.ocr_text import normalise_digits


@pytest.mark.parametrize(
    "ocr, fixed",
    [
        ("Card on file: 4111 1111 1111 111]|", "Card on file: 4111 1111 1111 1111 "),
        ("4l11 1111 I111 1111", "4111 1111 1111 1111"),
        ("IBAN DE89 37O4 0044 0532 0130 00", "IBAN DE89 3704 0044 0532 0130 00"),
    ],
)
def test_digit_look_alikes_in_numbers_are_fixed(ocr: str, fixed: str) -> None:
    assert normalise_digits(ocr) == fixed


@pytest.mark.parametrize(
    "text", ["Hello World", "version 1.2.3", "ISBN 978-3-16", "BOLD", "order #12345 total", "I like it"]
)
def test_words_and_plain_numbers_are_left_alone(text: str) -> None:
    assert normalise_digits(text) == text


def test_the_text_keeps_its_length_so_word_boxes_still_line_up() -> None:
    for text in ("a 4l1|", "||| 12|", "x 0O0O 1l1l|"):
        assert len(normalise_digits(text)) == len(text)


def test_a_card_read_next_to_a_cursor_is_found_after_normalising() -> None:
    redactor = build_redactor()
    ocr = "Card on file: 4111 1111 1111 111]|"
    assert not any(f.entity == "CREDIT_CARD" for f in redactor.findings(ocr))
    assert any(f.entity == "CREDIT_CARD" for f in redactor.findings(normalise_digits(ocr)))


def test_the_in_process_engine_reads_what_the_program_reads() -> None:
    import shutil

    import pytest
    from PIL import Image, ImageDraw, ImageFont

    from apprentice.redact.ocr import OcrUnavailable, TesseractApiOcr, TesseractOcr

    if shutil.which("tesseract") is None:
        pytest.skip("needs tesseract-ocr (apt-get install tesseract-ocr tesseract-ocr-eng)")
    try:
        api = TesseractApiOcr()
    except OcrUnavailable as exc:
        pytest.skip(f"needs tesserocr ({exc})")
    image = Image.new("L", (640, 80), 255)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 22)
    ImageDraw.Draw(image).text((10, 25), "Invoice for alice@example.org due Friday", fill=0, font=font)
    words_api = [w.text for w in api.words(image, timeout=30)]
    words_cli = [w.text for w in TesseractOcr().words(image, timeout=30)]
    assert "alice@example.org" in words_api
    assert words_api == words_cli


def test_a_canvas_without_text_reads_as_no_words_not_as_a_failure() -> None:
    """An emptied line (text deleted) must not cost the frame: libtesseract's iterator has
    an empty item there, which used to raise and drop the frame as ``ocr_failed``."""
    import shutil

    import pytest
    from PIL import Image

    from apprentice.redact.ocr import DEVICE_PSM, OcrUnavailable, TesseractApiOcr, TesseractOcr

    if shutil.which("tesseract") is None:
        pytest.skip("needs tesseract-ocr (apt-get install tesseract-ocr tesseract-ocr-eng)")
    try:
        engines = [TesseractApiOcr(), TesseractApiOcr(psm=DEVICE_PSM)]
    except OcrUnavailable as exc:
        pytest.skip(f"needs tesserocr ({exc})")
    blank = Image.new("L", (926, 104), 255)
    for engine in [*engines, TesseractOcr(psm=DEVICE_PSM)]:
        assert engine.words(blank, timeout=30) == []
