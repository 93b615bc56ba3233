"""Device sync: tell the collector this device's state, and apply what it answers to the
device-state files the recorder's gate reads (docs/governance.md).

One :meth:`DeviceSync.run_once` = one signed ``POST /api/v1/device/sync``. The report holds
states and counts only (recording/paused/…, a reason code, the agent version, the last
upload time, spool bytes) — never content. The answer is applied so that the recorder,
which re-reads these files within a second, follows:

- ``policy.yaml``  the organisation's policy, written only after the agent's own strict
  loader accepts it (a policy the gate could not read would stop recording);
- ``consent.json`` the acceptance the contributor gave in the portal, or removed when they
  withdrew (or never accepted): with a collector, consent is given in the portal;
- ``organisation.json`` ``capture_enabled`` (false with ``dpia_pending``/``no_policy``) and
  ``exempt`` — the gate refuses with that reason, and an exemption makes the recorder stop
  and destroy its spool;
- ``pause.json``   pause/resume commands sent from the portal.

Layering: the files are reached through the small :class:`StateFiles` protocol (the
capture package's ``DeviceState`` satisfies it), so this module imports neither ``capture``
nor ``server``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from apprentice.client.uploader import Uploader
from apprentice.errors import PolicyError
from apprentice.fileio import write_atomically
from apprentice.policy import ConsentRecord, ConsentStore, parse_policy

log = logging.getLogger("apprentice.client.sync")

SYNC_PATH = "/api/v1/device/sync"


class StateFiles(Protocol):
    """The device-state files sync writes (``apprentice.capture.device_state.DeviceState``)."""

    @property
    def policy_path(self) -> Path: ...

    @property
    def consent(self) -> ConsentStore: ...

    def set_pause(self, until: datetime | None) -> None: ...

    def write_organisation(self, capture_enabled: bool, reason: str | None, exempt: bool,
                           synced_at: datetime) -> bool: ...


@dataclass
class SyncOutcome:
    """What one sync found and changed (no content: versions, states, reason codes)."""

    capture_enabled: bool
    reason: str | None
    exempt: bool
    policy_version: int | None
    consent: str  # accepted | withdrawn | none
    changed: list[str] = field(default_factory=list)  # which files were written or removed


def policy_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class DeviceSync:
    def __init__(self, uploader: Uploader, files: StateFiles, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._uploader = uploader
        self._files = files
        self._clock = clock
        self._cursor: int | None = None  # None: the first sync of this run

    def run_once(self, report: dict[str, Any]) -> SyncOutcome:
        """Sync once; raise UploadError/UploadRejected when the collector is away or refuses."""
        body = {**report, "policy_sha256": policy_sha256(self._files.policy_path)}
        if self._cursor is not None:
            body["commands_after"] = self._cursor
        answer = self._uploader.sync(body)
        outcome = self.apply(answer)
        self._cursor = int(answer.get("commands_cursor", self._cursor or 0))
        return outcome

    def apply(self, answer: dict[str, Any]) -> SyncOutcome:
        """Write what the collector said into the device-state files (only what changed)."""
        changed: list[str] = []
        policy = answer.get("policy")
        if policy is not None and policy.get("yaml") is not None and self._write_policy(str(policy["yaml"])):
            changed.append("policy.yaml")
        consent = answer.get("consent") or {}
        state = str(consent.get("state", "none"))
        if self._apply_consent(consent):
            changed.append("consent.json")
        exempt = bool(answer.get("exempt"))
        capture_enabled = bool(answer.get("capture_enabled"))
        reason = answer.get("reason")
        # Exempt: the gate refuses with "exempt" from the flag, whatever the reason says.
        kept_reason = None if capture_enabled or exempt else str(reason or "capture_disabled")
        if self._files.write_organisation(capture_enabled, kept_reason, exempt, self._clock()):
            changed.append("organisation.json")
        now = self._clock()
        for command in answer.get("commands") or []:
            if command.get("kind") == "pause" and command.get("until"):
                until = datetime.fromisoformat(str(command["until"]).replace("Z", "+00:00"))
                if until > now:
                    self._files.set_pause(until)
                    changed.append("pause.json")
            elif command.get("kind") == "resume":
                self._files.set_pause(None)
                changed.append("pause.json")
        return SyncOutcome(capture_enabled, reason, exempt, policy.get("version") if policy else None, state,
                           changed)

    def _write_policy(self, text: str) -> bool:
        path = self._files.policy_path
        data = text.encode("utf-8")
        if policy_sha256(path) == hashlib.sha256(data).hexdigest():
            return False
        try:
            parse_policy(text, source="collector policy")
        except PolicyError as exc:
            # Keep the policy we have: a newer format this agent cannot read must not stop it.
            log.warning("the collector's policy does not load in this agent; keeping the current one (%s)",
                        exc.args[0] if exc.args else "invalid")
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data)
        return True

    def _apply_consent(self, consent: dict[str, Any]) -> bool:
        store = self._files.consent
        try:
            current = store.load()
        except Exception:  # a damaged record is replaced by what the collector says
            current = None
        if consent.get("state") == "accepted":
            at = datetime.fromisoformat(str(consent["at"]).replace("Z", "+00:00"))
            record = ConsentRecord(int(consent["notice_version"]), str(consent["notice_sha256"]), at)
            if current == record:
                return False
            store.save(record)
            return True
        return store.withdraw()
