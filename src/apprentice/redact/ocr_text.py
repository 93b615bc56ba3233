"""Undo OCR's usual misreadings of digits before the text recognizers look at OCR output.

Tesseract reads a text cursor next to a number as ``|`` or ``]``, and confuses ``1`` with
``l``/``I``/``]`` and ``0`` with ``O``. A card number on screen then fails its Luhn check and
stays visible — the failure a screenshot redactor must not have. Inside tokens that are
mostly digits, such characters are mapped back to digits (or to a space, for a trailing
cursor bar). The mapping is one character for one character, so every position in the
normalised text is the same position in the OCR text and the word boxes still line up.

Only used on OCR output; typed text is exact and never normalised.
"""

from __future__ import annotations

import re

_AS_ONE = str.maketrans({"l": "1", "I": "1", "i": "1", "]": "1", "[": "1", "!": "1", "|": "1"})
_AS_ZERO = str.maketrans({"O": "0", "o": "0"})
_TOKEN = re.compile(r"\S+")
_CONFUSABLE = set("lIi][!|Oo")


def normalise_digits(text: str) -> str:
    """Same-length text with digit look-alikes fixed inside mostly-digit tokens."""
    return _TOKEN.sub(_fix_token, text)


def _fix_token(match: re.Match[str]) -> str:
    token = match.group(0)
    digits = sum(c.isdigit() for c in token)
    confusable = sum(c in _CONFUSABLE for c in token)
    if digits < 2 or digits + confusable < 0.6 * len(token) or confusable > digits:
        return token
    # A bar or bracket at the very end is most often the text cursor, not a digit.
    body, tail = token, ""
    while body and body[-1] in "|" and len(body) > 1:
        body, tail = body[:-1], tail + " "
    return body.translate(_AS_ONE).translate(_AS_ZERO) + tail
