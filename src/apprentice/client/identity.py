"""A device's enrolment, kept outside every data folder:

    ~/.config/apprentice/device/device.key    Ed25519 private seed, mode 0600
    ~/.config/apprentice/device/device.json   device id, contributor, their public key, server

``$APPRENTICE_DEVICE_DIR`` overrides the folder. device.json holds no secret.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

from apprentice.crypto import load_key_file
from apprentice.errors import ConfigError
from apprentice.paths import device_dir


def default_identity_dir() -> Path:
    return device_dir()


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    device_id: str
    contributor_id: str
    key_id: str
    contributor_public_key: bytes
    server_url: str
    signing_seed: bytes

    def __repr__(self) -> str:  # never print the seed
        return f"DeviceIdentity({self.device_id!r}, contributor={self.contributor_id!r})"


def save_identity(folder: Path, identity: DeviceIdentity) -> None:
    doc = {
        "device_id": identity.device_id,
        "contributor_id": identity.contributor_id,
        "key_id": identity.key_id,
        "contributor_public_key": b64(identity.contributor_public_key),
        "server_url": identity.server_url,
    }
    tmp = folder / "device.json.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(doc, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, folder / "device.json")


def load_identity(folder: Path | None = None) -> DeviceIdentity:
    folder = folder or default_identity_dir()
    try:
        doc = json.loads((folder / "device.json").read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"this device is not enrolled ({folder}/device.json missing); "
            "run: apprentice enroll --server URL --token TOKEN"
        ) from None
    except ValueError:
        raise ConfigError(f"{folder}/device.json is damaged; enrol again") from None
    seed = load_key_file(folder / "device.key")
    try:
        return DeviceIdentity(
            doc["device_id"], doc["contributor_id"], doc["key_id"],
            unb64(doc["contributor_public_key"]), doc["server_url"], seed,
        )
    except (KeyError, ValueError, TypeError):
        raise ConfigError(f"{folder}/device.json is damaged; enrol again") from None


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii") + b"==")
