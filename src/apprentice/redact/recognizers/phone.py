"""Telephone numbers: international (``+`` and country code, ITU-T E.164, at most 15
digits) and common national formats that carry visible structure.

National forms need separators or a leading trunk ``0`` so that bare digit runs (order
numbers, timestamps, ids) are not flagged: North American ``(415) 555-0123`` /
``415-555-0123`` / ``415.555.0123``, and trunk-prefixed European forms such as
``020 7946 0958``, ``07700 900123``, ``030 12345678``, ``01 23 45 67 89``. Not flagged:
dates, times, dotted versions and IPs, ISBNs, a bare run of digits.
"""

from __future__ import annotations

import re

from apprentice.redact.base import Pattern, PatternRecognizer

_INTERNATIONAL = re.compile(
    r"(?<![\w+])\+[1-9]\d{0,2}(?:[ .-]?\(?\d{1,5}\)?){1,6}(?![\w-])"
)
_NANP = re.compile(r"(?<![\w.-])(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}(?![\w-]|\.\d)")
_TRUNK = re.compile(
    r"(?<![\w.:/-])(?:0\d{2,4}[ -]\d{3,8}(?:[ -]\d{3,4})?|0\d(?:[ .]\d{2}){4})(?![\w:/-]|\.\d)"
)


def _international(candidate: str) -> bool:
    digits = sum(c.isdigit() for c in candidate)
    return 8 <= digits <= 15


def _national(candidate: str) -> bool:
    digits = sum(c.isdigit() for c in candidate)
    return 9 <= digits <= 12


class PhoneRecognizer(PatternRecognizer):
    name = "phone"
    entity = "PHONE_NUMBER"
    patterns = (
        Pattern(_INTERNATIONAL, 0.8, validate=_international),
        Pattern(_NANP, 0.7, validate=_national),
        Pattern(_TRUNK, 0.6, validate=_national),
    )
