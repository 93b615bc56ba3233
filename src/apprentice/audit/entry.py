"""One audit entry: who did what to which resource, for which purpose, allowed or not, when.

An entry never holds content — no chunk bytes, no window titles, no request bodies, no
tokens. Its fields are identifiers and fixed words, each a short line of printable ASCII
(the limits below), so free text has nowhere to go.

The leaf data of the Merkle tree is the entry's canonical JSON: keys sorted, no spaces,
UTF-8, the time as RFC 3339 UTC with microseconds, ``subject`` null when there is none::

    {"action":"read","actor":"account:acc-1f","at":"2026-03-01T12:00:00.000000Z",
     "decision":"allow","index":7,"purpose":"processing","resource":"RawChunk:ab12…",
     "role":"Pipeline","subject":"alice"}

The index is part of the leaf, so an entry cannot be moved to another position unnoticed
even by someone who recomputes the stored leaf hashes.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from apprentice.audit.merkle import leaf_hash

DECISIONS = ("allow", "deny")

# Field -> longest allowed value. Sized for the identifiers of INTERFACES §3 with room to spare,
# and short enough that nobody can smuggle content through a field.
LIMITS = {"actor": 160, "role": 32, "action": 64, "resource": 200, "subject": 128, "purpose": 32}
_PRINTABLE = re.compile(r"[\x20-\x7e]+")


#: What stands in an entry for an identifier that cannot be logged as it was given (a hostile
#: or malformed path parameter): the entry is still written, without the odd value.
UNLOGGABLE = "<invalid>"


def loggable(name: str, value: str | None) -> str | None:
    """``value`` if it fits field ``name`` (printable ASCII within the limit), else UNLOGGABLE.

    Callers that build entries from request input use this so a malformed id never stops
    a decision from being recorded."""
    if value is None or (_PRINTABLE.fullmatch(value) and len(value) <= LIMITS[name]):
        return value
    return UNLOGGABLE


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An entry before the log gives it an index (what :meth:`AuditLog.record` receives)."""

    at: datetime
    actor: str
    role: str
    action: str
    resource: str
    subject: str | None
    purpose: str
    decision: str

    def __post_init__(self) -> None:
        for name, limit in LIMITS.items():
            value = getattr(self, name)
            if value is None and name == "subject":
                continue
            if not isinstance(value, str) or not _PRINTABLE.fullmatch(value) or len(value) > limit:
                raise ValueError(
                    f"audit field {name!r} must be 1–{limit} printable ASCII characters"
                )
        if self.decision not in DECISIONS:
            raise ValueError(f"audit decision must be one of {DECISIONS}")
        if not isinstance(self.at, datetime) or self.at.tzinfo is None:
            raise ValueError("audit time must be a timezone-aware datetime")
        object.__setattr__(self, "at", self.at.astimezone(UTC))

    def at_index(self, index: int) -> AuditEntry:
        return AuditEntry(index, **{k: v for k, v in asdict(self).items()})


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """An entry in the log, at position ``index`` (0-based, dense)."""

    index: int
    at: datetime
    actor: str
    role: str
    action: str
    resource: str
    subject: str | None
    purpose: str
    decision: str

    def __post_init__(self) -> None:
        if not isinstance(self.index, int) or self.index < 0:
            raise ValueError("audit index must be a non-negative integer")
        # Validate the other fields the same way as a new record (one rule, one place).
        record = AuditRecord(self.at, self.actor, self.role, self.action, self.resource,
                             self.subject, self.purpose, self.decision)
        object.__setattr__(self, "at", record.at)

    def canonical(self) -> bytes:
        """The exact leaf data: canonical JSON (sorted keys, no spaces, UTF-8)."""
        doc = {
            "index": self.index,
            "at": self.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor": self.actor,
            "role": self.role,
            "action": self.action,
            "resource": self.resource,
            "subject": self.subject,
            "purpose": self.purpose,
            "decision": self.decision,
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.canonical())

    def record(self) -> AuditRecord:
        return AuditRecord(self.at, self.actor, self.role, self.action, self.resource,
                           self.subject, self.purpose, self.decision)
