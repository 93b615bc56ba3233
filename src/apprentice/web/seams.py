"""What the portal asks of the rest of the system: three small protocols and their records.

The portal renders and authorises; it owns no state of its own beyond sign-in. Each
protocol below is one place the lead wires a service in (docs/portal.md, "Wiring"):

- :class:`Governance` — device sync state, pause/resume commands, consent, exemptions,
  deletion, export, the capture policy, DPIAs and fleet figures (the governance API);
- :class:`EpisodeCatalog` — a contributor's processed episodes with redacted thumbnails
  (the pipeline service);
- :class:`DatasetCatalog` — datasets, their versions, builds with progress, and the folder
  a version lives in (the pipeline service; ``local.FolderDatasets`` works on built folders).

Every method is called after the page's ``authorize(...)`` allowed the request, with the
contributor id the decision was about; implementations need not re-check access. No method
returns per-person activity figures except to that person (``activity-self-only``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

# The records the pipeline's catalogs return are defined once, by the pipeline (which may not
# import the web layer); the portal uses them as they are.
from apprentice.pipeline.service.catalog import BuildJob, DatasetVersion, EpisodeSummary

__all__ = [
    "BuildFilters", "BuildJob", "ConsentState", "DatasetCatalog", "DatasetVersion", "DeviceStatus", "Dpia",
    "EpisodeCatalog", "EpisodeSummary", "Exemption", "FleetHealth", "Governance",
]


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """What the server last heard from one device. ``state``: recording, paused, gap or unknown."""

    device_id: str
    state: str
    paused_until: datetime | None = None
    gap_reason: str | None = None
    last_sync: datetime | None = None
    agent_version: str | None = None
    pending_command: str | None = None


@dataclass(frozen=True, slots=True)
class ConsentState:
    notice_version: int
    notice_text: str
    accepted_version: int | None
    accepted_at: datetime | None

    @property
    def current(self) -> bool:
        return self.accepted_version == self.notice_version


@dataclass(frozen=True, slots=True)
class Exemption:
    id: str
    contributor_id: str
    reason: str
    state: str  # pending | approved | denied
    requested_at: datetime
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Dpia:
    id: str
    title: str
    summary: str
    state: str  # draft | approved
    approved_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FleetHealth:
    """Aggregates only: how many devices, how many online, newest upload, agent versions."""

    enrolled: int
    online: int
    revoked: int
    last_upload: datetime | None
    agent_versions: dict[str, int] = field(default_factory=dict)


class Governance(Protocol):
    def device_status(self, contributor: str) -> list[DeviceStatus]:
        """The contributor's devices as last synced (state, pause end, gap reason, version)."""
        ...

    def pause(self, contributor: str, minutes: int, now: datetime) -> None:
        """Queue a pause for every device of the contributor (capped by policy)."""
        ...

    def resume(self, contributor: str, now: datetime) -> None: ...

    def consent(self, contributor: str) -> ConsentState: ...

    def accept_consent(self, contributor: str, version: int, now: datetime) -> None:
        """Record acceptance of notice ``version``; ValueError if it is not the current one."""
        ...

    def withdraw_consent(self, contributor: str, now: datetime) -> None: ...

    def request_exemption(self, contributor: str, reason: str, now: datetime) -> Exemption: ...

    def exemptions(self, contributor: str | None = None) -> list[Exemption]:
        """One contributor's requests, or (None) the whole queue for the privacy officer."""
        ...

    def decide_exemption(self, exemption_id: str, approve: bool, by: str, now: datetime) -> Exemption:
        """KeyError for an unknown id; ValueError if it was decided already."""
        ...

    def delete_range(self, contributor: str, start: datetime, end: datetime, now: datetime) -> int:
        """Delete the contributor's recordings received in [start, end); how many chunks."""
        ...

    def delete_everything(self, contributor: str, now: datetime) -> int: ...

    def export(self, contributor: str, now: datetime) -> bytes:
        """A zip of everything held about the contributor (metadata; ciphertext stays sealed)."""
        ...

    def policy_text(self) -> str: ...

    def save_policy(self, text: str, by: str, now: datetime) -> int | None:
        """Store and distribute a policy; PolicyError if it does not validate. The new
        version's number, or None when the text equals the policy in force (nothing stored)."""
        ...

    def dpias(self) -> list[Dpia]: ...

    def approve_dpia(self, dpia_id: str, by: str, now: datetime) -> Dpia: ...

    def fleet(self, now: datetime) -> FleetHealth: ...


class EpisodeCatalog(Protocol):
    def episodes_of(self, contributor: str) -> list[EpisodeSummary]:
        """The contributor's processed episodes, newest first (empty: none processed yet)."""
        ...

    def thumbnail(self, contributor: str, episode_id: str) -> bytes | None:
        """A redacted PNG thumbnail of the episode, or None."""
        ...


@dataclass(frozen=True, slots=True)
class BuildFilters:
    source: str  # "name/version" to derive from
    apps: tuple[str, ...] = ()
    outcome: str | None = None
    min_steps: int = 1


class DatasetCatalog(Protocol):
    def versions(self) -> list[DatasetVersion]: ...

    def folder(self, name: str, version: str) -> Path:
        """The folder of one version (Parquet + images, docs/dataset-format.md); KeyError if unknown."""
        ...

    def build(self, filters: BuildFilters) -> BuildJob:
        """Start building a new version; ValueError for filters that select nothing valid."""
        ...

    def job(self, job_id: str) -> BuildJob:
        """KeyError for an unknown job."""
        ...
