"""The embedded default behind the portal's seams (``seams.py``), until the governance API and
the pipeline service are wired in: everything on one machine, in the collector's process.

``LocalGovernance`` keeps pause commands, consent, exemptions, DPIAs and the policy text in
memory and reads devices and chunk metadata from the collector's database; deletion and
export act on the collector's real stores. ``FolderDatasets`` serves dataset folders built
by ``apprentice dataset build`` (``ROOT/<name>/<version>/``) and builds a new version by
filtering the episodes of an existing one, in a background thread with progress.
``NoEpisodes`` says that nothing has been processed yet.
"""

from __future__ import annotations

import io
import json
import secrets
import shutil
import threading
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from apprentice.policy.consent import load_notice
from apprentice.policy.rules import parse_policy
from apprentice.server.api import CollectorApi
from apprentice.server.retention import blob_key
from apprentice.web.seams import (
    BuildFilters,
    BuildJob,
    ConsentState,
    DatasetVersion,
    DeviceStatus,
    Dpia,
    EpisodeSummary,
    Exemption,
    FleetHealth,
)

DEFAULT_POLICY = """\
version: 1
allow:
  apps:
    - app_id: org.libreoffice.LibreOffice
  domains:
    - intranet.example.com
pause_cap_minutes: 30
"""
ONLINE_WITHIN = timedelta(minutes=15)

AccessEntries = Callable[[str], list[dict[str, Any]]]


class LocalGovernance:
    def __init__(self, api: CollectorApi, access_entries: AccessEntries, policy_text: str = DEFAULT_POLICY,
                 pause_cap_minutes: int = 30) -> None:
        self.api = api
        self.access_entries = access_entries
        self._policy = policy_text
        self.pause_cap_minutes = pause_cap_minutes
        self._paused_until: dict[str, datetime] = {}
        self._commands: dict[str, str] = {}
        self._consent: dict[str, tuple[int, datetime]] = {}
        self._exemptions: dict[str, Exemption] = {}
        self._dpias = {"dpia-1": Dpia("dpia-1", "Recording work applications for agent training",
                                      "Scope: allowlisted work apps; redaction on device; "
                                      "retention 90 days; no per-person reports.", "draft")}
        self._lock = threading.Lock()

    # -- contributor ----------------------------------------------------------------------
    def device_status(self, contributor: str) -> list[DeviceStatus]:
        metadata = self.api.metadata
        last = {d: at for d, _, _, at in metadata.device_overview()}
        consent = self.consent(contributor)
        paused_until = self._paused_until.get(contributor)
        result = []
        for device_id, _enrolled, revoked in metadata.devices_of(contributor):
            if revoked is not None:
                continue
            if not consent.current:
                state, reason = "gap", "no_consent"
            elif paused_until is not None:
                state, reason = "paused", None
            else:
                state, reason = "recording", None
            result.append(DeviceStatus(device_id, state, paused_until if state == "paused" else None, reason,
                                       last.get(device_id), None, self._commands.get(contributor)))
        return result

    def pause(self, contributor: str, minutes: int, now: datetime) -> None:
        minutes = max(1, min(minutes, self.pause_cap_minutes))
        with self._lock:
            self._paused_until[contributor] = now + timedelta(minutes=minutes)
            self._commands[contributor] = f"pause {minutes} min"

    def resume(self, contributor: str, now: datetime) -> None:
        with self._lock:
            self._paused_until.pop(contributor, None)
            self._commands[contributor] = "resume"

    def consent(self, contributor: str) -> ConsentState:
        notice = load_notice()
        accepted = self._consent.get(contributor)
        return ConsentState(notice.version, notice.text, accepted[0] if accepted else None,
                            accepted[1] if accepted else None)

    def accept_consent(self, contributor: str, version: int, now: datetime) -> None:
        if version != load_notice().version:
            raise ValueError("the notice changed since the page was opened; read the current one")
        with self._lock:
            self._consent[contributor] = (version, now)

    def withdraw_consent(self, contributor: str, now: datetime) -> None:
        with self._lock:
            self._consent.pop(contributor, None)

    def request_exemption(self, contributor: str, reason: str, now: datetime) -> Exemption:
        row = Exemption("ex-" + secrets.token_hex(6), contributor, reason, "requested", now)
        with self._lock:
            self._exemptions[row.id] = row
        return row

    def exemptions(self, contributor: str | None = None) -> list[Exemption]:
        rows = [e for e in self._exemptions.values()
                if contributor is None or e.contributor_id == contributor]
        return sorted(rows, key=lambda e: e.requested_at, reverse=True)

    def decide_exemption(self, exemption_id: str, approve: bool, now: datetime) -> Exemption:
        with self._lock:
            row = self._exemptions[exemption_id]
            if row.state != "requested":
                raise ValueError("this request was decided already")
            row = replace(row, state="approved" if approve else "denied", decided_at=now)
            self._exemptions[exemption_id] = row
        return row

    def delete_range(self, contributor: str, start: datetime, end: datetime, now: datetime) -> int:
        metadata = self.api.metadata
        rows = metadata.chunks_after(0, 1_000_000, contributor_id=contributor)
        ids = [r.id for _, r in rows if start <= r.received_at < end]
        for chunk_id in ids:
            self.api.blobs.delete(blob_key(chunk_id))
        return metadata.delete_chunks(ids)

    def delete_everything(self, contributor: str, now: datetime) -> int:
        return self.api.forget(contributor, "contributor", now).chunks_deleted

    def export(self, contributor: str, now: datetime) -> bytes:
        metadata = self.api.metadata
        chunks = [{"chunk_id": r.id, "device_id": r.device_id, "size": r.size,
                   "received_at": r.received_at.isoformat()}
                  for _, r in metadata.chunks_after(0, 1_000_000, contributor_id=contributor)]
        consent = self.consent(contributor)
        files: dict[str, Any] = {
            "contributor.json": {
                "contributor_id": contributor, "exported_at": now.isoformat(),
                "devices": [{"device_id": d, "enrolled_at": at.isoformat(),
                             "revoked_at": revoked.isoformat() if revoked else None}
                            for d, at, revoked in metadata.devices_of(contributor)],
            },
            "chunks.json": chunks,
            "consent.json": {"notice_version": consent.notice_version, "accepted_version":
                             consent.accepted_version, "accepted_at":
                             consent.accepted_at.isoformat() if consent.accepted_at else None},
            "exemptions.json": [{"id": e.id, "reason": e.reason, "state": e.state,
                                 "requested_at": e.requested_at.isoformat()}
                                for e in self.exemptions(contributor)],
            "access-log.json": self.access_entries(contributor),
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", "Everything apprentice's collector holds about you. The "
                             "recordings stay sealed (only the pipeline can open them); chunks.json "
                             "lists them.\n")
            for name, value in files.items():
                archive.writestr(name, json.dumps(value, indent=2, sort_keys=True))
        return buffer.getvalue()

    # -- privacy officer ------------------------------------------------------------------
    def policy_text(self) -> str:
        return self._policy

    def save_policy(self, text: str, now: datetime) -> None:
        parse_policy(text, source="policy")  # PolicyError: nothing is stored
        with self._lock:
            self._policy = text

    def dpias(self) -> list[Dpia]:
        return list(self._dpias.values())

    def approve_dpia(self, dpia_id: str, now: datetime) -> Dpia:
        with self._lock:
            row = replace(self._dpias[dpia_id], state="approved", approved_at=now)
            self._dpias[dpia_id] = row
        return row

    def fleet(self, now: datetime) -> FleetHealth:
        devices = self.api.metadata.device_overview()
        active = [d for d in devices if d[2] is None]
        uploads = [d[3] for d in devices if d[3] is not None]
        online = sum(1 for d in active if d[3] is not None and now - d[3] <= ONLINE_WITHIN)
        return FleetHealth(len(active), online, len(devices) - len(active), max(uploads, default=None),
                           {"unknown (not synced yet)": len(active)} if active else {})


class NoEpisodes:
    """No processing pipeline wired in: every contributor sees "not processed yet"."""

    def episodes_of(self, contributor: str) -> list[EpisodeSummary]:
        return []

    def thumbnail(self, contributor: str, episode_id: str) -> bytes | None:
        return None


class FolderDatasets:
    """Dataset versions as folders ``ROOT/<name>/<version>/`` written by ``apprentice dataset build``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._jobs: dict[str, BuildJob] = {}
        self._lock = threading.Lock()

    def versions(self) -> list[DatasetVersion]:
        found = []
        for manifest in sorted(self.root.glob("*/*/dataset.json")):
            folder = manifest.parent
            try:
                data = json.loads(manifest.read_text("utf-8"))
            except (OSError, ValueError):
                continue
            found.append(DatasetVersion(folder.parent.name, folder.name, int(data.get("episodes") or 0),
                                        int(data.get("steps") or 0), dict(data.get("action_mix") or {}),
                                        dict(data.get("outcomes") or {}), data.get("built_from")))
        return found

    def folder(self, name: str, version: str) -> Path:
        for v in self.versions():
            if (v.name, v.version) == (name, version):
                return self.root / name / version
        raise KeyError(f"{name}/{version}")

    def build(self, filters: BuildFilters) -> BuildJob:
        name, _, version = filters.source.partition("/")
        source = self.folder(name, version)  # KeyError: unknown source
        existing = {v.version for v in self.versions() if v.name == name}
        number = 1 + max((int(v[1:]) for v in existing if v[1:].isdigit()), default=0)
        target = self.root / name / f"v{number}"
        job = BuildJob("job-" + secrets.token_hex(6), "queued", "queued", 0, 0)
        with self._lock:
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job.id, source, target, filters), daemon=True).start()
        return job

    def job(self, job_id: str) -> BuildJob:
        with self._lock:
            return self._jobs[job_id]

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            self._jobs[job_id] = replace(self._jobs[job_id], **changes)

    def _run(self, job_id: str, source: Path, target: Path, filters: BuildFilters) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from apprentice.pipeline.export.card import EPISODES_FILE, STEPS_FILE

        staging = target.with_name(target.name + ".building")
        try:
            episodes = pq.read_table(source / EPISODES_FILE).to_pylist()
            self._update(job_id, state="running", stage="filtering episodes", total=len(episodes))
            keep = []
            for i, row in enumerate(episodes):
                if _matches(row, filters):
                    keep.append(row)
                self._update(job_id, done=i + 1)
            if not keep:
                raise ValueError("no episode matches these filters")
            ids = {row["episode_id"] for row in keep}
            steps = pq.read_table(source / STEPS_FILE)
            steps = steps.filter(pa.compute.is_in(steps["episode_id"], value_set=pa.array(sorted(ids))))
            self._update(job_id, stage="writing the new version")
            for rel, table in ((EPISODES_FILE, pa.Table.from_pylist(keep, schema=pq.read_schema(
                    source / EPISODES_FILE))), (STEPS_FILE, steps)):
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(table, staging / rel)
            images = {p for col in ("pre_image", "post_image") for p in steps[col].to_pylist() if p}
            for rel in sorted(images):
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source / rel, staging / rel)
            mix = Counter(steps["action_type"].to_pylist())
            outcomes = Counter(str(row.get("outcome")) for row in keep)
            manifest = {"name": target.parent.name, "episodes": len(keep), "steps": steps.num_rows,
                        "action_mix": dict(sorted(mix.items())), "outcomes": dict(sorted(outcomes.items())),
                        "built_from": f"{source.parent.name}/{source.name}",
                        "filters": {"apps": list(filters.apps), "outcome": filters.outcome,
                                    "min_steps": filters.min_steps},
                        "files": {"parquet": [EPISODES_FILE, STEPS_FILE]}}
            (staging / "dataset.json").write_text(json.dumps(manifest, indent=2), "utf-8")
            staging.rename(target)
            self._update(job_id, state="done", stage="done", result=f"{target.parent.name}/{target.name}")
        except Exception as exc:  # the job reports it; the thread must not die silently
            shutil.rmtree(staging, ignore_errors=True)
            message = str(exc) if isinstance(exc, ValueError) else f"the build failed ({type(exc).__name__})"
            self._update(job_id, state="failed", stage="failed", error=message)


def _matches(row: dict[str, Any], filters: BuildFilters) -> bool:
    if filters.apps and not set(filters.apps) & set(row.get("apps") or ()):
        return False
    if filters.outcome and row.get("outcome") != filters.outcome:
        return False
    return int(row.get("num_steps") or 0) >= filters.min_steps
