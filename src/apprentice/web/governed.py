"""The portal's :class:`~apprentice.web.seams.Governance` over the collector's governance
service (``apprentice.server.governance.Governance``, docs/governance.md): the same rows the
``/api/v1`` governance routes read and write, so the portal and the API never disagree.

Fleet figures are aggregated here from the device table and the devices' sync reports;
nothing per person leaves this module for the officer's pages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apprentice.server.export import build_export
from apprentice.server.governance import Governance as GovernanceService
from apprentice.web.seams import ConsentState, DeviceStatus, Dpia, Exemption, FleetHealth

ONLINE_WITHIN = timedelta(minutes=15)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _exemption(row: Any) -> Exemption:
    return Exemption(row.id, row.contributor_id, row.reason or "", row.status, row.requested_at,
                     row.decided_at)


def _dpia(row: Any) -> Dpia:
    return Dpia(row.id, row.title, row.summary, row.status, row.approved_at)


class ServerGovernance:
    def __init__(self, service: GovernanceService, audit_entries: Callable[[str], Any] | None = None) -> None:
        self.service = service
        self.audit_entries = audit_entries

    # -- contributor ----------------------------------------------------------------------
    def device_status(self, contributor: str) -> list[DeviceStatus]:
        reports = {r.device_id: r for r in self.service.store.device_reports(contributor)}
        pending = self._pending_command(contributor)
        out = []
        for device_id, _enrolled, revoked in self.service.metadata.devices_of(contributor):
            if revoked is not None:
                continue
            r = reports.get(device_id)
            if r is None:
                out.append(DeviceStatus(device_id, "unknown", pending_command=pending))
                continue
            state = {"recording": "recording", "paused": "paused"}.get(r.state, "gap")
            reason = r.gap_reason or (None if state != "gap" else r.state)
            out.append(DeviceStatus(device_id, state, r.paused_until, reason, r.reported_at, r.agent_version,
                                    pending))
        return out

    def _pending_command(self, contributor: str) -> str | None:
        store = self.service.store
        seq = store.last_command_seq(contributor)
        if not seq:
            return None
        rows = store.commands_after(contributor, seq - 1, _EPOCH)
        if not rows:
            return None
        last = rows[-1]
        return "pause" if last.kind == "pause" else "resume"

    def pause(self, contributor: str, minutes: int, now: datetime) -> None:
        self.service.pause(contributor, minutes, now)

    def resume(self, contributor: str, now: datetime) -> None:
        self.service.resume(contributor, now)

    def consent(self, contributor: str) -> ConsentState:
        notice = self.service.notice
        row = self.service.store.current_consent(contributor)
        accepted = row is not None and row.accepted and row.notice_sha256 == notice.sha256
        return ConsentState(notice.version, notice.text, row.notice_version if accepted and row else None,
                            row.at if accepted and row else None)

    def accept_consent(self, contributor: str, version: int, now: datetime) -> None:
        notice = self.service.notice
        if version != notice.version:
            raise ValueError("the notice changed since the page was opened")
        self.service.accept_notice(contributor, version, notice.sha256, now)

    def withdraw_consent(self, contributor: str, now: datetime) -> None:
        self.service.withdraw_consent(contributor, now)

    def request_exemption(self, contributor: str, reason: str, now: datetime) -> Exemption:
        return _exemption(self.service.request_exemption(contributor, reason, now))

    def exemptions(self, contributor: str | None = None) -> list[Exemption]:
        rows = self.service.store.exemption_requests(contributor_id=contributor)
        return sorted((_exemption(r) for r in rows), key=lambda e: e.requested_at, reverse=True)

    def decide_exemption(self, exemption_id: str, approve: bool, by: str, now: datetime) -> Exemption:
        return _exemption(self.service.decide_exemption(exemption_id, approve, by, now))

    def delete_range(self, contributor: str, start: datetime, end: datetime, now: datetime) -> int:
        return self.service.delete_data(contributor, start, end, now).chunks_deleted

    def delete_everything(self, contributor: str, now: datetime) -> int:
        return self.service.delete_data(contributor, None, None, now).chunks_deleted

    def export(self, contributor: str, now: datetime) -> bytes:
        entries = self.audit_entries(contributor) if self.audit_entries is not None else None
        data, _ = build_export(self.service, contributor, now, record=None, audit_entries=entries)
        return data

    # -- privacy officer ------------------------------------------------------------------
    def policy_text(self) -> str:
        row = self.service.store.current_policy()
        return "" if row is None else row.yaml

    def save_policy(self, text: str, by: str, now: datetime) -> int | None:
        change = self.service.publish_policy(text.encode("utf-8"), by, now)
        return change.version if change.created else None

    def dpias(self) -> list[Dpia]:
        return [_dpia(r) for r in self.service.store.dpias()]

    def approve_dpia(self, dpia_id: str, by: str, now: datetime) -> Dpia:
        return _dpia(self.service.approve_dpia(dpia_id, by, now))

    def fleet(self, now: datetime) -> FleetHealth:
        devices = self.service.metadata.device_overview()
        active = [d for d in devices if d[2] is None]
        online = sum(1 for d in active if d[5] is not None and now - d[5] <= ONLINE_WITHIN)
        versions = Counter(d[4] or "not synced yet" for d in active)
        uploads = [d[3] for d in devices if d[3] is not None]
        return FleetHealth(len(active), online, len(devices) - len(active), max(uploads, default=None),
                           dict(sorted(versions.items())))

