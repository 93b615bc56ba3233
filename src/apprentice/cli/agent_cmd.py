"""``apprentice agent``: the endpoint daemon — sync with the collector, upload the spool, and
(with ``--record``) run the recorder while the device may record (docs/governance.md)."""

from __future__ import annotations

import logging
import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

log = logging.getLogger("apprentice.agent")
_REASON = re.compile(r"^[a-z_]{1,24}(:[a-z_]{1,22})?$")


def agent(
    spool: Path = typer.Option(..., "--spool", help="The spool folder the recorder writes."),
    key_file: Path | None = typer.Option(None, "--key-file", help="Spool key (default: its usual place)."),
    device_dir: Path | None = typer.Option(None, "--device-dir", help="Enrolled device folder."),
    interval: float = typer.Option(30.0, "--interval", min=0.1, help="Seconds between upload passes."),
    once: bool = typer.Option(False, "--once", help="Sync and upload once, then exit."),
    record: bool = typer.Option(
        False, "--record/--no-record",
        help="Also run the recorder, once consent, policy and the organisation allow it."),
    sync: bool = typer.Option(True, "--sync/--no-sync",
                              help="Sync policy, consent, exemption and pause with the collector."),
    sync_interval: float = typer.Option(10.0, "--sync-interval", min=0.5, help="Seconds between syncs."),
) -> None:
    """Sync with the collector, seal each closed spool segment to your contributor key and
    upload it, and with --record run the recorder.

    Every sync reports this device's state (never content) and applies what the collector
    says: the organisation's policy, your consent from the portal, exemption, and pause or
    resume requests. Until the organisation approved its DPIA and you accepted the notice in
    the portal, nothing is recorded. Segments are deleted only after the collector
    acknowledges them; while it is away the spool keeps recording within its size cap.

    Example: apprentice agent --spool ~/recordings/agent --record
    """
    from apprentice import __version__
    from apprentice.capture.device_state import DeviceState, read_status
    from apprentice.capture.supervise import RecorderSupervisor
    from apprentice.client import DeviceSync, SpoolUploader, Uploader, load_identity
    from apprentice.crypto import load_key_file
    from apprentice.errors import UploadError, UploadRejected
    from apprentice.spool import open_layout

    identity = load_identity(device_dir)
    state = DeviceState.default()
    uploader = Uploader(identity)
    syncer = DeviceSync(Uploader(identity, max_attempts=2, timeout=15.0), state) if sync else None
    supervisor = RecorderSupervisor(spool, state, key_file=key_file) if record else None
    spool_uploader: SpoolUploader | None = None
    last_upload: datetime | None = None
    exempt = purged = False
    stop = threading.Event()
    next_upload = next_sync = 0.0

    def report() -> dict[str, Any]:
        info = read_status(state)
        reason = str(info.get("reason", ""))
        if exempt:
            word = "exempt"
        elif "paused_until" in info:
            word = "paused"
        elif info.get("recording"):
            word = "recording"
        elif reason == "idle":
            word = "idle"
        elif reason == "not_running":
            word = "not_running"
        else:
            word = "stopped"
        body: dict[str, Any] = {"state": word, "agent_version": __version__[:32],
                                "spool_bytes": _spool_bytes(spool)}
        if reason and _REASON.match(reason) and reason != "not_running":
            body["gap_reason"] = reason
        if "paused_until" in info:
            body["paused_until"] = info["paused_until"]
        if last_upload is not None:
            body["last_upload_at"] = last_upload.isoformat()
        return body

    try:
        while True:
            now = time.monotonic()
            if syncer is not None and now >= next_sync:
                next_sync = now + sync_interval
                try:
                    outcome = syncer.run_once(report())
                    if outcome.changed:
                        typer.echo(f"synced: {', '.join(outcome.changed)}", err=True)
                    if outcome.exempt and not exempt:
                        exempt = True
                        typer.echo("you have been exempted: recording stops and everything not yet "
                                   "uploaded is destroyed", err=True)
                except UploadError as exc:
                    if once:
                        raise
                    log.warning("sync failed, will retry: %s", exc)
            if supervisor is not None:
                supervisor.tick()
            if exempt:
                if not purged and not (supervisor is not None and supervisor.running):
                    _discard(spool, key_file, spool_uploader)
                    purged = True
            elif now >= next_upload:
                next_upload = now + interval
                if spool_uploader is None and (spool / "spool.json").exists():
                    key = load_key_file(key_file or open_layout(spool).key_path())
                    spool_uploader = SpoolUploader(spool, key, uploader)
                try:
                    if spool_uploader is not None:
                        stats = spool_uploader.run_once()
                        if stats.chunks:
                            last_upload = datetime.now(UTC)
                            typer.echo(f"uploaded {stats.chunks} chunks ({stats.bytes / 1e6:.1f} MB)",
                                       err=True)
                except UploadRejected as exc:
                    if exc.status == 403 and "exempt" in str(exc):
                        exempt = True
                        continue
                    raise
                except UploadError as exc:
                    if once:
                        raise
                    log.warning("upload pass failed, will retry: %s", exc)
            if once or stop.wait(min(1.0, sync_interval, interval)):
                break
    except KeyboardInterrupt:
        pass
    finally:
        if supervisor is not None:
            supervisor.stop()
        uploader.close()


def _spool_bytes(spool: Path) -> int:
    try:
        return sum(p.stat().st_size for p in (spool / "segments").iterdir())
    except OSError:
        return 0


def _discard(spool: Path, key_file: Path | None, spool_uploader: Any) -> None:
    """Exempt, and the recorder has stopped: destroy the spool (its key first) and the
    sealed outbox, so nothing not yet uploaded survives."""
    from apprentice.capture.recorder import purge_spool

    if (spool / "spool.json").exists():
        purge_spool(spool, key_file)
    outbox = spool_uploader.outbox if spool_uploader is not None else spool / "outbox"
    for entry in outbox.glob("*.chunk") if outbox.is_dir() else ():
        entry.unlink(missing_ok=True)
