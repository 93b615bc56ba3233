"""The governance workflow, free of HTTP (docs/governance.md): DPIA records, policy versions,
consent through the portal, exemptions, pause/resume commands, device sync, and a
contributor's deletion of their data. The routes authorise and audit; these methods decide
and store, raising ApiError (status, fixed code, what to do) on a refusal.

Capture is enabled for the organisation only while an approved DPIA exists and a policy has
been published; a device learns that, the policy, the contributor's consent, exemption and
pending commands at every sync. Nothing here reads content: device reports are states and
counts, DPIA summaries and exemption reasons are governance text written by people.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select

from apprentice.errors import PolicyError
from apprentice.policy import Notice, load_notice, parse_policy
from apprentice.policy.rules import DEFAULT_PAUSE_CAP_MINUTES, MAX_POLICY_BYTES
from apprentice.server.problems import ApiError
from apprentice.server.retention import delete_chunk_ids
from apprentice.server.storage.blobs import BlobStore
from apprentice.server.storage.metadata import MetadataStore
from apprentice.server.storage.metadata import tables as t
from apprentice.server.storage.metadata.governance import (
    CommandRow,
    ConsentEventRow,
    DeletionRow,
    DeviceReportRow,
    DpiaRow,
    ExemptionRow,
    GovernanceStore,
    PolicyVersionRow,
)

DPIA_PENDING = "dpia_pending"
NO_POLICY = "no_policy"
#: States a device may report (never content).
DEVICE_STATES = ("recording", "paused", "idle", "stopped", "not_running", "exempt")
_REASON_CODE = re.compile(r"^[a-z_]{1,24}(:[a-z_]{1,22})?$")
_AGENT_VERSION = re.compile(r"^[0-9A-Za-z.+_-]{1,32}$")
#: How long a portal command stays relevant: no pause outlasts the largest allowed cap.
_COMMAND_HORIZON = timedelta(minutes=1440)


class EpisodeArchive(Protocol):
    """Where a contributor's redacted episodes come from for their export: the pipeline side
    (the collector cannot decrypt). ``episodes_for`` yields (file name, bytes) pairs, names
    relative (``<episode id>/episode.json`` …), already redacted."""

    def episodes_for(self, contributor_id: str) -> Iterable[tuple[str, bytes]]: ...


class NoEpisodes:
    """No pipeline wired: the export says so (``episodes_available: false``)."""

    available = False

    def episodes_for(self, contributor_id: str) -> Iterable[tuple[str, bytes]]:
        return ()


@dataclass(frozen=True, slots=True)
class CaptureStatus:
    enabled: bool
    reason: str | None  # dpia_pending | no_policy | None


@dataclass(frozen=True, slots=True)
class PolicyChange:
    current: PolicyVersionRow | None  # the version in force before
    diff: str  # unified diff of the YAML, current -> proposed ("" when identical)
    version: int | None = None  # the stored version (None for a preview)
    created: bool = False


@dataclass(frozen=True, slots=True)
class DeviceReport:
    state: str
    paused_until: datetime | None = None
    gap_reason: str | None = None
    agent_version: str | None = None
    last_upload_at: datetime | None = None
    spool_bytes: int | None = None


class Governance:
    def __init__(self, metadata: MetadataStore, blobs: BlobStore, *, notice: Notice | None = None,
                 episodes: EpisodeArchive | None = None) -> None:
        self.metadata = metadata
        self.blobs = blobs
        self.store = GovernanceStore(metadata.engine)
        self.notice = notice or load_notice()
        self.episodes: EpisodeArchive = episodes or NoEpisodes()

    # -- DPIA -------------------------------------------------------------------------------
    def create_dpia(self, title: str, summary: str, by: str, now: datetime) -> DpiaRow:
        row = DpiaRow("dpia-" + secrets.token_hex(8), title, summary, "draft", by, now, None, None, None)
        self.store.add_dpia(row)
        return row

    def dpia(self, dpia_id: str) -> DpiaRow:
        row = self.store.dpia(dpia_id)
        if row is None:
            raise ApiError(404, "not_found", "no such DPIA")
        return row

    def approve_dpia(self, dpia_id: str, by: str, now: datetime) -> DpiaRow:
        """draft -> approved. 404 unknown; 409 not a draft (a withdrawn DPIA is not revived:
        write a new one)."""
        self.dpia(dpia_id)
        if not self.store.set_dpia_status(dpia_id, ("draft",), "approved", by=by, at=now):
            raise ApiError(409, "not_draft", "only a draft DPIA can be approved; create a new one")
        return self.dpia(dpia_id)

    def withdraw_dpia(self, dpia_id: str, now: datetime) -> DpiaRow:
        """draft/approved -> withdrawn. 409 if already withdrawn."""
        self.dpia(dpia_id)
        if not self.store.set_dpia_status(dpia_id, ("draft", "approved"), "withdrawn", at=now):
            raise ApiError(409, "already_withdrawn", "this DPIA is already withdrawn")
        return self.dpia(dpia_id)

    def capture_status(self) -> CaptureStatus:
        if not self.store.has_approved_dpia():
            return CaptureStatus(False, DPIA_PENDING)
        if self.store.current_policy() is None:
            return CaptureStatus(False, NO_POLICY)
        return CaptureStatus(True, None)

    # -- policy -----------------------------------------------------------------------------
    def check_policy(self, body: bytes) -> tuple[str, PolicyChange]:
        """Validate proposed policy YAML with the agent's strict loader; 422 ``invalid_policy``
        naming the line and what to change. Returns the text and the diff against the current."""
        if len(body) > MAX_POLICY_BYTES:
            raise ApiError(413, "too_large", f"a policy is at most {MAX_POLICY_BYTES} bytes")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(422, "invalid_policy", "the policy is not UTF-8 text") from None
        try:
            parse_policy(text, source="policy.yaml")
        except PolicyError as exc:
            raise ApiError(422, "invalid_policy", str(exc)) from None
        current = self.store.current_policy()
        old = current.yaml if current is not None else ""
        diff = "".join(difflib.unified_diff(
            old.splitlines(keepends=True), text.splitlines(keepends=True),
            fromfile=f"policy v{current.version}" if current else "no policy", tofile="proposed"))
        return text, PolicyChange(current, diff)

    def publish_policy(self, body: bytes, by: str, now: datetime) -> PolicyChange:
        """Store a new version (unless identical to the current one: then nothing changes)."""
        text, change = self.check_policy(body)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if change.current is not None and change.current.sha256 == digest:
            return PolicyChange(change.current, "", change.current.version, False)
        for _ in range(5):  # another officer may publish at the same moment: take the next number
            version = self.store.add_policy_version(text, digest, by, now)
            if version is not None:
                return PolicyChange(change.current, change.diff, version, True)
        raise ApiError(409, "concurrent_update", "another policy was published at the same time; retry")

    def current_policy(self) -> PolicyVersionRow:
        row = self.store.current_policy()
        if row is None:
            raise ApiError(404, "no_policy", "no capture policy has been published yet")
        return row

    def pause_cap_minutes(self) -> int:
        row = self.store.current_policy()
        if row is None:
            return DEFAULT_PAUSE_CAP_MINUTES
        try:
            return parse_policy(row.yaml).pause_cap_minutes
        except PolicyError:  # stored policies were validated; a newer agent's rules may differ
            return DEFAULT_PAUSE_CAP_MINUTES

    # -- consent ----------------------------------------------------------------------------
    def accept_notice(self, contributor: str, version: int, sha256: str, now: datetime) -> ConsentEventRow:
        """409 ``stale_notice`` unless the version and hash are those of the current notice
        (the contributor must have seen exactly the text in force)."""
        if version != self.notice.version or sha256 != self.notice.sha256:
            raise ApiError(409, "stale_notice",
                           "this is not the current notice; fetch GET /api/v1/me/notice and accept that")
        self._require_contributor(contributor)
        self.store.add_consent_event(contributor, True, version, sha256, now)
        current = self.store.current_consent(contributor)
        assert current is not None
        return current

    def withdraw_consent(self, contributor: str, now: datetime) -> ConsentEventRow:
        self._require_contributor(contributor)
        self.store.add_consent_event(contributor, False, None, None, now)
        current = self.store.current_consent(contributor)
        assert current is not None
        return current

    def consent_state(self, contributor: str) -> dict[str, Any]:
        row = self.store.current_consent(contributor)
        if row is None:
            return {"state": "none", "notice_version": None, "notice_sha256": None, "at": None}
        return {"state": "accepted" if row.accepted else "withdrawn", "notice_version": row.notice_version,
                "notice_sha256": row.notice_sha256, "at": row.at}

    # -- exemptions -------------------------------------------------------------------------
    def request_exemption(self, contributor: str, reason: str | None, now: datetime) -> ExemptionRow:
        """409 ``already_exempt`` or ``request_pending``."""
        self._require_contributor(contributor)
        if self.store.is_exempt(contributor):
            raise ApiError(409, "already_exempt", "you are already exempt; nothing is recorded for you")
        if self.store.exemption_requests(contributor_id=contributor, status="pending"):
            raise ApiError(409, "request_pending", "you already have a pending exemption request")
        row = ExemptionRow("exr-" + secrets.token_hex(8), contributor, reason, "pending", now, None, None)
        self.store.add_exemption_request(row)
        return row

    def exemption_request(self, request_id: str) -> ExemptionRow:
        row = self.store.exemption_request(request_id)
        if row is None:
            raise ApiError(404, "not_found", "no such exemption request")
        return row

    def decide_exemption(self, request_id: str, approve: bool, by: str, now: datetime) -> ExemptionRow:
        """pending -> approved/denied; 404 unknown, 409 ``already_decided``."""
        self.exemption_request(request_id)
        if not self.store.decide_exemption(request_id, "approved" if approve else "denied", by, now):
            raise ApiError(409, "already_decided", "this exemption request was already decided")
        return self.exemption_request(request_id)

    def is_exempt(self, contributor: str) -> bool:
        return self.store.is_exempt(contributor)

    # -- commands from the portal -------------------------------------------------------------
    def pause(self, contributor: str, minutes: int | None, now: datetime) -> tuple[CommandRow, bool]:
        """Ask the contributor's devices to pause (clipped to the policy's cap); (command, clipped).
        404 if the contributor has no record yet, 410 if they were forgotten."""
        self._require_contributor(contributor)
        cap = self.pause_cap_minutes()
        clipped = minutes is not None and minutes > cap
        granted = cap if minutes is None or clipped else minutes
        until = now + timedelta(minutes=granted)
        seq = self.store.add_command(contributor, "pause", until, now)
        return CommandRow(seq, contributor, "pause", until, now), clipped

    def resume(self, contributor: str, now: datetime) -> CommandRow:
        self._require_contributor(contributor)
        seq = self.store.add_command(contributor, "resume", None, now)
        return CommandRow(seq, contributor, "resume", None, now)

    # -- device sync -------------------------------------------------------------------------
    def sync(self, device_id: str, contributor: str, report: DeviceReport, *, policy_sha256: str | None,
             commands_after: int | None, now: datetime) -> dict[str, Any]:
        """Store the device's report and return what it must apply (docs/governance.md)."""
        if report.state not in DEVICE_STATES:
            raise ApiError(422, "invalid_state", f"state must be one of {', '.join(DEVICE_STATES)}")
        if report.gap_reason is not None and not _REASON_CODE.match(report.gap_reason):
            raise ApiError(422, "invalid_reason", "gap_reason must be a reason code like 'not_allowlisted'")
        if report.agent_version is not None and not _AGENT_VERSION.match(report.agent_version):
            raise ApiError(422, "invalid_version", "agent_version must be 1-32 of [0-9A-Za-z.+_-]")
        self.store.put_device_report(DeviceReportRow(
            device_id, contributor, report.state, report.paused_until, report.gap_reason,
            report.agent_version,
            report.last_upload_at, report.spool_bytes, now))
        policy = self.store.current_policy()
        status = self.capture_status()
        exempt = self.store.is_exempt(contributor)
        if commands_after is None:
            # First sync of this agent run: only the newest command matters, if it is a pause
            # still in force (older ones were superseded or have run out).
            cursor = self.store.last_command_seq(contributor)
            newest = self.store.commands_after(contributor, cursor - 1, now - _COMMAND_HORIZON)
            commands = [c for c in newest if c.kind == "pause" and c.until is not None and c.until > now]
        else:
            recent = self.store.commands_after(contributor, commands_after, now - _COMMAND_HORIZON)
            commands = [c for c in recent if c.kind == "resume" or (c.until is not None and c.until > now)]
            cursor = max([commands_after, *(c.seq for c in recent)])
        return {
            "server_time": now,
            "capture_enabled": status.enabled and not exempt,
            "reason": "exempt" if exempt else status.reason,
            "exempt": exempt,
            "policy": None if policy is None else {
                "version": policy.version, "sha256": policy.sha256,
                "yaml": None if policy.sha256 == policy_sha256 else policy.yaml,
            },
            "consent": self.consent_state(contributor),
            "notice": {"version": self.notice.version, "sha256": self.notice.sha256},
            "commands": [{"id": c.seq, "kind": c.kind, "until": c.until, "issued_at": c.issued_at}
                         for c in commands],
            "commands_cursor": cursor,
        }

    # -- deletion -----------------------------------------------------------------------------
    def delete_data(self, contributor: str, received_from: datetime | None, received_to: datetime | None,
                    now: datetime) -> DeletionRow:
        """Delete the contributor's chunks received in [from, to) (either end open; neither:
        all of them) and record a deletion for the pipeline. The contributor stays enrolled."""
        if received_from is not None and received_to is not None and received_from >= received_to:
            raise ApiError(422, "invalid_range", "`from` must be before `to`")
        c = t.chunks.c
        query = select(c.id).where(c.contributor_id == contributor).order_by(c.received_at, c.id)
        if received_from is not None:
            query = query.where(c.received_at >= received_from)
        if received_to is not None:
            query = query.where(c.received_at < received_to)
        with self.metadata.engine.connect() as conn:
            ids = list(conn.execute(query).scalars())
        # The record first: if the deletion is cut short, the pipeline still withdraws it all
        # and running the request again deletes the rest.
        row = self.store.add_deletion(contributor, received_from, received_to, now, ids)
        for start in range(0, len(ids), 500):
            delete_chunk_ids(self.metadata, self.blobs, ids[start:start + 500])
        return row

    def _require_contributor(self, contributor: str) -> None:
        if not self.metadata.contributor_exists(contributor):
            raise ApiError(404, "not_found",
                           "your contributor record does not exist yet; enrol a device first")
        if self.metadata.tombstone(contributor) is not None:
            raise ApiError(410, "forgotten", "this contributor was forgotten")
