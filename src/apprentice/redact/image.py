"""Screenshot redaction on the device, before a frame is encoded (DESIGN promise 2).

Threats, and what stops each:

* **Other windows on screen.** A screenshot shows every window, not just the allowlisted
  one in focus: a chat beside the editor, a notification, a password manager, the
  desktop. :func:`mask_windows` is default-deny: a pixel survives only if the top-most
  window there (by stacking order) is allowlisted; everything else — non-allowlisted
  windows, the parts of an allowlisted window they cover, the desktop — is filled with a
  solid colour. A non-allowlisted window whose geometry is unknown cannot be masked, so
  the frame is dropped.
* **Secrets and personal data inside allowlisted windows** (an email in a form, a card
  number, an API key in a terminal). :func:`redact_text_regions` reads the text with
  OCR (:mod:`apprentice.redact.ocr`), runs the same text redactor that typed text goes
  through, and fills the box of every word that is part of a finding.
* **Failure.** If OCR or the redactor is unavailable, fails, or exceeds the time budget,
  :class:`FrameDropped` is raised and the caller drops the frame and records a gap;
  the unredacted frame is never passed on. Nothing here logs, and no exception carries
  pixels or text (only a reason code).

Cost follows the change, not the screen size: each frame is diffed in tiles against the
previous frame of the same monitor (as OCR saw it: windows masked, in greyscale), changed
tiles are merged into rectangles, widened to the allowlisted window they fall in (so a
whole line of text is read, not a fragment) and to any line found before that they cut,
and only those are OCR'd — all in one Tesseract run, stacked on one canvas. Findings in
unchanged areas are carried over from the previous frame. What is remembered between
frames (:class:`TextState`) is pixels and boxes, never recognised text.

Limits: OCR misses text it cannot read (tiny, low-contrast or stylised fonts, text in
images), so this lowers, and does not remove, the chance of leaving a value readable;
the redactor's own recall applies on top.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from PIL import Image

from apprentice.errors import ApprenticeError
from apprentice.events import Monitor, RawImage, Rect, WindowInfo
from apprentice.redact.base import Finding
from apprentice.redact.ocr import (
    OcrEngine,
    OcrError,
    OcrTimeout,
    OcrUnavailable,
    TesseractOcr,
    Word,
    device_ocr,
)
from apprentice.redact.ocr_text import normalise_digits

#: The fill of masked pixels, as B, G, R, A: a flat mid grey, distinct from both light
#: and dark themes and free of any texture OCR could read.
MASK_BGRA = (128, 128, 128, 255)
#: Count key for non-allowlisted windows masked in a frame.
WINDOW = "WINDOW"
#: Seconds one frame may take, OCR and redactor included, before it is dropped.
DEFAULT_BUDGET = 3.0
#: Side of the square tiles frames are compared in, in pixels.
DEFAULT_TILE = 32

_CONTEXT = 8  # pixels of context added around a changed area before OCR
_BORDER = 12  # white border and gap between regions on the OCR canvas
_FILL_PAD = 2  # pixels added around a word box when it is filled (anti-aliasing fringe)
_JOINERS = ".@_-+"  # OCR often splits "alice.smith@x" at these; rejoin without a space
# A word *starting* with "+" is usually a phone number's country code ("call +44 …"): joining
# it to the word before ("call+44") would hide the number from the phone recognizer.
_LEADING_JOINERS = ".@_-"

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in image pixels, half-open


class FrameDropped(ApprenticeError):
    """This frame must not be stored; record a gap with :attr:`reason` instead.

    ``reason`` is one of ``bad_image``, ``window_geometry_unknown``, ``policy_failed``,
    ``ocr_unavailable``, ``ocr_failed``, ``ocr_timeout``, ``redactor_failed``,
    ``over_budget``, ``internal_error``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"frame dropped by redaction: {reason}")
        self.reason = reason


class TextFinder(Protocol):
    """What screenshot redaction needs of the text redactor (:class:`Redactor` has it)."""

    def findings(self, text: str) -> list[Finding]: ...


@dataclass(frozen=True, slots=True)
class TextState:
    """What one redacted frame leaves for the next: the pixels OCR saw (greyscale, windows
    masked), the boxes of the text lines found, and the boxes of each finding with its
    entity. Never any text."""

    gray: np.ndarray = field(repr=False)
    lines: tuple[Box, ...]
    findings: tuple[tuple[str, tuple[Box, ...]], ...]


@dataclass(frozen=True, slots=True)
class TextResult:
    """Output of :func:`redact_text_regions`; ``ocr_boxes`` are the areas OCR read."""

    image: RawImage
    counts: dict[str, int]
    state: TextState
    ocr_boxes: tuple[Box, ...]


@dataclass(frozen=True, slots=True)
class RedactedFrame:
    """A frame safe to encode, what was masked (counts by type, never content), and the
    state to pass as ``previous`` with the next frame of the same monitor."""

    image: RawImage
    masked: dict[str, int]
    state: TextState
    ocr_boxes: tuple[Box, ...] = ()


# -- windows ------------------------------------------------------------------------------


def mask_windows(
    image: RawImage,
    monitor_bounds: Rect,
    visible_windows: Sequence[WindowInfo],
    allowed: Callable[[WindowInfo], bool],
) -> tuple[RawImage, dict[str, int]]:
    """Fill every pixel not shown by an allowlisted window; return the image and counts.

    ``visible_windows`` are the top-level windows in stacking order, bottom to top, with
    bounds in root pixels; ``monitor_bounds`` is the area ``image`` shows (its size may
    differ by the monitor's scale factor). ``counts`` is ``{"WINDOW": n}`` for the ``n``
    non-allowlisted windows with visible pixels on this monitor (empty if none).

    Raises:
        FrameDropped: the image is malformed, ``allowed`` failed, or a non-allowlisted
            window has no known bounds.
    """
    pixels = _pixels(image)
    _, counts = _mask_windows(pixels, monitor_bounds, visible_windows, allowed)
    return _raw(pixels), counts


def _mask_windows(
    pixels: np.ndarray,
    monitor_bounds: Rect,
    windows: Sequence[WindowInfo],
    allowed: Callable[[WindowInfo], bool],
) -> tuple[list[Box], dict[str, int]]:
    """Mask ``pixels`` in place; return the visible boxes of allowlisted windows, counts."""
    height, width = pixels.shape[:2]
    if monitor_bounds.width <= 0 or monitor_bounds.height <= 0:
        raise FrameDropped("bad_image")
    sx, sy = width / monitor_bounds.width, height / monitor_bounds.height
    # Windows are painted bottom to top, so each pixel ends up with the top-most window's
    # index and verdict. Rectangle slices keep this to a few memsets per window (cost
    # follows the number of windows, not a per-pixel gather).
    owner = np.full((height, width), -1, dtype=np.int16 if len(windows) < 32767 else np.int32)
    keep = np.zeros((height, width), dtype=bool)  # the desktop (no window) is masked
    verdicts: list[bool] = []
    boxes: list[Box | None] = []
    for index, window in enumerate(windows):
        try:
            ok = bool(allowed(window))
        except Exception:  # a policy that cannot decide allows nothing
            raise FrameDropped("policy_failed") from None
        if window.bounds is None:
            if not ok:
                raise FrameDropped("window_geometry_unknown")
            verdicts.append(ok)
            boxes.append(None)
            continue
        # Allowlisted windows round inwards, others outwards: a fractional pixel is masked.
        box = _to_image(window.bounds, monitor_bounds, sx, sy, width, height, inward=ok)
        verdicts.append(ok)
        boxes.append(box)
        if box is not None:
            x0, y0, x1, y1 = box
            owner[y0:y1, x0:x1] = index
            keep[y0:y1, x0:x1] = ok
    # One 32-bit word per pixel: filling through a uint32 view avoids broadcasting a
    # 4-byte colour over a boolean index (several times slower on a full screen).
    words = pixels.view(np.uint32).reshape(height, width)
    fill = np.frombuffer(bytes(MASK_BGRA), dtype=np.uint32)[0]
    np.copyto(words, fill, where=~keep)
    allowed_boxes: list[Box] = []
    masked_windows = 0
    for index, box in enumerate(boxes):
        if box is None:
            continue
        x0, y0, x1, y1 = box
        mine = owner[y0:y1, x0:x1] == index
        if not mine.any():
            continue
        if verdicts[index]:
            rows, cols = np.flatnonzero(mine.any(axis=1)), np.flatnonzero(mine.any(axis=0))
            allowed_boxes.append((x0 + int(cols[0]), y0 + int(rows[0]),
                                  x0 + int(cols[-1]) + 1, y0 + int(rows[-1]) + 1))
        else:
            masked_windows += 1
    return allowed_boxes, ({WINDOW: masked_windows} if masked_windows else {})


def _to_image(
    bounds: Rect, monitor: Rect, sx: float, sy: float, width: int, height: int, *, inward: bool
) -> Box | None:
    fx0, fy0 = (bounds.x - monitor.x) * sx, (bounds.y - monitor.y) * sy
    fx1, fy1 = fx0 + bounds.width * sx, fy0 + bounds.height * sy
    if inward:
        x0, y0, x1, y1 = int(np.ceil(fx0)), int(np.ceil(fy0)), int(np.floor(fx1)), int(np.floor(fy1))
    else:
        x0, y0, x1, y1 = int(np.floor(fx0)), int(np.floor(fy0)), int(np.ceil(fx1)), int(np.ceil(fy1))
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    return (x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None


# -- text ---------------------------------------------------------------------------------


def redact_text_regions(
    image: RawImage,
    region_boxes: Sequence[Box],
    redactor: TextFinder,
    previous: TextState | None = None,
    *,
    ocr: OcrEngine,
    timeout: float = DEFAULT_BUDGET,
    tile: int = DEFAULT_TILE,
    clock: Callable[[], float] = time.monotonic,
) -> TextResult:
    """OCR the text inside ``region_boxes`` and fill every word that is part of a finding.

    ``region_boxes`` are the visible areas of allowlisted windows in image pixels
    (x0, y0, x1, y1); pixels outside them are expected to be masked already. With
    ``previous`` (the state of the last frame of this monitor) only what changed is
    read again. ``counts`` has one entry per entity type found, current and carried over.

    Raises:
        FrameDropped: OCR or the redactor failed, or ``timeout`` seconds passed.
    """
    pixels = _pixels(image)
    deadline = clock() + timeout
    counts, state, ocr_boxes = _redact_text(
        pixels, list(region_boxes), redactor, previous, ocr, deadline, clock, tile
    )
    return TextResult(_raw(pixels), counts, state, ocr_boxes)


def _redact_text(
    pixels: np.ndarray,
    region_boxes: list[Box],
    redactor: TextFinder,
    previous: TextState | None,
    ocr: OcrEngine,
    deadline: float,
    clock: Callable[[], float],
    tile: int,
) -> tuple[dict[str, int], TextState, tuple[Box, ...]]:
    height, width = pixels.shape[:2]
    gray = _gray(pixels)
    regions = [b for b in region_boxes if b[0] < b[2] and b[1] < b[3]]
    if previous is None or previous.gray.shape != gray.shape:  # read every allowed pixel
        kept_lines: list[Box] = []
        kept_findings: list[tuple[str, tuple[Box, ...]]] = []
        to_read = _merge(regions, 0)
    else:
        changed = _changed_boxes(previous.gray, gray, tile)
        invalid = _widen(changed, regions, previous, width, height)
        kept_lines = [b for b in previous.lines if not _hits(b, invalid)]
        kept_findings = [f for f in previous.findings if not any(_hits(b, invalid) for b in f[1])]
        to_read = _merge([c for r in invalid for b in regions if (c := _clip(r, b))], 0)

    new_lines: list[Box] = []
    new_findings: list[tuple[str, tuple[Box, ...]]] = []
    if to_read:
        words = _read(gray, to_read, ocr, deadline - clock())
        lines = _lines(words)
        text, spans = _text(lines)
        try:
            # Read as OCR'd and with digit look-alikes fixed ("111]|" next to a cursor).
            found = (redactor.findings(text) + redactor.findings(normalise_digits(text))) if text else []
        except Exception:  # fail closed; the exception may quote the text, so drop it
            raise FrameDropped("redactor_failed") from None
        new_lines = [_bbox([w[0] for w in line]) for line in lines]
        new_findings = _groups(found, spans)
    if clock() > deadline:
        raise FrameDropped("over_budget")

    findings = kept_findings + new_findings
    counts: dict[str, int] = {}
    for entity, boxes in findings:
        counts[entity] = counts.get(entity, 0) + 1
        for x0, y0, x1, y1 in boxes:
            pixels[max(y0 - _FILL_PAD, 0):y1 + _FILL_PAD, max(x0 - _FILL_PAD, 0):x1 + _FILL_PAD] = MASK_BGRA
    state = TextState(gray, tuple(kept_lines + new_lines), tuple(findings))
    return counts, state, tuple(to_read)


def _changed_boxes(before: np.ndarray, after: np.ndarray, tile: int) -> list[Box]:
    """Rectangles (merged runs of changed tiles, with some context) that differ."""
    height, width = after.shape
    rows, cols = -(-height // tile), -(-width // tile)
    diff = np.zeros((rows * tile, cols * tile), dtype=bool)
    diff[:height, :width] = before != after
    changed = diff.reshape(rows, tile, cols, tile).any(axis=(1, 3))
    boxes: list[Box] = []
    for ty in np.flatnonzero(changed.any(axis=1)):
        line = changed[ty]
        edges = np.flatnonzero(np.diff(np.concatenate(([0], line.astype(np.int8), [0]))))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            boxes.append((
                max(int(start) * tile - _CONTEXT, 0), max(int(ty) * tile - _CONTEXT, 0),
                min(int(stop) * tile + _CONTEXT, width), min((int(ty) + 1) * tile + _CONTEXT, height),
            ))
    return _merge(boxes, 0)


def _widen(
    changed: list[Box], regions: list[Box], previous: TextState, width: int, height: int
) -> list[Box]:
    """Grow changed areas to whole lines: across the allowlisted window they fall in, and
    over every earlier line or finding they touch, until nothing more is touched."""
    grown: list[Box] = []
    for box in changed:
        inside = [r for r in regions if _overlaps(box, r)]
        if inside:
            x0, x1 = min(r[0] for r in inside), max(r[2] for r in inside)
            box = (min(box[0], x0), box[1], max(box[2], x1), box[3])
        grown.append(box)
    known = list(previous.lines) + [b for _, boxes in previous.findings for b in boxes]
    while True:
        grown = _merge(grown, 0)
        extra = [b for b in known if _hits(b, grown) and not _within(b, grown)]
        if not extra:
            return grown
        grown += [_clip(b, (0, 0, width, height)) or b for b in extra]


def _read(gray: np.ndarray, boxes: list[Box], ocr: OcrEngine, timeout: float) -> list[tuple[Box, str]]:
    """OCR ``boxes`` of ``gray`` in one run; words with boxes in image pixels."""
    height = sum(b[3] - b[1] for b in boxes) + _BORDER * (len(boxes) + 1)
    if height > 2 * gray.shape[0] + 2 * _BORDER:  # many tall regions: read their union once
        boxes = [_bbox(boxes)]
        height = boxes[0][3] - boxes[0][1] + 2 * _BORDER
    width = max(b[2] - b[0] for b in boxes) + 2 * _BORDER
    canvas = np.full((height, width), 255, dtype=np.uint8)
    bands: list[tuple[int, Box]] = []
    top = _BORDER
    for box in boxes:
        x0, y0, x1, y1 = box
        crop = gray[y0:y1, x0:x1]
        if crop.mean() < 128:  # dark theme: Tesseract reads dark text on light best
            crop = 255 - crop
        canvas[top:top + y1 - y0, _BORDER:_BORDER + x1 - x0] = crop
        bands.append((top, box))
        top += y1 - y0 + _BORDER
    try:
        words = ocr.words(Image.fromarray(canvas), timeout)
    except OcrTimeout:
        raise FrameDropped("ocr_timeout") from None
    except OcrUnavailable:
        raise FrameDropped("ocr_unavailable") from None
    except OcrError:
        raise FrameDropped("ocr_failed") from None
    except Exception:  # an engine bug is still a failure to redact
        raise FrameDropped("ocr_failed") from None
    out: list[tuple[Box, str]] = []
    for word in words:
        out.append((_place(word, bands), word.text))
    return out


def _place(word: Word, bands: list[tuple[int, Box]]) -> Box:
    """Map a word box on the canvas back to image pixels, via the band nearest its centre."""
    centre = word.top + word.height / 2

    def distance(band: tuple[int, Box]) -> float:
        top, (_, y0, _, y1) = band
        bottom = top + y1 - y0
        return 0.0 if top <= centre < bottom else min(abs(centre - top), abs(centre - bottom))

    top, (x0, y0, x1, y1) = min(bands, key=distance)
    left, upper = x0 + word.left - _BORDER, y0 + word.top - top
    box = (max(left, x0), max(upper, y0), min(left + word.width, x1), min(upper + word.height, y1))
    # A word outside every band (OCR noise in the border) keeps a one-pixel box in its band.
    return box if box[0] < box[2] and box[1] < box[3] else (x0, y0, x0 + 1, y0 + 1)


def _lines(words: list[tuple[Box, str]]) -> list[list[tuple[Box, str]]]:
    """Group words into lines by vertical overlap, each line left to right."""
    lines: list[list[tuple[Box, str]]] = []
    spans: list[tuple[int, int]] = []
    for word in sorted(words, key=lambda w: (w[0][1], w[0][0])):
        (_, y0, _, y1) = word[0]
        for i, (top, bottom) in enumerate(spans):
            if min(y1, bottom) - max(y0, top) >= 0.5 * min(y1 - y0, bottom - top):
                lines[i].append(word)
                spans[i] = (min(top, y0), max(bottom, y1))
                break
        else:
            lines.append([word])
            spans.append((y0, y1))
    return [sorted(line, key=lambda w: w[0][0]) for line in lines]


def _text(lines: list[list[tuple[Box, str]]]) -> tuple[str, list[tuple[int, int, Box, int]]]:
    """Join lines into one text; spans give each word's (start, end, box, line number)."""
    parts: list[str] = []
    spans: list[tuple[int, int, Box, int]] = []
    cursor = 0
    for number, line in enumerate(lines):
        if number:
            parts.append("\n")
            cursor += 1
        previous = ""
        for box, word in line:
            if previous and not (previous[-1] in _JOINERS or word[0] in _LEADING_JOINERS):
                parts.append(" ")
                cursor += 1
            parts.append(word)
            spans.append((cursor, cursor + len(word), box, number))
            cursor += len(word)
            previous = word
    return "".join(parts), spans


def _groups(
    found: list[Finding], spans: list[tuple[int, int, Box, int]]
) -> list[tuple[str, tuple[Box, ...]]]:
    """One group per cluster of overlapping findings (named as the redactor names it: the
    longest, then highest scoring, finding), with the box of its words on each line."""
    groups: list[tuple[str, tuple[Box, ...]]] = []
    for start, end, entity in _clusters(found):
        per_line: dict[int, list[Box]] = {}
        for w_start, w_end, box, line in spans:
            if w_start < end and start < w_end:
                per_line.setdefault(line, []).append(box)
        if per_line:
            groups.append((entity, tuple(_bbox(boxes) for boxes in per_line.values())))
    return groups


def _clusters(found: Iterable[Finding]) -> list[tuple[int, int, str]]:
    ordered = sorted(found, key=lambda f: (f.start, -f.end))
    out: list[tuple[int, int, str]] = []
    for f in ordered:
        if out and f.start < out[-1][1]:
            start, end, winner = out[-1]
            out[-1] = (start, max(end, f.end), _stronger(f, winner))
        else:
            out.append((f.start, f.end, f))
    return [(start, end, winner.entity) for start, end, winner in out]


def _stronger(a: Finding, b: Finding) -> Finding:
    return a if (a.end - a.start, a.score) > (b.end - b.start, b.score) else b


# -- the frame ----------------------------------------------------------------------------


def redact_frame(
    image: RawImage,
    monitor_bounds: Rect,
    visible_windows: Sequence[WindowInfo],
    allowed: Callable[[WindowInfo], bool],
    redactor: TextFinder,
    previous: TextState | None = None,
    *,
    ocr: OcrEngine | None = None,
    budget: float = DEFAULT_BUDGET,
    tile: int = DEFAULT_TILE,
    clock: Callable[[], float] = time.monotonic,
) -> RedactedFrame:
    """Mask non-allowlisted windows, then redact text in what is left, within ``budget``.

    Arguments are those of :func:`mask_windows` and :func:`redact_text_regions`;
    ``ocr`` defaults to :class:`~apprentice.redact.ocr.TesseractOcr`.

    Raises:
        FrameDropped: the frame must be dropped and a gap recorded (fail closed). This is
            the only exception it raises: any other failure is turned into one.
    """
    try:
        deadline = clock() + budget
        pixels = _pixels(image)
        regions, masked = _mask_windows(pixels, monitor_bounds, visible_windows, allowed)
        if ocr is None:
            try:
                ocr = TesseractOcr()
            except OcrUnavailable:
                raise FrameDropped("ocr_unavailable") from None
        counts, state, ocr_boxes = _redact_text(
            pixels, regions, redactor, previous, ocr, deadline, clock, tile
        )
        for entity, n in counts.items():
            masked[entity] = masked.get(entity, 0) + n
        return RedactedFrame(_raw(pixels), masked, state, ocr_boxes)
    except FrameDropped:
        raise
    except Exception:  # a bug here must cost the frame, never pass it through unredacted
        raise FrameDropped("internal_error") from None


class ScreenRedactor:
    """Redacts frames monitor by monitor, remembering each monitor's last redacted frame
    so only changes are read again. Used from one thread (the frame worker).

    Raises:
        OcrUnavailable: (from the constructor) Tesseract is not installed.
    """

    def __init__(
        self,
        redactor: TextFinder,
        *,
        ocr: OcrEngine | None = None,
        budget: float = DEFAULT_BUDGET,
        tile: int = DEFAULT_TILE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redactor = redactor
        self._ocr = ocr if ocr is not None else device_ocr()
        self._budget, self._tile, self._clock = budget, tile, clock
        self._states: dict[int, TextState] = {}

    def redact(
        self,
        image: RawImage,
        monitor: Monitor,
        visible_windows: Sequence[WindowInfo],
        allowed: Callable[[WindowInfo], bool],
    ) -> RedactedFrame:
        """:func:`redact_frame` with this monitor's previous state; raises FrameDropped."""
        result = redact_frame(
            image, monitor.bounds, visible_windows, allowed, self._redactor,
            self._states.get(monitor.index), ocr=self._ocr, budget=self._budget,
            tile=self._tile, clock=self._clock,
        )
        self._states[monitor.index] = result.state
        return result

    def forget(self) -> None:
        """Drop remembered frames (on pause, or when the policy or redactor changes)."""
        self._states.clear()


# -- pixels and boxes ---------------------------------------------------------------------


def _pixels(image: RawImage) -> np.ndarray:
    """A writable (height, width, 4) copy of the BGRA pixels, over a ``bytearray`` that
    :func:`_raw` hands on without copying again (one 4-byte-a-pixel buffer less a frame)."""
    if (
        not isinstance(image.width, int) or not isinstance(image.height, int)
        or image.width <= 0 or image.height <= 0
        or not isinstance(image.bgra, bytes | bytearray | memoryview)
        or len(image.bgra) != image.width * image.height * 4
    ):
        raise FrameDropped("bad_image")
    return np.frombuffer(bytearray(image.bgra), dtype=np.uint8).reshape(image.height, image.width, 4)


def _raw(pixels: np.ndarray) -> RawImage:
    """The image of ``pixels`` (from :func:`_pixels`); shares its buffer, so ``pixels``
    must not be written afterwards."""
    base = pixels.base
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, memoryview):
        base = base.obj
    if isinstance(base, bytearray) and len(base) == pixels.nbytes and pixels.flags.c_contiguous:
        return RawImage(pixels.shape[1], pixels.shape[0], base)  # type: ignore[arg-type]
    return RawImage(pixels.shape[1], pixels.shape[0], pixels.tobytes())


def _gray(pixels: np.ndarray) -> np.ndarray:
    height, width = pixels.shape[:2]
    picture = Image.frombuffer("RGB", (width, height), pixels, "raw", "BGRX", 0, 1)
    return np.asarray(picture.convert("L"))


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _hits(box: Box, boxes: Iterable[Box]) -> bool:
    return any(_overlaps(box, b) for b in boxes)


def _within(box: Box, boxes: Iterable[Box]) -> bool:
    return any(b[0] <= box[0] and b[1] <= box[1] and box[2] <= b[2] and box[3] <= b[3] for b in boxes)


def _clip(box: Box, to: Box) -> Box | None:
    x0, y0 = max(box[0], to[0]), max(box[1], to[1])
    x1, y1 = min(box[2], to[2]), min(box[3], to[3])
    return (x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None


def _bbox(boxes: Sequence[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def _merge(boxes: Sequence[Box], gap: int) -> list[Box]:
    """Replace boxes that overlap (or come within ``gap``) by their bounding box."""
    out = list(boxes)
    merged = True
    while merged:
        merged = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                a, b = out[i], out[j]
                if a[0] - gap < b[2] and b[0] - gap < a[2] and a[1] - gap < b[3] and b[1] - gap < a[3]:
                    out[i] = _bbox([a, b])
                    del out[j]
                    merged = True
                    break
            if merged:
                break
    return sorted(out, key=lambda b: (b[1], b[0]))
