"""Who is calling, for a device: signed device requests (accounts use bearer tokens, see
``accounts.py``; both are resolved by ``deps.authorize``).

A device request is accepted only when, in this order: (1) the signature headers are
present and well-formed; (2) the timestamp is inside the replay window; (3) the device is
known and not revoked; (4) the Ed25519 signature verifies over method, path, device,
timestamp, nonce and body hash (:func:`apprentice.crypto.request_message`); (5) the nonce
was not used before by this device (the database enforces it, across replicas). Every
failure is a 401 that says which step failed but never echoes what was sent.

A chunk upload defers step (5) with :func:`verify_upload`: the route records the nonce in
the same transaction as the chunk row (``MetadataStore.record_upload``), so an upload costs
one commit, and the replay check is still the database's. ``verify_upload`` also reads what
the chunk is checked against in the same query as the device, and hashes the body once.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from apprentice.crypto import request_message, verify
from apprentice.errors import VerificationError
from apprentice.server.problems import ApiError, unauthorized
from apprentice.server.storage.metadata import DeviceRow, MetadataStore, NonceClaim, UploadContext

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
    signed = _signed_headers(headers, now, window_s)
    device = metadata.device(signed.device_id)  # (3) known, active device
    return _verified(signed, device, method, path, body, None, now, window_s), _claim(signed, now, window_s)


@dataclass(frozen=True, slots=True)
class VerifiedUpload:
    """A signed upload that passed steps (1)-(4): its device and what the chunk is checked
    against (one query), its nonce (still to be recorded), and the body's SHA-256 (hex)."""

    context: UploadContext
    device: DeviceRow
    nonce: NonceClaim
    body_sha256: str


def verify_upload(
    metadata: MetadataStore,
    headers: Mapping[str, str],
    method: str,
    path: str,
    body_sha256: str,
    now: datetime,
    window_s: int,
    chunk_id: str,
) -> VerifiedUpload:
    """Steps (1)-(4) for a chunk upload: one query reads the device together with what the
    chunk is checked against; the body was hashed once (as it streamed in, see
    ``server/incoming.py``), for the signature and the chunk id."""
    signed = _signed_headers(headers, now, window_s)
    context = metadata.upload_context(signed.device_id, chunk_id)
    device = _verified(signed, context.device, method, path, b"", body_sha256, now, window_s)
    return VerifiedUpload(context, device, _claim(signed, now, window_s), body_sha256)


def check_signed_headers(headers: Mapping[str, str], now: datetime, window_s: int) -> None:
    """Steps (1)-(2) alone, which need neither the body nor the database: an upload runs them
    before it reads a body of up to 64 MiB, so a request that cannot pass costs nothing."""
    _signed_headers(headers, now, window_s)


@dataclass(frozen=True, slots=True)
class _Signed:
    device_id: str
    timestamp: int
    nonce: str
    signature: bytes


def _signed_headers(headers: Mapping[str, str], now: datetime, window_s: int) -> _Signed:
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
    return _Signed(device_id, int(timestamp), nonce, signature)


def _verified(signed: _Signed, device: DeviceRow | None, method: str, path: str, body: bytes,
              body_sha256: str | None, now: datetime, window_s: int) -> DeviceRow:
    # (3) known, active device
    if device is None or device.revoked:
        raise unauthorized("unknown or revoked device")
    # (4) signature
    try:
        message = request_message(method, path, signed.device_id, signed.timestamp, signed.nonce, body,
                                  body_sha256=body_sha256)
        verify(device.public_key, message, signed.signature)
    except VerificationError:
        raise unauthorized("request signature does not verify") from None
    return device


def _claim(signed: _Signed, now: datetime, window_s: int) -> NonceClaim:
    expires = datetime.fromtimestamp(signed.timestamp, now.tzinfo) + timedelta(seconds=window_s)
    return NonceClaim(signed.device_id, signed.nonce, expires)


def replayed() -> ApiError:
    return unauthorized("replayed request (nonce already used)")

