"""Where the contributor's controls live on this device, shared by the agent and the CLI.

    $APPRENTICE_CONFIG_DIR (default ~/.config/apprentice)/
        policy.yaml     the organisation's capture policy (default location)
        consent.json    what the contributor accepted (apprentice.policy.ConsentStore)
        pause.json      {"until": ISO time} while paused; absent when not paused
        status.json     the running recorder's state, for `apprentice status`
        keys/           spool keys (0700)

The agent re-reads consent and pause whenever their files change, so `apprentice pause`,
`resume` and `consent withdraw` in another terminal take effect within a second.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from apprentice.policy import ConsentStore

_ONE_MINUTE = timedelta(minutes=1)


def config_dir() -> Path:
    if override := os.environ.get("APPRENTICE_CONFIG_DIR"):
        return Path(override)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "apprentice"


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
        fd, tmp = tempfile.mkstemp(prefix=".pause-", dir=self.root)
        with os.fdopen(fd, "w") as handle:
            json.dump({"until": until.isoformat()}, handle)
        os.replace(tmp, self.pause_path)

    def stamp(self) -> tuple[float, float]:
        """Modification times of the consent and pause files (to notice changes cheaply)."""
        return (_mtime(self.root / "consent.json"), _mtime(self.pause_path))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime_ns / 1e9
    except FileNotFoundError:
        return 0.0

