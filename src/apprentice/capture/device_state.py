"""Where the contributor's controls live on this device, shared by the agent and the CLI.

    $APPRENTICE_CONFIG_DIR (default ~/.config/apprentice)/
        policy.yaml     the organisation's capture policy (default location)
        consent.json    what the contributor accepted (apprentice.policy.ConsentStore)
        pause.json      {"until": ISO time} while paused; absent when not paused
        organisation.json  what the collector said at the last sync (written by
                        `apprentice agent`): {"capture_enabled", "reason", "exempt",
                        "synced_at"}; absent on a device that never synced (standalone)
        status.json     the running recorder's state, for `apprentice status`
        commands/       requests to the running recorder (`apprentice task start/end`),
                        one JSON file each, named so that name order is the order sent
        keys/           spool keys (0700)

The agent re-reads consent and pause whenever their files change, so `apprentice pause`,
`resume` and `consent withdraw` in another terminal take effect within a second, and
takes (reads, then deletes) queued commands on the same once-a-second refresh.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from apprentice.fileio import write_atomically
from apprentice.paths import config_dir
from apprentice.policy import ConsentStore

_ONE_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class OrganisationState:
    """The organisation's side of the capture decision, as last synced from the collector."""

    capture_enabled: bool = True
    reason: str | None = None  # why capture is not enabled (docs/privacy.md reason codes)
    exempt: bool = False

    @property
    def capture_disabled(self) -> str | None:
        """For :class:`apprentice.policy.CaptureState`: None, or the refusal reason."""
        return None if self.capture_enabled else (self.reason or "capture_disabled")


@dataclass(frozen=True, slots=True)
class DeviceState:
    root: Path

    @classmethod
    def default(cls) -> DeviceState:
        return cls(config_dir())

    @property
    def policy_path(self) -> Path:
        return self.root / "policy.yaml"

    @property
    def consent(self) -> ConsentStore:
        return ConsentStore(self.root / "consent.json")

    @property
    def status_path(self) -> Path:
        return self.root / "status.json"

    @property
    def pause_path(self) -> Path:
        return self.root / "pause.json"

    def paused_until(self) -> datetime | None:
        try:
            data = json.loads(self.pause_path.read_text())
            until = datetime.fromisoformat(data["until"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            # A damaged pause file means the contributor asked to pause: honour it for a
            # minute rather than record against their wish (fail closed).
            return datetime.now().astimezone().replace(microsecond=0) + _ONE_MINUTE
        return until if until.tzinfo is not None else None

    def set_pause(self, until: datetime | None) -> None:
        if until is None:
            self.pause_path.unlink(missing_ok=True)
            return
        self.root.mkdir(parents=True, exist_ok=True)
        write_atomically(self.pause_path, json.dumps({"until": until.isoformat()}).encode())

    @property
    def organisation_path(self) -> Path:
        return self.root / "organisation.json"

    def organisation(self) -> OrganisationState:
        """The last synced organisation state; no file: a standalone device (no restriction).
        A damaged file disables capture (fail closed)."""
        try:
            data = json.loads(self.organisation_path.read_text())
            state = OrganisationState(bool(data["capture_enabled"]), data.get("reason"), bool(data["exempt"]))
        except FileNotFoundError:
            return OrganisationState()
        except (OSError, ValueError, KeyError, TypeError):
            return OrganisationState(capture_enabled=False, reason="capture_disabled")
        if state.reason is not None and not isinstance(state.reason, str):
            return OrganisationState(capture_enabled=False, reason="capture_disabled", exempt=state.exempt)
        return state

    def write_organisation(self, capture_enabled: bool, reason: str | None, exempt: bool,
                           synced_at: datetime) -> bool:
        """Record what the collector said; return True if it changed (then the file is written)."""
        new = OrganisationState(capture_enabled, reason, exempt)
        if self.organisation_path.exists() and self.organisation() == new:
            return False
        self.root.mkdir(parents=True, exist_ok=True)
        body = {"capture_enabled": capture_enabled, "reason": reason, "exempt": exempt,
                "synced_at": synced_at.isoformat()}
        write_atomically(self.organisation_path, json.dumps(body).encode())
        return True

    @property
    def commands_dir(self) -> Path:
        return self.root / "commands"

    def put_command(self, command: dict[str, Any]) -> Path:
        """Queue a command for the running recorder; written whole (atomic rename)."""
        self.commands_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".command-", dir=self.commands_dir)
        with os.fdopen(fd, "w") as handle:
            json.dump(command, handle)
        path = self.commands_dir / f"{time.time_ns():020d}-{secrets.token_hex(4)}.json"
        os.replace(tmp, path)
        return path

    def take_commands(self) -> list[dict[str, Any]]:
        """Remove and return the queued commands, oldest first; unreadable ones are dropped."""
        try:
            paths = sorted(self.commands_dir.glob("[0-9]*.json"))
        except OSError:
            return []
        taken = []
        for path in paths:
            try:
                text = path.read_text()
                path.unlink()  # a command that cannot be removed is never run (not twice)
            except OSError:
                continue  # FileNotFoundError: taken by another reader, or withdrawn
            try:
                command = json.loads(text)
            except ValueError:
                continue
            if isinstance(command, dict):
                taken.append(command)
        return taken

    def stamp(self) -> tuple[float, float, float]:
        """Modification times of the consent, pause and organisation files (to notice
        changes cheaply)."""
        return (_mtime(self.root / "consent.json"), _mtime(self.pause_path), _mtime(self.organisation_path))


def read_status(state: DeviceState) -> dict[str, object]:
    """What `apprentice status` and the tray show: recording, paused (time left) or why not.

    Reads only the running recorder's status file and the pause file — never content.
    """
    info: dict[str, object] = {"recording": False, "reason": "not_running"}
    try:
        data = json.loads(state.status_path.read_text())
        os.kill(int(data["pid"]), 0)  # is that recorder still alive?
        info = data
    except (OSError, ValueError, KeyError, TypeError):
        pass
    until = state.paused_until()
    now = datetime.now().astimezone()
    if until is not None and until > now:
        info["paused_until"] = until.isoformat()
        info["pause_left_s"] = round((until - now).total_seconds())
    return info


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime_ns / 1e9
    except FileNotFoundError:
        return 0.0

