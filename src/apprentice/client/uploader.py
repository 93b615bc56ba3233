"""Talking to the collector: signed requests, retries with backoff, and back-pressure.

Every request is signed with the device key (``crypto/signing.py``); each attempt gets a
fresh timestamp and nonce, so a retry is never mistaken for a replay. Transient failures —
network errors, 5xx, 429 and 408 (the collector stopped waiting for a stalled body) — are
retried with exponential backoff and full jitter (a 429 waits its ``Retry-After`` plus that
backoff, so devices refused together do not all resend their bodies together, only to be
refused again); another 4xx is final and raised as UploadRejected with the collector's
message. The transport, clock, sleep and randomness are injectable, so tests
use ``httpx.MockTransport``/``ASGITransport`` and never sleep.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Generator
from typing import Any

import httpx

from apprentice.client.identity import DeviceIdentity, unb64
from apprentice.crypto import request_message, sign
from apprentice.crypto.signing import new_nonce
from apprentice.errors import UploadError, UploadRejected

_RETRY_STATUSES = {408, 429, 500, 502, 503, 504}


class DeviceSigner(httpx.Auth):
    """httpx auth flow that signs each request with the device key."""

    requires_request_body = True

    def __init__(self, identity: DeviceIdentity, clock: Callable[[], float] = time.time) -> None:
        self._identity = identity
        self._clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        timestamp = int(self._clock())
        nonce = new_nonce()
        path = request.url.raw_path.decode("ascii")
        message = request_message(
            request.method, path, self._identity.device_id, timestamp, nonce, request.content
        )
        signature = sign(self._identity.signing_seed, message)
        request.headers["X-Apprentice-Device"] = self._identity.device_id
        request.headers["X-Apprentice-Timestamp"] = str(timestamp)
        request.headers["X-Apprentice-Nonce"] = nonce
        request.headers["X-Apprentice-Signature"] = _b64(signature)
        yield request


class Uploader:
    def __init__(
        self,
        identity: DeviceIdentity,
        *,
        transport: httpx.BaseTransport | None = None,
        client: httpx.Client | None = None,
        timeout: float = 60.0,
        max_attempts: int = 8,
        base_delay: float = 0.5,
        max_delay: float = 300.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.identity = identity
        self._client = client or httpx.Client(
            base_url=identity.server_url, transport=transport, timeout=timeout
        )
        self._signer = DeviceSigner(identity, clock)
        self._max_attempts = max_attempts
        self._base = base_delay
        self._max_delay = max_delay
        self._sleep = sleep
        self._rng = rng
        self.retries = 0

    def close(self) -> None:
        self._client.close()

    def put_chunk(self, chunk_id: str, sealed: bytes) -> bool:
        """Upload one sealed chunk; True if newly stored, False if it already was."""
        response = self._send(
            "PUT", f"/api/v1/chunks/{chunk_id}", sealed, {"Content-Type": "application/octet-stream"}
        )
        return response.status_code == 201

    def contributor_key(self) -> tuple[str, bytes]:
        """The current (key id, public key) of this device's contributor."""
        doc = self._send("GET", "/api/v1/device/key", b"").json()
        return doc["key_id"], unb64(doc["contributor_public_key"])

    def sync(self, report: dict[str, Any]) -> dict[str, Any]:
        """Report this device's state and get what to apply (docs/governance.md)."""
        body = json.dumps(report, separators=(",", ":")).encode()
        answer: dict[str, Any] = self._send("POST", "/api/v1/device/sync", body,
                                            {"Content-Type": "application/json"}).json()
        return answer

    def forget_me(self) -> dict[str, Any]:
        """Ask the collector to forget this contributor (destroys their key; irreversible)."""
        result: dict[str, Any] = self._send("POST", "/api/v1/device/forget-me", b"").json()
        return result

    def _send(
        self, method: str, path: str, body: bytes, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        for attempt in range(self._max_attempts):
            delay: float
            try:
                response = self._client.request(
                    method, path, content=body, headers=headers, auth=self._signer
                )
            except httpx.TransportError:
                delay = self._backoff(attempt)
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in _RETRY_STATUSES:
                    raise UploadRejected(response.status_code, _message(response))
                delay = _retry_after(response)
                delay = self._backoff(attempt) if delay is None else delay + self._backoff(attempt)
            if attempt + 1 < self._max_attempts:
                self.retries += 1
                self._sleep(delay)
        raise UploadError(f"collector unreachable or failing after {self._max_attempts} attempts")

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max_delay, base * 2**attempt)]."""
        return self._rng() * min(self._max_delay, self._base * 2**attempt)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return min(float(value), 3600.0) if value.isdigit() else None


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.reason_phrase or "refused"


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")
