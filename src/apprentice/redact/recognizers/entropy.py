"""High-entropy tokens: random-looking strings that are probably keys or passwords but
have no known prefix. Reported as ``SECRET``.

A token is a run of base64/base64url characters (``A–Z a–z 0–9 + / _ - =``) of at least
20 characters. It is flagged when all of these hold (thresholds chosen so that the
look-alikes below pass, see ``tests/unit/redact/test_entropy.py``):

* it mixes upper case, lower case and digits — or is lower case and digits only, at
  least 24 long with at least 4 digits and not hexadecimal;
* its Shannon entropy is at least ``min(4.0, 0.8 * log2(length))`` bits per character
  (random base64 of length 20 scores about 4.0; English-like identifiers score less);
* it changes character class (upper/lower/digit/symbol) on at least 35 % of adjacent
  pairs (random strings switch about 60 % of the time; ``camelCase`` names, paths and
  ``snake_case`` words switch rarely);
* at most half of it is made of word-like runs (an optional capital and three or more
  lower-case letters), which rules out ``CamelCaseNames2`` and ``path/to/module3``.

Deliberately *not* flagged: hexadecimal strings of any length (commit hashes, SHA-256
digests, UUIDs, MAC addresses), dotted versions, dates and timestamps, order numbers
made of a prefix and digits, and words. The cost: secrets that are pure hex (some API
keys are) are only caught next to a label by the ``secret`` recognizer's assignment
rule. This recognizer is linear in the text length.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from apprentice.redact.base import Finding

MIN_LENGTH = 20
_TOKEN = re.compile(r"(?<![0-9A-Za-z+/_=-])[0-9A-Za-z+/_-]{20,}={0,2}(?![0-9A-Za-z+/_=-])")
_HEX = re.compile(r"^[0-9a-fA-F-]+$")
_WORDISH = re.compile(r"[A-Z]?[a-z]{3,}")


def shannon_entropy(token: str) -> float:
    """Bits per character of ``token``'s character distribution."""
    n = len(token)
    return -sum(c / n * math.log2(c / n) for c in Counter(token).values())


def _class(ch: str) -> int:
    if ch.isdigit():
        return 0
    if ch.isupper():
        return 1
    if ch.islower():
        return 2
    return 3


def _switch_ratio(token: str) -> float:
    switches = sum(_class(a) != _class(b) for a, b in zip(token, token[1:], strict=False))
    return switches / (len(token) - 1)


def looks_random(token: str) -> bool:
    """True if ``token`` passes the thresholds in the module docstring."""
    token = token.rstrip("=")
    n = len(token)
    if n < MIN_LENGTH or _HEX.match(token):
        return False
    has_upper = any(c.isupper() for c in token)
    has_lower = any(c.islower() for c in token)
    digits = sum(c.isdigit() for c in token)
    mixed = has_upper and has_lower and digits > 0
    lower_digits = has_lower and not has_upper and digits >= 4 and n >= 24
    if not (mixed or lower_digits):
        return False
    if shannon_entropy(token) < min(4.0, 0.8 * math.log2(n)):
        return False
    if sum(len(w) for w in _WORDISH.findall(token)) > n / 2:
        return False
    return _switch_ratio(token) >= 0.35


class HighEntropyRecognizer:
    name = "entropy"
    entities = ("SECRET",)

    def find(self, text: str) -> list[Finding]:
        return [
            Finding("SECRET", m.start(), m.end(), 0.6)
            for m in _TOKEN.finditer(text)
            if looks_random(m.group(0))
        ]
