"""National identity numbers: US Social Security numbers, UK National Insurance numbers
and Spanish DNI/NIE (the EU example), each with its issuing rules checked.

* US SSN (SSA rules): ``AAA-GG-SSSS`` or with spaces; area not 000, 666 or 900–999,
  group not 00, serial not 0000. A bare nine-digit run is not flagged: without
  separators it cannot be told from an order number.
* UK NINO (HMRC rules): two prefix letters (D, F, I, Q, U, V never; O never second;
  BG, GB, NK, KN, NT, TN, ZZ never issued), six digits, suffix A–D.
* Spanish DNI (8 digits + letter) and NIE (X/Y/Z + 7 digits + letter): the letter is
  the mod-23 check character.
"""

from __future__ import annotations

import re

from apprentice.redact.base import Finding, Pattern, PatternRecognizer

_SSN = re.compile(r"(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])")
_NINO = re.compile(
    r"(?<![A-Za-z0-9])([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?"
    r"([A-D])(?![A-Za-z0-9])"
)
_NINO_NEVER = frozenset({"BG", "GB", "NK", "KN", "NT", "TN", "ZZ"})
_DNI = re.compile(r"(?<![\w-])(?:\d{8}|[XYZ]-?\d{7})-?[A-Z](?![\w-])")
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def ssn_ok(candidate: str) -> bool:
    digits = "".join(c for c in candidate if c.isdigit())
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return (
        area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"
    )


def nino_ok(candidate: str) -> bool:
    return candidate[:2] not in _NINO_NEVER


def dni_ok(candidate: str) -> bool:
    compact = candidate.replace("-", "")
    body, letter = compact[:-1], compact[-1]
    body = body.translate(str.maketrans("XYZ", "012"))
    return _DNI_LETTERS[int(body) % 23] == letter


class UsSsnRecognizer(PatternRecognizer):
    name = "us_ssn"
    entity = "US_SSN"
    patterns = (Pattern(_SSN, 0.85, validate=ssn_ok),)


class UkNinoRecognizer(PatternRecognizer):
    name = "uk_nino"
    entity = "UK_NINO"
    patterns = (Pattern(_NINO, 0.85, validate=nino_ok),)


class EsNifRecognizer(PatternRecognizer):
    name = "es_nif"
    entity = "ES_NIF"
    patterns = (Pattern(_DNI, 0.95, validate=dni_ok),)


class NationalIdRecognizer:
    """All national ids above, as one registry entry."""

    name = "national_id"
    entities = ("US_SSN", "UK_NINO", "ES_NIF")

    def __init__(self) -> None:
        self._parts = (UsSsnRecognizer(), UkNinoRecognizer(), EsNifRecognizer())

    def find(self, text: str) -> list[Finding]:
        return [f for part in self._parts for f in part.find(text)]
