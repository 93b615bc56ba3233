"""The redactor: run recognizers over text, merge what they found, write placeholders.

DESIGN promise 2: typed text, titles and URLs pass secret and PII detection on the
device before anything leaves it, and redaction fails closed — if it raises, the caller
drops the item (:func:`safe_redact` turns any error into ``None``). Nothing here logs,
and no exception raised here carries the text.

Overlaps: findings whose spans overlap form one cluster; the whole cluster's span is
replaced by a single placeholder named after its strongest finding (longest, then
highest score). Replacing the union, not just the winner, means no part of a weaker,
partly overlapping finding is left in the output. ``counts`` counts placeholders per
entity and never says what was replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from apprentice.redact.base import Finding, Recognizer

_URL_SAFE = "/:@!$&'()*+,;=-._~<>"


def placeholder(entity: str) -> str:
    """The text that replaces a finding of ``entity``, e.g. ``<EMAIL_ADDRESS>``."""
    return f"<{entity}>"


@dataclass(frozen=True, slots=True)
class RedactionResult:
    """Redacted text and how many placeholders of each entity it received."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)


class Redactor:
    """Applies ``recognizers``; findings scoring below ``min_score`` are ignored."""

    def __init__(
        self,
        recognizers: Sequence[Recognizer],
        *,
        min_score: float = 0.0,
        keep_url_query: bool = False,
    ) -> None:
        self.recognizers = tuple(recognizers)
        self.min_score = min_score
        self.keep_url_query = keep_url_query

    def findings(self, text: str) -> list[Finding]:
        """Every finding at or above ``min_score``, sorted by position (unmerged)."""
        if not isinstance(text, str):
            raise TypeError("redaction takes text (str)")
        found = [
            f
            for recognizer in self.recognizers
            for f in recognizer.find(text)
            if f.score >= self.min_score and 0 <= f.start < f.end <= len(text)
        ]
        found.sort(key=lambda f: (f.start, -f.end))
        return found

    def redact(self, text: str) -> RedactionResult:
        """Replace each cluster of overlapping findings with one typed placeholder."""
        found = self.findings(text)
        if not found:
            return RedactionResult(text, {})
        parts: list[str] = []
        counts: dict[str, int] = {}
        cursor = 0
        for start, end, winner in _clusters(found):
            parts.append(text[cursor:start])
            parts.append(placeholder(winner.entity))
            counts[winner.entity] = counts.get(winner.entity, 0) + 1
            cursor = end
        parts.append(text[cursor:])
        return RedactionResult("".join(parts), counts)

    def redact_url(self, url: str) -> RedactionResult:
        """Redact a URL: drop user info and fragment, drop the query unless the policy
        keeps it (then redact each value), and redact the host and path."""
        parts = urlsplit(url)
        counts: dict[str, int] = {}

        def run(value: str) -> str:
            result = self.redact(value)
            for entity, n in result.counts.items():
                counts[entity] = counts.get(entity, 0) + n
            return result.text

        host = run(parts.hostname or "")
        if ":" in host and not host.startswith("<"):
            host = f"[{host}]"
        netloc = host if parts.port is None else f"{host}:{parts.port}"
        path = quote(run(unquote(parts.path)), safe=_URL_SAFE)
        query = ""
        if self.keep_url_query and parts.query:
            pairs = [(k, run(v)) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
            query = urlencode(pairs, safe="<>")
        return RedactionResult(urlunsplit((parts.scheme, netloc, path, query, "")), counts)


def _clusters(found: list[Finding]) -> list[tuple[int, int, Finding]]:
    """Group position-sorted findings whose spans overlap: (start, end, winner) each."""
    out: list[tuple[int, int, Finding]] = []
    start, end, winner = found[0].start, found[0].end, found[0]
    for f in found[1:]:
        if f.start < end:
            end = max(end, f.end)
            if _stronger(f, winner):
                winner = f
            continue
        out.append((start, end, winner))
        start, end, winner = f.start, f.end, f
    out.append((start, end, winner))
    return out


def _stronger(a: Finding, b: Finding) -> bool:
    return (a.end - a.start, a.score) > (b.end - b.start, b.score)


def safe_redact(redactor: Redactor, text: str) -> str | None:
    """Redacted text, or None if redaction failed for any reason (drop the item)."""
    try:
        return redactor.redact(text).text
    except Exception:  # fail closed: never pass text through, never log it
        return None


def safe_redact_url(redactor: Redactor, url: str) -> str | None:
    """Redacted URL, or None if it could not be redacted (drop it)."""
    try:
        return redactor.redact_url(url).text
    except Exception:  # fail closed, as safe_redact
        return None
