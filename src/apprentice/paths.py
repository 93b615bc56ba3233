"""Where apprentice keeps its per-user files on a device, in one place.

    $APPRENTICE_CONFIG_DIR (default $XDG_CONFIG_HOME/apprentice, i.e. ~/.config/apprentice)
        policy.yaml, consent.json, pause.json, status.json   (capture/device_state.py)
        keys/      spool keys, 0700        ($APPRENTICE_KEY_DIR overrides)
        device/    the enrolled device key ($APPRENTICE_DEVICE_DIR overrides)
        audit/audit-signing.key   the collector's audit checkpoint key, 0600
                                  ($APPRENTICE_AUDIT_KEY overrides; on the server machine)

Everything here is outside every spool and data folder, so copying recordings never copies
a key. Standard library only (layer 0).
"""

from __future__ import annotations

import os
from pathlib import Path


def config_dir() -> Path:
    if override := os.environ.get("APPRENTICE_CONFIG_DIR"):
        return Path(override)
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "apprentice"


def _sub(env: str, name: str) -> Path:
    override = os.environ.get(env)
    return Path(override) if override else config_dir() / name


def key_dir() -> Path:
    """Spool keys."""
    return _sub("APPRENTICE_KEY_DIR", "keys")


def device_dir() -> Path:
    """The enrolled device's identity."""
    return _sub("APPRENTICE_DEVICE_DIR", "device")


def audit_key_file() -> Path:
    """The Ed25519 seed that signs audit checkpoints (server side, never in a data folder)."""
    override = os.environ.get("APPRENTICE_AUDIT_KEY")
    return Path(override) if override else config_dir() / "audit" / "audit-signing.key"
