"""Payment card numbers (ISO/IEC 7812): 13–19 digits, optionally grouped by spaces or
hyphens, with a known issuer prefix and a valid Luhn check digit.

The issuer-prefix check matters: one random digit string in ten passes Luhn, so order
numbers, nanosecond timestamps and ids would otherwise be flagged.
"""

from __future__ import annotations

import re

from apprentice.redact.base import Pattern, PatternRecognizer

_CARD = re.compile(r"(?<![\w.-])\d(?:[ -]?\d){12,18}(?![\w-]|\.\d)")
# Visa 4; Mastercard 51-55, 2221-2720; Amex 34, 37; Discover 6011, 644-649, 65;
# JCB 3528-3589; Diners 300-305, 36, 38, 39; UnionPay 62; Maestro 50, 56-58, 67.
_ISSUER = re.compile(
    r"^(?:4|5[0-8]|222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720|3[47]|6011|64[4-9]|65"
    r"|35(?:2[89]|[3-8]\d)|30[0-5]|3[689]|62|67)"
)


def luhn_ok(digits: str) -> bool:
    """True if the digit string passes the Luhn (mod 10) check."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _valid(candidate: str) -> bool:
    seps = {c for c in candidate if not c.isdigit()}
    if len(seps) > 1:
        return False
    digits = "".join(c for c in candidate if c.isdigit())
    return 13 <= len(digits) <= 19 and _ISSUER.match(digits) is not None and luhn_ok(digits)


class CreditCardRecognizer(PatternRecognizer):
    name = "card"
    entity = "CREDIT_CARD"
    patterns = (Pattern(_CARD, 1.0, validate=_valid),)
