"""What the collector does, free of HTTP: the routes parse and authorise, then call one of
these methods (aw-server's ``ServerAPI`` shape). Each method documents its own failures
as ApiError statuses; none of them ever sees plaintext content or a private key.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from apprentice.crypto import ChunkHeader, read_header
from apprentice.errors import MalformedChunk
from apprentice.server.audit_sink import DeferredRecord
from apprentice.server.auth import VerifiedUpload, replayed
from apprentice.server.incoming import IncomingChunk
from apprentice.server.keys import ContributorKeys
from apprentice.server.problems import ApiError
from apprentice.server.retention import forget_contributor, purge_expired
from apprentice.server.storage.blobs import BlobStore
from apprentice.server.storage.metadata import ChunkRow, DeviceRow, MetadataStore, NonceClaim, TombstoneRow

CONTRIBUTOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CHUNK_ID = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    contributor_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Enrolment:
    device_id: str
    contributor_id: str
    key_id: str
    public_key: bytes


class CollectorApi:
    def __init__(self, metadata: MetadataStore, blobs: BlobStore, keys: ContributorKeys,
                 *, max_token_ttl_s: int = 7 * 24 * 3600) -> None:
        self.metadata = metadata
        self.blobs = blobs
        self.keys = keys
        self._max_ttl = max_token_ttl_s

    def issue_token(self, contributor_id: str, ttl_s: int, now: datetime) -> IssuedToken:
        """One-time enrolment token for a contributor (creates them and their key pair).

        422 for an invalid id or lifetime; 409 if the contributor was forgotten.
        """
        if not CONTRIBUTOR_ID.match(contributor_id):
            raise ApiError(422, "invalid_contributor", "contributor id must be 1-64 of [A-Za-z0-9._-]")
        if not 60 <= ttl_s <= self._max_ttl:
            raise ApiError(422, "invalid_ttl", f"token lifetime must be 60..{self._max_ttl} seconds")
        if self.metadata.tombstone(contributor_id) is not None:
            raise ApiError(409, "forgotten", "this contributor was forgotten; enrol under a new id")
        self.metadata.add_contributor(contributor_id, now)
        self.keys.ensure(contributor_id, now)
        token = "apt_" + secrets.token_urlsafe(32)
        expires = now + timedelta(seconds=ttl_s)
        self.metadata.add_token(_token_hash(token), contributor_id, expires)
        return IssuedToken(token, contributor_id, expires)

    def enrol(self, token: str, device_public_key: bytes, now: datetime) -> Enrolment:
        """Register a device key with a one-time token. 401 bad token; 422 bad key; 409 key reused."""
        if len(device_public_key) != 32:
            raise ApiError(422, "invalid_key", "device public key must be 32 bytes (Ed25519, base64)")
        if len(token) > 128:
            raise ApiError(401, "unauthorized", "enrolment token is unknown, used or expired")
        contributor_id = self.metadata.consume_token(_token_hash(token), now)
        if contributor_id is None:
            raise ApiError(401, "unauthorized", "enrolment token is unknown, used or expired")
        key = self.keys.public_key(contributor_id)
        if key is None or self.metadata.tombstone(contributor_id) is not None:
            raise ApiError(409, "forgotten", "this contributor was forgotten; nothing can be enrolled")
        device_id = "dev-" + secrets.token_hex(16)
        if not self.metadata.add_device(device_id, contributor_id, device_public_key, now):
            raise ApiError(409, "key_reused", "this device key is already enrolled")
        return Enrolment(device_id, contributor_id, key[0], key[1])

    def device_key(self, device: DeviceRow) -> tuple[str, bytes]:
        """The calling device's contributor public key. 410 if the contributor was forgotten."""
        key = self.keys.public_key(device.contributor_id)
        if key is None:
            raise ApiError(410, "forgotten", "this contributor was forgotten")
        return key

    def store_chunk(self, device: DeviceRow, chunk_id: str, body: IncomingChunk, now: datetime,
                    *, nonce: NonceClaim | None = None, checked: VerifiedUpload | None = None,
                    audit: DeferredRecord | None = None) -> bool:
        """Store a sealed chunk once; True if new, False if it was already stored.

        ``body`` streamed in already (hashed and staged, ``server/incoming.py``); it is
        committed under the chunk's key only if every check passes, else discarded.

        403: the contributor is exempt from recording (with ``checked`` only; else the route
        asks); 422: id is not the SHA-256 of the body (truncated or altered), or not a sealed
        chunk; 403: the chunk claims another contributor or device; 409: sealed to a key that
        is not the contributor's current key. With ``nonce`` (a signed request whose nonce is
        not recorded yet) it is recorded in the same transaction as the chunk row, and a
        replay is a 401 before any of those. ``checked``: what ``auth.verify_upload`` read
        already (device, key, exemption, stored?, body hash), so none of it is read again.
        ``audit``: the allow decision's entry, committed in that same transaction (its
        ``written`` is set once it is).

        The blob is durable before the row is committed, and this returns only after the
        commit: a crash at any point leaves at worst a blob without a row, which the
        device's retry completes.
        """
        also = audit.op if audit is not None else None
        try:
            header = self._check_chunk(device, chunk_id, body, checked)
        except ApiError:
            body.discard()
            if nonce is not None and not self._remember(nonce, audit):
                raise replayed() from None
            raise
        if checked.context.chunk_stored if checked is not None else self.metadata.chunk(chunk_id) is not None:
            body.discard()
            if nonce is not None and not self._remember(nonce, audit):
                raise replayed()
            return False
        body.commit()
        row = ChunkRow(chunk_id, device.contributor_id, device.id, header.key_id, body.size, now)
        if nonce is None:
            return self.metadata.add_chunk(row)
        outcome = self.metadata.record_upload(row, nonce, also=also)
        _written(audit)
        if outcome == "replayed":
            raise replayed()
        return outcome == "created"

    def _remember(self, nonce: NonceClaim, audit: DeferredRecord | None) -> bool:
        """Record the nonce of an upload that stores nothing (and its audit entry); False: a replay."""
        fresh = self.metadata.remember_nonce(nonce.device_id, nonce.nonce, nonce.expires_at,
                                             also=audit.op if audit is not None else None)
        _written(audit)
        return fresh

    def _check_chunk(self, device: DeviceRow, chunk_id: str, body: IncomingChunk,
                     checked: VerifiedUpload | None = None) -> ChunkHeader:
        if checked is not None and checked.context.exempt:
            raise exempt()
        if not CHUNK_ID.match(chunk_id):
            raise ApiError(422, "invalid_chunk_id", "chunk id must be 64 lowercase hex digits")
        digest = checked.body_sha256 if checked is not None else body.sha256()
        if digest != chunk_id:
            raise ApiError(422, "hash_mismatch",
                           "chunk id is not the SHA-256 of the body (truncated or altered in transit)")
        try:
            header = read_header(body.head, size=body.size)
        except MalformedChunk as exc:
            raise ApiError(422, "malformed_chunk", str(exc)) from None
        if header.contributor != device.contributor_id or header.device != device.id:
            raise ApiError(403, "wrong_owner", "chunk claims another contributor or device")
        key = checked.context.key if checked is not None else self.keys.public_key(device.contributor_id)
        if key is None or key[0] != header.key_id:
            raise ApiError(409, "stale_key", "chunk is not sealed to the contributor's current key")
        return header

    def chunk_stored(self, device: DeviceRow, chunk_id: str) -> bool:
        """Whether this contributor's chunk is stored (404 for anyone else's: no oracle)."""
        row = self.metadata.chunk(chunk_id) if CHUNK_ID.match(chunk_id) else None
        return row is not None and row.contributor_id == device.contributor_id

    def forget(self, contributor_id: str, requested_by: str, now: datetime) -> TombstoneRow:
        """Crypto-shred a contributor (see retention.forget_contributor). 404 if unknown."""
        if not CONTRIBUTOR_ID.match(contributor_id) or not self.metadata.contributor_exists(contributor_id):
            raise ApiError(404, "not_found", "no such contributor")
        return forget_contributor(self.metadata, self.blobs, self.keys, contributor_id, requested_by, now)

    def revoke_device(self, device_id: str, now: datetime) -> None:
        """Revoke one device; 404 if it is unknown or already revoked."""
        if self.metadata.revoke_devices(now, device_id=device_id) != 1:
            raise ApiError(404, "not_found", "no such active device")

    def purge(self, max_age: timedelta, now: datetime) -> int:
        return purge_expired(self.metadata, self.blobs, max_age, now)


def exempt() -> ApiError:
    return ApiError(403, "exempt", "this contributor is exempt from recording; nothing more is accepted")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _written(audit: DeferredRecord | None) -> None:
    """The transaction that carried ``audit`` committed (a metadata call returned)."""
    if audit is not None:
        audit.written = True
