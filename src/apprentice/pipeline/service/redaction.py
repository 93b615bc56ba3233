"""The second-pass redaction: every frame and every text field again, inside the pipeline.

The device already masked other windows and redacted what its OCR read in changed areas.
The pipeline does not trust that alone: it reads every frame *whole* (full-frame OCR, not
just what changed) and runs the text recognizers over the result, filling every word that
is part of a finding; and it runs the text redactor over every window title, URL, task
instruction and typed text. Fail closed, as on the device: a frame that cannot be
redacted is dropped, a text field that cannot be redacted is dropped.

Pillow decodes and re-encodes frames here (PNG, deterministic), because the pipeline may
not import the device's encoder (``capture/encode.py``).
"""

from __future__ import annotations

import hashlib
import io
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image

from apprentice.events import RawImage
from apprentice.redact import Redactor, safe_redact, safe_redact_url
from apprentice.redact.image import MASK_BGRA, FrameDropped, redact_text_regions
from apprentice.redact.ocr import OcrEngine

#: Seconds a whole frame may take; full-frame OCR of a 1280x800 screen takes ~0.5-1.5 s.
DEFAULT_FRAME_BUDGET = 30.0


@dataclass(frozen=True, slots=True)
class RedactedImage:
    data: bytes  # PNG
    blob: str  # sha256 of data
    width: int
    height: int
    masked_share: float  # share of pixels that are the mask colour (device + pipeline)
    counts: dict[str, int]
    ocr_seconds: float


def redact_image(data: bytes, redactor: Redactor, ocr: OcrEngine,
                 budget: float = DEFAULT_FRAME_BUDGET) -> RedactedImage | None:
    """Full-frame OCR redaction of an encoded image; None if it must be dropped."""
    try:
        with Image.open(io.BytesIO(data)) as picture:
            rgb = picture.convert("RGB")
        width, height = rgb.size
        raw = RawImage(width, height, rgb.tobytes("raw", "BGRX"))
        started = time.perf_counter()
        result = redact_text_regions(raw, [(0, 0, width, height)], redactor, None, ocr=ocr, timeout=budget)
        ocr_seconds = time.perf_counter() - started
        pixels = np.frombuffer(result.image.bgra, dtype=np.uint8).reshape(height, width, 4)
        share = float(np.all(pixels[:, :, :3] == np.array(MASK_BGRA[:3], dtype=np.uint8), axis=2).mean())
        out = io.BytesIO()
        Image.frombuffer("RGB", (width, height), result.image.bgra, "raw", "BGRX", 0, 1).save(
            out, "PNG", compress_level=6)
    except FrameDropped:
        return None
    except Exception:  # an undecodable image or a bug costs the frame, never passes it through
        return None
    encoded = out.getvalue()
    return RedactedImage(encoded, hashlib.sha256(encoded).hexdigest(), width, height,
                         round(share, 6), dict(sorted(result.counts.items())), ocr_seconds)


def redact_text(redactor: Redactor, text: str | None) -> str | None:
    """Redacted text; None when the input is None or redaction failed (drop the field)."""
    return None if text is None else safe_redact(redactor, text)


def redact_url(redactor: Redactor, url: str | None) -> str | None:
    return None if url is None else safe_redact_url(redactor, url)
