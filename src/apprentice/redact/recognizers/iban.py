"""International Bank Account Numbers (ISO 13616): country code, two check digits and the
country's fixed-length account part, written plain or in groups of four, verified with
the ISO 7064 mod-97 check. Unknown countries and wrong lengths are not flagged.
"""

from __future__ import annotations

import re

from apprentice.redact.base import Finding

# ISO 13616 registry: total IBAN length per country.
_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
_START = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2})\d{2}")


def mod97_ok(iban: str) -> bool:
    """True if the compact IBAN passes the ISO 7064 mod-97-10 check."""
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


class IbanRecognizer:
    name = "iban"
    entities = ("IBAN_CODE",)

    def find(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        for m in _START.finditer(text):
            length = _LENGTHS.get(m.group(1))
            if length is None:
                continue
            end = _scan(text, m.start(), length)
            if end is None:
                continue
            compact = "".join(c for c in text[m.start() : end] if c.isalnum()).upper()
            if mod97_ok(compact):
                found.append(Finding("IBAN_CODE", m.start(), end, 1.0))
        return found


def _scan(text: str, start: int, length: int) -> int | None:
    """End of ``length`` alphanumerics from ``start``, single spaces allowed between them."""
    count, i = 0, start
    while i < len(text) and count < length:
        ch = text[i]
        if ch.isascii() and ch.isalnum():
            count += 1
        elif ch != " " or count < 4 or i + 1 >= len(text) or text[i + 1] == " ":
            return None
        i += 1
    if count < length or (i < len(text) and text[i].isalnum()):
        return None
    return i
