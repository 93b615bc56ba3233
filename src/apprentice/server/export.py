"""A contributor's data export ("export my data"): one zip with a ``manifest.json``.

Contents, all about the caller and nobody else (docs/governance.md):

    manifest.json            format, contributor id, generated_at, every file with sha256 and
                             size, counts
    contributor.json         the contributor record (created, devices, key present)
    chunks.json              metadata of their stored chunks (ids, sizes, receipt times);
                             the chunks themselves are sealed and useless to a person
    consent.json             their consent history (accepted / withdrawn, notice version)
    exemption_requests.json  their exemption requests and decisions
    deletions.json           the deletions they asked for
    devices.json             their devices' last reported state
    access_history.json      the audit entries whose subject is them (who accessed what, why)
    episodes/…               their redacted episodes, from the pipeline side

The zip is built in memory (sizes are metadata plus redacted episodes) with fixed
timestamps, so two exports of the same data differ only in ``generated_at``.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, is_dataclass
from datetime import datetime
from typing import Any

from apprentice.server.governance import Governance

EXPORT_FORMAT = "apprentice-export"
EXPORT_VERSION = 1
_EPOCH = (1980, 1, 1, 0, 0, 0)


def _json(value: Any) -> bytes:
    return json.dumps(value, default=_default, indent=2, sort_keys=True).encode("utf-8")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"cannot export {type(value).__name__}")


def _safe_name(name: str) -> str | None:
    """An episode file name as given by the archive, refused if it could escape its folder."""
    parts = name.replace("\\", "/").split("/")
    if not name or any(p in ("", ".", "..") for p in parts) or len(name) > 200:
        return None
    return "/".join(parts)


def build_export(gov: Governance, contributor: str, now: datetime, *, record: dict[str, Any] | None,
                 audit_entries: Iterable[Any] | None) -> tuple[bytes, dict[str, Any]]:
    """The zip bytes and its manifest. ``audit_entries`` is None when the audit sink cannot
    list entries by subject (then the manifest says ``access_history_available: false``)."""
    metadata, store = gov.metadata, gov.store
    chunks = []
    after = 0
    while True:
        page = metadata.chunks_after(after, 1000, contributor_id=contributor)
        chunks += [{"chunk_id": r.id, "device_id": r.device_id, "size": r.size, "received_at": r.received_at}
                   for _, r in page]
        if len(page) < 1000:
            break
        after = page[-1][0]
    consent = [{"accepted": r.accepted, "notice_version": r.notice_version, "notice_sha256": r.notice_sha256,
                "at": r.at} for r in store.consent_history(contributor)]
    exemptions = [{"id": r.id, "reason": r.reason, "status": r.status, "requested_at": r.requested_at,
                   "decided_at": r.decided_at} for r in store.exemption_requests(contributor_id=contributor)]
    deletions = [{"deletion_id": str(r.seq), "received_from": r.received_from, "received_to": r.received_to,
                  "requested_at": r.requested_at, "chunks_deleted": r.chunks_deleted}
                 for r, _ in store.deletions_after(0, 100_000, contributor_id=contributor)]
    devices = [{"device_id": r.device_id, "state": r.state, "paused_until": r.paused_until,
                "gap_reason": r.gap_reason, "agent_version": r.agent_version,
                "last_upload_at": r.last_upload_at,
                "spool_bytes": r.spool_bytes, "reported_at": r.reported_at}
               for r in store.device_reports(contributor)]
    access = None if audit_entries is None else [_entry(e) for e in audit_entries]
    # Defence in depth: whatever a sink returns, only entries about this contributor leave.
    if access is not None:
        access = [e for e in access if e.get("subject") == contributor]
    files: list[tuple[str, bytes]] = [
        ("contributor.json", _json(record or {"contributor_id": contributor})),
        ("chunks.json", _json(chunks)),
        ("consent.json", _json(consent)),
        ("exemption_requests.json", _json(exemptions)),
        ("deletions.json", _json(deletions)),
        ("devices.json", _json(devices)),
        ("access_history.json", _json(access if access is not None else [])),
    ]
    episodes = 0
    for name, data in gov.episodes.episodes_for(contributor):
        safe = _safe_name(name)
        if safe is None:
            continue
        files.append((f"episodes/{safe}", bytes(data)))
        episodes += 1
    manifest = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "contributor_id": contributor,
        "generated_at": now,
        "files": [{"name": n, "sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)} for n, d in files],
        "counts": {"chunks": len(chunks), "consent_events": len(consent),
                   "exemption_requests": len(exemptions),
                   "deletions": len(deletions), "devices": len(devices),
                   "access_entries": len(access) if access is not None else 0, "episode_files": episodes},
        "access_history_available": access is not None,
        "episodes_available": getattr(gov.episodes, "available", True),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in [("manifest.json", _json(manifest)), *files]:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue(), manifest


def _entry(entry: Any) -> dict[str, Any]:
    if is_dataclass(entry) and not isinstance(entry, type):
        data = asdict(entry)
    elif isinstance(entry, dict):
        data = dict(entry)
    else:
        data = {k: getattr(entry, k) for k in ("at", "actor", "role", "action", "resource", "subject",
                                              "purpose", "decision") if hasattr(entry, k)}
    data.pop("leaf_hash", None)
    return data
