"""IP addresses: IPv4 dotted quads (RFC 791 notation) and IPv6 (RFC 4291 §2.2 text
forms, including ``::`` compression, embedded IPv4 and zone ids), all ranges including
private ones, since internal addresses reveal network layout.

A dotted quad is textually identical to a four-part version number, so context decides
(documented limit): not flagged when preceded by ``v``/``V``, by ``name/`` (user agents:
``Chrome/120.0.0.0``), by a version operator (``==``, ``>=``, ``~=``, ``@``) or by the
word version/release/build/firmware/ver within a few characters. Leading zeros
(``01.02.03.04``), longer dotted runs (OIDs) and times (``10:30:00``) are not flagged.
IPv6 candidates must contain a digit, so identifiers like ``Dead::Beef`` are skipped.
"""

from __future__ import annotations

import ipaddress
import re

from apprentice.redact.base import Finding

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w.])(?:{_OCTET}\.){{3}}{_OCTET}(?![\w]|\.\d)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{0,4})"
    r"(?:%[\w-]+)?(?![\w:]|\.\d)"
)
_VERSION_BEFORE = re.compile(
    r"(?:\b[vV]|[A-Za-z][\w.-]*/|[=~<>!]=|@|\b(?:version|release|build|firmware|ver|rev)"
    r"\b[\s:=#-]{0,3})$",
    re.IGNORECASE,
)


def _looks_like_version(text: str, start: int) -> bool:
    return _VERSION_BEFORE.search(text[max(0, start - 20) : start]) is not None


class IpAddressRecognizer:
    name = "ip"
    entities = ("IP_ADDRESS",)

    def find(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        for m in _IPV4.finditer(text):
            if not _looks_like_version(text, m.start()):
                found.append(Finding("IP_ADDRESS", m.start(), m.end(), 0.8))
        for m in _IPV6.finditer(text):
            candidate = m.group(0)
            if not any(c.isdigit() for c in candidate.split("%", 1)[0]):
                continue
            try:
                ipaddress.IPv6Address(candidate)
            except ValueError:
                continue
            found.append(Finding("IP_ADDRESS", m.start(), m.end(), 0.9))
        return found
