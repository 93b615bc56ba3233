"""Retries, backoff with jitter and back-pressure, with httpx.MockTransport and no sleeping."""

from __future__ import annotations

import httpx
import pytest

from apprentice.client import DeviceIdentity, Uploader
from apprentice.crypto import signing_public_key
from apprentice.crypto.sealed import generate_key_pair, key_id
from apprentice.errors import UploadError, UploadRejected

SEED = bytes(range(32))
_, CONTRIBUTOR = generate_key_pair()
IDENTITY = DeviceIdentity("dev-" + "a" * 32, "alice", key_id(CONTRIBUTOR), CONTRIBUTOR, "http://c", SEED)


def _uploader(responses: list[httpx.Response | Exception], **options) -> tuple[Uploader, list[float], list]:  # type: ignore[no-untyped-def]
    sleeps: list[float] = []
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = responses.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    up = Uploader(IDENTITY, transport=httpx.MockTransport(handler), sleep=sleeps.append,
                  rng=lambda: 1.0, clock=lambda: 1_700_000_000.0, **options)
    return up, sleeps, seen


def test_network_errors_and_5xx_are_retried_with_exponential_backoff() -> None:
    up, sleeps, seen = _uploader([
        httpx.ConnectError("down"), httpx.Response(503), httpx.Response(500), httpx.Response(201),
    ], base_delay=0.5)
    assert up.put_chunk("ab" * 32, b"sealed") is True
    assert sleeps == [0.5, 1.0, 2.0]  # rng=1.0: the top of each full-jitter interval
    assert len({r.headers["X-Apprentice-Nonce"] for r in seen}) == 4  # every attempt signed afresh


def test_jitter_spreads_the_delay_below_the_cap() -> None:
    up, sleeps, _ = _uploader([httpx.Response(503)] * 3 + [httpx.Response(200)], base_delay=1, max_delay=3)
    up._rng = lambda: 0.25  # type: ignore[method-assign]
    up.put_chunk("ab" * 32, b"x")
    assert sleeps == [0.25, 0.5, 0.75]


def test_429_retry_after_is_honoured() -> None:
    up, sleeps, _ = _uploader([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200)])
    assert up.put_chunk("ab" * 32, b"x") is False  # 200: it was already stored
    assert sleeps == [7 + 0.5]  # Retry-After plus up to one base delay of jitter


def test_repeated_429s_back_off_beyond_retry_after() -> None:
    """Devices refused together must spread out: each further 429 doubles the jitter added to
    Retry-After (a refused upload has already cost its whole body)."""
    busy = httpx.Response(429, headers={"Retry-After": "1"})
    up, sleeps, _ = _uploader([busy, busy, busy, httpx.Response(200)])
    assert up.put_chunk("ab" * 32, b"x") is False
    assert sleeps == [1 + 0.5, 1 + 1.0, 1 + 2.0]  # rng=1.0: the top of each interval


def test_4xx_is_final_and_carries_the_collectors_message() -> None:
    body = {"error": {"code": "wrong_owner", "message": "chunk claims another contributor or device"}}
    up, sleeps, _ = _uploader([httpx.Response(403, json=body)])
    with pytest.raises(UploadRejected, match="another contributor") as err:
        up.put_chunk("ab" * 32, b"x")
    assert err.value.status == 403 and sleeps == []


def test_giving_up_after_max_attempts_raises_upload_error() -> None:
    up, sleeps, _ = _uploader([httpx.Response(503)] * 3, max_attempts=3)
    with pytest.raises(UploadError, match="after 3 attempts"):
        up.put_chunk("ab" * 32, b"x")
    assert len(sleeps) == 2


def test_requests_are_signed_over_the_body() -> None:
    import base64

    from apprentice.crypto import request_message, verify

    up, _, seen = _uploader([httpx.Response(201)])
    up.put_chunk("ab" * 32, b"sealed bytes")
    r = seen[0]
    message = request_message("PUT", f"/api/v1/chunks/{'ab' * 32}", IDENTITY.device_id,
                              int(r.headers["X-Apprentice-Timestamp"]), r.headers["X-Apprentice-Nonce"],
                              b"sealed bytes")
    verify(signing_public_key(SEED), message,
           base64.urlsafe_b64decode(r.headers["X-Apprentice-Signature"] + "=="))


def test_identity_repr_hides_the_seed() -> None:
    assert SEED.hex() not in repr(IDENTITY) and str(list(SEED)) not in repr(IDENTITY)
