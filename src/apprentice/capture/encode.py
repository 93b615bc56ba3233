"""Turning raw screen pixels into stored images (Pillow), and hashing them.

PNG at zlib level 1 is the default: lossless (text stays crisp for training and for OCR
redaction) and the cheapest lossless option on screen content; WebP lossless (method 4) is
4–5× smaller for about twice the CPU. See docs/benchmarks.md for the measurements.
"""

from __future__ import annotations

import hashlib
import io

from PIL import Image

from apprentice.capture.base import RawImage
from apprentice.capture.config import CaptureConfig


def pixel_hash(image: RawImage) -> str:
    """A fast content hash of the raw pixels (for de-duplication, not for security)."""
    digest = hashlib.blake2b(image.bgra, digest_size=16)
    digest.update(f"{image.width}x{image.height}".encode())
    return digest.hexdigest()


def encode(image: RawImage, config: CaptureConfig) -> tuple[bytes, int, int]:
    """Return (encoded bytes, width, height) of the image as configured."""
    picture = Image.frombuffer(
        "RGB", (image.width, image.height), image.bgra, "raw", "BGRX", 0, 1
    )
    if config.frame_scale < 1.0:
        size = (
            max(1, round(image.width * config.frame_scale)),
            max(1, round(image.height * config.frame_scale)),
        )
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if config.frame_format == "png":
        picture.save(out, "PNG", compress_level=config.png_level)
    elif config.frame_format == "webp":
        picture.save(out, "WEBP", lossless=True, method=4)
    else:
        picture.save(out, "JPEG", quality=config.jpeg_quality, subsampling=0)
    return out.getvalue(), picture.width, picture.height


def blob_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
