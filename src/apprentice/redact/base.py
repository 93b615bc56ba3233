"""Redaction building blocks: a finding, the recognizer contract, and a pattern helper.

Shaped like Microsoft Presidio's analyzer (a recognizer returns typed spans with a score;
a pattern recognizer is regexes plus a validation step such as a checksum), written for
this project: recognizers are pure, fast and deterministic, load nothing at run time
and never log or raise with the text they inspect (DESIGN promise 2).

Entity names follow Presidio's where one exists (``EMAIL_ADDRESS``, ``PHONE_NUMBER``,
``CREDIT_CARD``, ``IBAN_CODE``, ``US_SSN``, ``UK_NINO``, ``IP_ADDRESS``, ``PERSON``);
``SECRET``, ``STREET_ADDRESS`` and ``ES_NIF`` are ours.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Finding:
    """``text[start:end]`` is an ``entity`` with confidence ``score`` in (0, 1]."""

    entity: str
    start: int
    end: int
    score: float


class Recognizer(Protocol):
    """Finds one or more kinds of sensitive text.

    ``name`` is the registry key. ``entities`` lists every entity ``find`` can return.
    ``find`` returns findings in any order, possibly overlapping; it must be pure, must
    not keep the text, and must not put the text into an exception or a log.
    """

    name: str
    entities: tuple[str, ...]

    def find(self, text: str) -> list[Finding]: ...


@dataclass(frozen=True, slots=True)
class Pattern:
    """One regular expression of a :class:`PatternRecognizer`.

    ``group`` selects the part of the match that is sensitive (0 = all of it), and
    ``validate`` (given that part) can reject a match, e.g. by checksum.
    """

    regex: re.Pattern[str]
    score: float
    group: int = 0
    validate: Callable[[str], bool] | None = None


class PatternRecognizer:
    """A recognizer made of patterns for one entity; subclasses set the class attributes."""

    name: str = ""
    entity: str = ""
    patterns: tuple[Pattern, ...] = ()

    @property
    def entities(self) -> tuple[str, ...]:
        return (self.entity,)

    def find(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        for pattern in self.patterns:
            for m in pattern.regex.finditer(text):
                start, end = m.span(pattern.group)
                if start == end:
                    continue
                if pattern.validate is not None and not pattern.validate(text[start:end]):
                    continue
                found.append(Finding(self.entity, start, end, pattern.score))
        return found
