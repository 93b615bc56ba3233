"""The organisation directory: known names, email addresses and phone numbers of people,
matched exactly, case-insensitively and on word boundaries.

This catches colleagues' names, which pattern recognizers cannot. The directory is
given by the caller (loaded from the organisation's configuration); nothing is fetched.
Whitespace inside a name matches any run of whitespace. Entries shorter than two
characters are refused, since they would match everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from apprentice.redact.base import Finding


@dataclass(frozen=True, slots=True)
class OrgDirectory:
    """People's names, emails and phone numbers, as the organisation spells them."""

    names: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()


def _alternation(terms: Iterable[str]) -> re.Pattern[str] | None:
    cleaned = sorted({t.strip() for t in terms if t.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    if any(len(t) < 2 for t in cleaned):
        raise ValueError("directory entries must be at least two characters long")
    body = "|".join(r"\s+".join(re.escape(part) for part in t.split()) for t in cleaned)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)


class DirectoryRecognizer:
    name = "directory"
    entities = ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER")

    def __init__(self, directory: OrgDirectory) -> None:
        self._patterns = tuple(
            (entity, pattern)
            for entity, terms in (
                ("PERSON", directory.names),
                ("EMAIL_ADDRESS", directory.emails),
                ("PHONE_NUMBER", directory.phones),
            )
            if (pattern := _alternation(terms)) is not None
        )

    def find(self, text: str) -> list[Finding]:
        return [
            Finding(entity, m.start(), m.end(), 1.0)
            for entity, pattern in self._patterns
            for m in pattern.finditer(text)
        ]
