"""Ed25519 request signing: RFC 8032 test vector 1, the canonical message, tampering."""

from __future__ import annotations

import pytest

from apprentice.crypto import request_message, sign, signing_public_key, verify
from apprentice.crypto.signing import new_nonce
from apprentice.errors import VerificationError

# RFC 8032 §7.1, TEST 1 (empty message).
RFC_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46b"
    "d25bf5f0595bbe24655141438e7a100b"
)


def test_rfc8032_test_vector_1() -> None:
    assert signing_public_key(RFC_SEED) == RFC_PUBLIC
    assert sign(RFC_SEED, b"") == RFC_SIGNATURE
    verify(RFC_PUBLIC, b"", RFC_SIGNATURE)


def test_a_changed_message_or_signature_does_not_verify() -> None:
    signature = sign(RFC_SEED, b"message")
    with pytest.raises(VerificationError):
        verify(RFC_PUBLIC, b"messagE", signature)
    with pytest.raises(VerificationError):
        verify(RFC_PUBLIC, b"message", signature[:-1] + bytes([signature[-1] ^ 1]))
    with pytest.raises(VerificationError):
        verify(RFC_PUBLIC[:31], b"message", signature)


def test_the_request_message_binds_every_field() -> None:
    base = ("PUT", "/api/v1/chunks/ab", "dev-1", 1700000000, "00" * 16, b"body")
    message = request_message(*base)
    for i, other in enumerate(("GET", "/api/v1/chunks/ac", "dev-2", 1700000001, "11" * 16, b"bodY")):
        changed = list(base)
        changed[i] = other
        assert request_message(*changed) != message  # type: ignore[arg-type]


def test_newlines_cannot_be_smuggled_into_the_message() -> None:
    with pytest.raises(ValueError):
        request_message("PUT", "/a\nb", "dev", 1, "n", b"")


def test_nonces_are_128_bit_hex_and_fresh() -> None:
    nonces = {new_nonce() for _ in range(100)}
    assert len(nonces) == 100 and all(len(n) == 32 for n in nonces)


def test_seed_size_is_checked() -> None:
    with pytest.raises(ValueError):
        sign(b"short", b"")
