"""Enrolling this device: make an Ed25519 key pair, register it with a one-time token."""

from __future__ import annotations

from pathlib import Path

import httpx

from apprentice.client.identity import DeviceIdentity, b64, save_identity, unb64
from apprentice.crypto import create_key_file, key_id, signing_public_key
from apprentice.errors import ConfigError, UploadError, UploadRejected


def enroll(server_url: str, token: str, folder: Path, *,
           transport: httpx.BaseTransport | None = None,
           client: httpx.Client | None = None) -> DeviceIdentity:
    """Create the device key in ``folder`` (0600), register it, save device.json.

    Refuses if this folder already holds an enrolled device.
    """
    if (folder / "device.json").exists():
        raise ConfigError(f"this device is already enrolled ({folder}/device.json); revoke it first")
    key_path = folder / "device.key"
    key_path.unlink(missing_ok=True)  # a key from an enrolment that never completed
    seed = create_key_file(key_path)
    body = {"token": token, "device_public_key": b64(signing_public_key(seed))}
    try:
        http = client or httpx.Client(base_url=server_url, transport=transport, timeout=30)
        response = http.post("/api/v1/enrolments", json=body)
        if client is None:
            http.close()
    except httpx.TransportError as exc:
        raise UploadError(f"cannot reach the collector at {server_url} ({type(exc).__name__})") from None
    if response.status_code != 201:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.reason_phrase
        raise UploadRejected(response.status_code, message)
    doc = response.json()
    public = unb64(doc["contributor_public_key"])
    if key_id(public) != doc["key_id"]:
        raise UploadError("the collector sent an inconsistent contributor key; not enrolling")
    identity = DeviceIdentity(
        doc["device_id"], doc["contributor_id"], doc["key_id"], public, server_url, seed
    )
    save_identity(folder, identity)
    return identity
