"""Who is calling, for a device: signed device requests (accounts use bearer tokens, see
``accounts.py``; both are resolved by ``deps.authorize``).

A device request is accepted only when, in this order: (1) the signature headers are
present and well-formed; (2) the timestamp is inside the replay window; (3) the device is
known and not revoked; (4) the Ed25519 signature verifies over method, path, device,
timestamp, nonce and body hash (:func:`apprentice.crypto.request_message`); (5) the nonce
was not used before by this device (the database enforces it, across replicas). Every
failure is a 401 that says which step failed but never echoes what was sent.

A chunk upload defers step (5) with :func:`verify_device_request`: the route records the
nonce in the same transaction as the chunk row (``MetadataStore.record_upload``), so an
upload costs one commit, and the replay check is still the database's.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from apprentice.crypto import request_message, verify
from apprentice.errors import VerificationError
from apprentice.server.problems import ApiError, unauthorized
from apprentice.server.storage.metadata import DeviceRow, MetadataStore, NonceClaim

DEVICE_HEADER = "x-apprentice-device"
TIMESTAMP_HEADER = "x-apprentice-timestamp"
NONCE_HEADER = "x-apprentice-nonce"
SIGNATURE_HEADER = "x-apprentice-signature"

_DEVICE = re.compile(r"^dev-[0-9a-f]{32}$")
_NONCE = re.compile(r"^[0-9a-f]{32}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


def authenticate_device(
    metadata: MetadataStore,
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    now: datetime,
    window_s: int,
) -> DeviceRow:
    """Return the calling device, or raise a 401 ApiError (see the module docstring)."""
    device, claim = verify_device_request(metadata, headers, method, path, body, now, window_s)
    # (5) nonce never seen
    if not metadata.remember_nonce(claim.device_id, claim.nonce, claim.expires_at):
        raise replayed()
    return device


def verify_device_request(
    metadata: MetadataStore,
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    now: datetime,
    window_s: int,
) -> tuple[DeviceRow, NonceClaim]:
    """Steps (1)-(4); the caller must record the returned nonce claim and refuse a replay."""
    device_id = headers.get(DEVICE_HEADER, "")
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    nonce = headers.get(NONCE_HEADER, "")
    try:
        signature = base64.urlsafe_b64decode(headers.get(SIGNATURE_HEADER, "").encode("ascii") + b"==")
    except (binascii.Error, UnicodeEncodeError, ValueError):
        signature = b""
    # (1) well-formed
    if not (_DEVICE.match(device_id) and _TIMESTAMP.match(timestamp) and _NONCE.match(nonce)) or len(
        signature
    ) != 64:
        raise unauthorized("missing or malformed request signature headers")
    # (2) replay window
    if abs(now.timestamp() - int(timestamp)) > window_s:
        raise unauthorized("request timestamp is outside the replay window; check the device clock")
    # (3) known, active device
    device = metadata.device(device_id)
    if device is None or device.revoked:
        raise unauthorized("unknown or revoked device")
    # (4) signature
    try:
        message = request_message(method, path, device_id, int(timestamp), nonce, body)
        verify(device.public_key, message, signature)
    except VerificationError:
        raise unauthorized("request signature does not verify") from None
    expires = datetime.fromtimestamp(int(timestamp), now.tzinfo) + timedelta(seconds=window_s)
    return device, NonceClaim(device_id, nonce, expires)


def replayed() -> ApiError:
    return unauthorized("replayed request (nonce already used)")

