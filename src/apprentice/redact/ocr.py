"""Word boxes from screen pixels with Tesseract, for screenshot redaction (DESIGN promise 2).

Threat: the image handed to OCR is an *unredacted* screenshot, and what OCR returns is
the very text redaction must hide. Both must stay in this process's memory. So the
``tesseract`` binary is run directly, reading the image from stdin and writing TSV to
stdout: nothing touches the disk. (pytesseract 0.3.13 was rejected for this reason: it
saves its input as ``/tmp/tess_*_input.PNG`` and lets Tesseract write ``/tmp/tess_*.tsv``,
both mode 0644 under the usual umask, and leaves them behind if the process is killed.)

Tesseract runs with a hard timeout (the child is killed) and on one core
(``OMP_THREAD_LIMIT=1``). Failures raise :class:`OcrError` whose message never contains
recognised text or Tesseract's output; the caller drops the frame (fail closed). The
model is the system's ``eng`` traineddata (Debian ``tesseract-ocr-eng``); nothing is
downloaded at run time.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Protocol

from PIL import Image

from apprentice.errors import ApprenticeError

#: Page segmentation mode 3 (automatic layout, no orientation detection): on stacked
#: screen regions it keeps multi-word values (card numbers, ``key = value``) on one line,
#: where the sparse mode (11) reorders and splits them.
DEFAULT_PSM = 3
#: The recorder's mode, 6 (one uniform block of text): the canvas screenshot redaction
#: builds is already bands of whole lines, so automatic layout analysis buys nothing, and on
#: the redaction benchmark mode 6 filled every planted value (183 of 183) where mode 3 left
#: 4 partly readable, for the same CPU (docs/benchmarks.md, "Screenshot redaction").
DEVICE_PSM = 6


class OcrError(ApprenticeError):
    """OCR failed; the message names the failure kind only, never content."""


class OcrUnavailable(OcrError):
    """The Tesseract binary or its language data is not installed."""


class OcrTimeout(OcrError):
    """OCR did not finish within its time budget (the child process was killed)."""


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word and its box in the pixels of the image given to OCR."""

    left: int
    top: int
    width: int
    height: int
    text: str


class OcrEngine(Protocol):
    def words(self, image: Image.Image, timeout: float) -> list[Word]:
        """Every word found in ``image`` (mode ``L``), in any order.

        Raises :class:`OcrTimeout` if it takes longer than ``timeout`` seconds and
        :class:`OcrError` for any other failure. Must not keep, log or write the image
        or the text anywhere.
        """


class TesseractOcr:
    """The ``tesseract`` command line, fed through pipes.

    Raises:
        OcrUnavailable: the binary is not on ``PATH`` (install ``tesseract-ocr`` and
            ``tesseract-ocr-eng``).
    """

    def __init__(self, lang: str = "eng", psm: int = DEFAULT_PSM, binary: str = "tesseract") -> None:
        path = shutil.which(binary)
        if path is None:
            raise OcrUnavailable(
                "tesseract is not installed; install tesseract-ocr and tesseract-ocr-eng "
                "(screenshots are dropped until it is)"
            )
        self._argv = [path, "stdin", "stdout", "-l", lang, "--oem", "1", "--psm", str(psm), "tsv"]
        self._env = {"PATH": os.environ.get("PATH", ""), "OMP_THREAD_LIMIT": "1"}
        if "TESSDATA_PREFIX" in os.environ:
            self._env["TESSDATA_PREFIX"] = os.environ["TESSDATA_PREFIX"]

    def words(self, image: Image.Image, timeout: float) -> list[Word]:
        if timeout <= 0:
            raise OcrTimeout("no time left for OCR")
        buffer = io.BytesIO()
        image.save(buffer, "PNG", compress_level=0)
        try:
            done = subprocess.run(
                self._argv, input=buffer.getvalue(), capture_output=True,
                timeout=timeout, env=self._env, check=False,
            )
        except subprocess.TimeoutExpired:
            raise OcrTimeout(f"OCR exceeded {timeout:.2f} s") from None
        except OSError as exc:
            raise OcrUnavailable(f"tesseract could not be started ({type(exc).__name__})") from None
        if done.returncode != 0:
            # stderr is not shown: it is diagnostic text we do not need to trust or keep.
            raise OcrError(f"tesseract exited with status {done.returncode}")
        return parse_tsv(done.stdout)


_TESSDATA_DIRS = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
)


class TesseractApiOcr:
    """libtesseract in this process (through tesserocr), with the model loaded once.

    Four times cheaper per frame than starting the ``tesseract`` program (measured ~40 ms
    against ~160 ms on a 700×120 region), because start-up dominates small regions. The
    image never leaves memory. A library call cannot be killed, so the time limit is checked
    when it returns: an overrun raises OcrTimeout and the frame is dropped; a call that never
    returns stalls only the frame worker (no frame is stored meanwhile), never input capture.
    Used from one thread only.

    Raises:
        OcrUnavailable: tesserocr or the English model is not installed.
    """

    def __init__(
        self,
        lang: str = "eng",
        tessdata: str | None = None,
        *,
        psm: int = DEFAULT_PSM,
        variables: dict[str, str] | None = None,
    ) -> None:
        try:
            import tesserocr
        except ImportError:
            raise OcrUnavailable("tesserocr is not installed") from None
        folder = tessdata or os.environ.get("TESSDATA_PREFIX") or next(
            (d for d in _TESSDATA_DIRS if os.path.exists(os.path.join(d, f"{lang}.traineddata"))), None
        )
        if folder is None:
            raise OcrUnavailable("no Tesseract model found; install tesseract-ocr-eng")
        self._tesserocr = tesserocr
        try:
            self._api = tesserocr.PyTessBaseAPI(
                path=folder.rstrip("/") + "/", lang=lang,
                psm=psm, oem=tesserocr.OEM.LSTM_ONLY, variables=dict(variables or {}),
            )
        except RuntimeError:
            raise OcrUnavailable("libtesseract could not load its model") from None

    def words(self, image: Image.Image, timeout: float) -> list[Word]:
        import time

        if timeout <= 0:
            raise OcrTimeout("no time left for OCR")
        level = self._tesserocr.RIL.WORD
        started = time.monotonic()
        try:
            self._api.SetImage(image)
            self._api.Recognize()
            found: list[Word] = []
            for item in self._tesserocr.iterate_level(self._api.GetIterator(), level):
                if item.Empty(level):  # a page without text (GetUTF8Text would raise)
                    continue
                text = (item.GetUTF8Text(level) or "").strip()
                box = item.BoundingBox(level)
                if text and box is not None:
                    x1, y1, x2, y2 = box
                    if x2 > x1 and y2 > y1:
                        found.append(Word(x1, y1, x2 - x1, y2 - y1, text))
        except RuntimeError:
            raise OcrError("libtesseract failed") from None
        finally:
            self._api.Clear()
        if time.monotonic() - started > timeout:
            raise OcrTimeout(f"OCR exceeded {timeout:.2f} s")
        return found


def default_ocr() -> OcrEngine:
    """The fastest Tesseract available: the library if installed, else the program."""
    try:
        return TesseractApiOcr()
    except OcrUnavailable:
        return TesseractOcr()


def device_ocr() -> OcrEngine:
    """:func:`default_ocr` as the recorder's screenshot redaction uses it (:data:`DEVICE_PSM`).

    Raises:
        OcrUnavailable: neither tesserocr nor the ``tesseract`` program is installed.
    """
    try:
        return TesseractApiOcr(psm=DEVICE_PSM)
    except OcrUnavailable:
        return TesseractOcr(psm=DEVICE_PSM)


def parse_tsv(data: bytes) -> list[Word]:
    """Words (level 5 rows with text) from Tesseract's TSV output.

    Raises:
        OcrError: the output is not Tesseract TSV.
    """
    lines = data.decode("utf-8", errors="replace").splitlines()
    if not lines or not lines[0].startswith("level\t"):
        raise OcrError("tesseract output is not TSV")
    words: list[Word] = []
    for row in lines[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5":
            continue
        text = "\t".join(cells[11:]).strip()
        if not text:
            continue
        try:
            left, top, width, height = (int(c) for c in cells[6:10])
        except ValueError:
            raise OcrError("tesseract TSV has a malformed box") from None
        if width > 0 and height > 0:
            words.append(Word(left, top, width, height, text))
    return words
