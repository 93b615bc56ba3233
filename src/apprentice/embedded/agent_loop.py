"""The endpoint daemon's loop: sync with the collector, supervise the recorder, upload the spool.

Shared by ``apprentice agent`` (its own process) and ``apprentice up`` (a thread beside the
collector and the pipeline). It lives at the edge because it joins the device's two halves,
``capture`` (the recorder and its device-state files) and ``client`` (sync and upload), which
may not import each other (docs/architecture.md).

One :meth:`AgentLoop.step` syncs when the sync interval is due (reporting states and counts,
never content), lets the supervisor start the recorder once the device may record, and
uploads the spool's closed segments when the upload interval is due. An exemption stops the
recorder and destroys what was not uploaded. :meth:`AgentLoop.drain` stops the recorder and
uploads what it left, for a clean shutdown.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apprentice.capture.device_state import DeviceState, read_status
from apprentice.capture.supervise import RecorderSupervisor
from apprentice.client import DeviceSync, SpoolUploader, Uploader
from apprentice.client.agent import UploadStats
from apprentice.client.identity import DeviceIdentity
from apprentice.crypto import load_key_file
from apprentice.errors import UploadError, UploadRejected
from apprentice.spool import open_layout

log = logging.getLogger("apprentice.agent")
_REASON = re.compile(r"^[a-z_]{1,24}(:[a-z_]{1,22})?$")


class AgentLoop:
    def __init__(self, spool: Path, state: DeviceState, identity: DeviceIdentity, *,
                 key_file: Path | None = None, record: bool = False, sync: bool = True,
                 upload_interval: float = 30.0, sync_interval: float = 10.0,
                 recorder_options: dict[str, Any] | None = None,
                 echo: Callable[[str], None] = lambda line: None) -> None:
        self.spool = spool
        self.state = state
        self.key_file = key_file
        self.upload_interval = upload_interval
        self.sync_interval = sync_interval
        self.echo = echo
        self.uploader = Uploader(identity)
        self._sync_uploader = Uploader(identity, max_attempts=2, timeout=15.0) if sync else None
        self.syncer = DeviceSync(self._sync_uploader, state) if self._sync_uploader is not None else None
        self.supervisor = (RecorderSupervisor(spool, state, key_file=key_file, **(recorder_options or {}))
                           if record else None)
        self.spool_uploader: SpoolUploader | None = None
        self.last_upload: datetime | None = None
        self.exempt = False
        self.purged = False
        self.uploaded_chunks = 0
        self._next_upload = self._next_sync = 0.0

    # -- one iteration --------------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        """This device's state for the collector: a state word, a reason code, counts."""
        from apprentice import __version__

        info = read_status(self.state)
        reason = str(info.get("reason", ""))
        if self.exempt:
            word = "exempt"
        elif "paused_until" in info:
            word = "paused"
        elif info.get("recording"):
            word = "recording"
        elif reason in ("idle", "not_running"):
            word = reason
        else:
            word = "stopped"
        body: dict[str, Any] = {"state": word, "agent_version": __version__[:32],
                                "spool_bytes": _spool_bytes(self.spool)}
        if reason and _REASON.match(reason) and reason != "not_running":
            body["gap_reason"] = reason
        if "paused_until" in info:
            body["paused_until"] = info["paused_until"]
        if self.last_upload is not None:
            body["last_upload_at"] = self.last_upload.isoformat()
        return body

    def sync_now(self, *, raise_errors: bool = False) -> None:
        if self.syncer is None:
            return
        self._next_sync = time.monotonic() + self.sync_interval
        try:
            outcome = self.syncer.run_once(self.report())
        except UploadError as exc:
            if raise_errors:
                raise
            log.warning("sync failed, will retry: %s", exc)
            return
        if outcome.changed:
            self.echo(f"synced: {', '.join(outcome.changed)}")
        if outcome.exempt and not self.exempt:
            self.exempt = True
            self.echo("you have been exempted: recording stops and everything not yet uploaded is destroyed")

    def upload_now(self, *, raise_errors: bool = False) -> UploadStats | None:
        self._next_upload = time.monotonic() + self.upload_interval
        if self.spool_uploader is None and (self.spool / "spool.json").exists():
            key = load_key_file(self.key_file or open_layout(self.spool).key_path())
            self.spool_uploader = SpoolUploader(self.spool, key, self.uploader)
        if self.spool_uploader is None:
            return None
        try:
            stats = self.spool_uploader.run_once()
        except UploadRejected as exc:
            if exc.status == 403 and "exempt" in str(exc):
                self.exempt = True
                return None
            raise
        except UploadError as exc:
            if raise_errors:
                raise
            log.warning("upload pass failed, will retry: %s", exc)
            return None
        if stats.chunks:
            self.last_upload = datetime.now(UTC)
            self.uploaded_chunks += stats.chunks
            self.echo(f"uploaded {stats.chunks} chunks ({stats.bytes / 1e6:.1f} MB)")
        return stats

    def step(self, *, raise_errors: bool = False) -> None:
        now = time.monotonic()
        if self.syncer is not None and now >= self._next_sync:
            self.sync_now(raise_errors=raise_errors)
        if self.supervisor is not None:
            self.supervisor.tick()
        if self.exempt:
            if not self.purged and not (self.supervisor is not None and self.supervisor.running):
                self._discard()
                self.purged = True
        elif now >= self._next_upload:
            self.upload_now(raise_errors=raise_errors)

    def run(self, stop: threading.Event, *, once: bool = False) -> None:
        """Step until ``stop`` is set (or once)."""
        while True:
            self.step(raise_errors=once)
            if once or stop.wait(min(1.0, self.sync_interval, self.upload_interval)):
                return

    # -- shutdown -------------------------------------------------------------------------

    def drain(self) -> None:
        """Stop the recorder (its last segments close) and upload what it left."""
        if self.supervisor is not None:
            self.supervisor.stop()
        if not self.exempt:
            self.upload_now()

    def close(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
        self.uploader.close()
        if self._sync_uploader is not None:
            self._sync_uploader.close()

    def _discard(self) -> None:
        """Exempt, and the recorder has stopped: destroy the spool (its key first) and the
        sealed outbox, so nothing not yet uploaded survives."""
        from apprentice.capture.recorder import purge_spool

        if (self.spool / "spool.json").exists():
            purge_spool(self.spool, self.key_file)
        outbox = self.spool_uploader.outbox if self.spool_uploader is not None else self.spool / "outbox"
        for entry in outbox.glob("*.chunk") if outbox.is_dir() else ():
            entry.unlink(missing_ok=True)


def _spool_bytes(spool: Path) -> int:
    try:
        return sum(p.stat().st_size for p in (spool / "segments").iterdir())
    except OSError:
        return 0
