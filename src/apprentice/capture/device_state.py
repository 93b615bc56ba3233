"""Where the contributor's controls live on this device, shared by the agent and the CLI.

    $APPRENTICE_CONFIG_DIR (default ~/.config/apprentice)/
        policy.yaml     the organisation's capture policy (default location)
        consent.json    what the contributor accepted (apprentice.policy.ConsentStore)
        pause.json      {"until": ISO time} while paused; absent when not paused
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

    def stamp(self) -> tuple[float, float]:
        """Modification times of the consent and pause files (to notice changes cheaply)."""
        return (_mtime(self.root / "consent.json"), _mtime(self.pause_path))


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

