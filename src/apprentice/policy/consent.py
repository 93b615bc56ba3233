"""Consent: the versioned notice shipped with the agent, and the contributor's local record.

DESIGN promise 1: no capture before the contributor accepts the *current* notice
version; an organisation can never accept on someone's behalf. The notice is
``notice.md`` in this package; its first line carries the version
(``<!-- apprentice-notice version: N -->``). The record is a small JSON file on the
device (``{"notice_version", "notice_sha256", "accepted_at"}``) written atomically with
mode 0600. A record counts only if its version *and* the hash of the notice text match,
so an edited notice needs a new acceptance even if someone forgot to bump the version.

Nothing here reads a clock (``now`` is passed in) or logs; a damaged record raises
:class:`ConsentError` and capture stays off.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

from apprentice.fileio import write_atomically
from apprentice.policy.errors import ConsentError

NOTICE_RESOURCE = "notice.md"
_HEADER = re.compile(r"^<!-- apprentice-notice version: (\d+) -->\s*$")


@dataclass(frozen=True, slots=True)
class Notice:
    """The notice text a contributor is asked to accept, with its version and hash."""

    version: int
    text: str
    sha256: str


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """What the contributor accepted, and when (timezone-aware)."""

    notice_version: int
    notice_sha256: str
    accepted_at: datetime

    def covers(self, notice: Notice) -> bool:
        """True if this record accepts exactly ``notice``."""
        return (
            self.notice_version == notice.version and self.notice_sha256 == notice.sha256
        )


def parse_notice(text: str) -> Notice:
    """Read the version from the notice's first line; raise ConsentError if it has none."""
    first = text.split("\n", 1)[0]
    m = _HEADER.match(first)
    if m is None:
        raise ConsentError("the consent notice has no version line; reinstall apprentice")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Notice(version=int(m.group(1)), text=text, sha256=digest)


def load_notice() -> Notice:
    """Return the notice shipped in this package."""
    try:
        text = resources.files(__package__).joinpath(NOTICE_RESOURCE).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        raise ConsentError(
            "the consent notice is missing from this installation; reinstall apprentice"
        ) from None
    return parse_notice(text)


class ConsentStore:
    """The consent record file at ``path``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def load(self) -> ConsentRecord | None:
        """Return the record, None if there is none, or raise ConsentError if damaged."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConsentError(
                f"cannot read the consent record {self.path} ({exc.strerror})"
            ) from None
        try:
            data = json.loads(raw)
            record = ConsentRecord(
                notice_version=int(data["notice_version"]),
                notice_sha256=str(data["notice_sha256"]),
                accepted_at=datetime.fromisoformat(data["accepted_at"]),
            )
        except (ValueError, KeyError, TypeError):
            raise ConsentError(
                f"the consent record {self.path} is damaged; accept the notice again"
            ) from None
        if record.accepted_at.tzinfo is None:
            raise ConsentError(
                f"the consent record {self.path} is damaged; accept the notice again"
            )
        return record

    def consent_version(self, notice: Notice) -> int | None:
        """The accepted version if the record covers ``notice``, else None."""
        record = self.load()
        return record.notice_version if record is not None and record.covers(notice) else None

    def accept(self, notice: Notice, now: datetime) -> ConsentRecord:
        """Record that the contributor accepted ``notice`` at ``now`` (timezone-aware)."""
        if now.tzinfo is None:
            raise ValueError("consent needs a timezone-aware time")
        record = ConsentRecord(notice.version, notice.sha256, now)
        self.save(record)
        return record

    def save(self, record: ConsentRecord) -> None:
        """Write ``record`` as it is (the agent copies an acceptance made in the portal)."""
        if record.accepted_at.tzinfo is None:
            raise ValueError("consent needs a timezone-aware time")
        body = json.dumps(
            {
                "notice_version": record.notice_version,
                "notice_sha256": record.notice_sha256,
                "accepted_at": record.accepted_at.isoformat(),
            },
            sort_keys=True,
        ).encode("utf-8")
        self._write_atomically(body)

    def withdraw(self) -> bool:
        """Remove the record; return True if there was one. Capture stops at once."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True

    def _write_atomically(self, body: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, body)  # 0600: the record is never world-readable
