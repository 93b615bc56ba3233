"""Sealed chunks (RFC 9180 HPKE): round trip, binding of the header, every kind of tampering."""

from __future__ import annotations

import json

import pytest

from apprentice.crypto import ChunkHeader, chunk_id, key_id, open_chunk, read_header, seal_chunk
from apprentice.crypto.sealed import MAGIC, generate_key_pair, public_key_of
from apprentice.errors import DecryptionError, MalformedChunk

PRIVATE, PUBLIC = generate_key_pair()
HEADER = ChunkHeader("alice", "dev-" + "a" * 32, key_id(PUBLIC), "f" * 32 + ":00000001.ev.seg")


def _seal(plaintext: bytes = b"canary payload") -> bytes:
    return seal_chunk(plaintext, PUBLIC, HEADER)


def _reheader(sealed: bytes, **changes: str) -> bytes:
    """Swap in another (well-formed) header but keep the HPKE body: the header-swap attack."""
    header = read_header(sealed)
    fields = {"contributor": header.contributor, "device": header.device,
              "key_id": header.key_id, "origin": header.origin, **changes}
    new = ChunkHeader(**fields).encode()
    old_len = int.from_bytes(sealed[8:10], "big")
    return MAGIC + len(new).to_bytes(2, "big") + new + sealed[10 + old_len :]


def test_a_sealed_chunk_opens_with_the_contributor_private_key() -> None:
    header, plaintext = open_chunk(_seal(b"hello"), PRIVATE)
    assert plaintext == b"hello" and header == HEADER


def test_the_plaintext_does_not_appear_in_the_sealed_bytes() -> None:
    assert b"canary" not in _seal(b"canary " * 100)


def test_every_seal_is_fresh_so_chunk_ids_differ() -> None:
    assert chunk_id(_seal()) != chunk_id(_seal())


def test_the_collector_reads_the_header_without_any_key() -> None:
    assert read_header(_seal()) == HEADER


@pytest.mark.parametrize("change", [
    {"contributor": "mallory"}, {"device": "dev-" + "b" * 32}, {"origin": "other:00000002.ev.seg"},
], ids=["other-contributor", "other-device", "other-origin"])
def test_header_swap_attack_is_rejected(change: dict[str, str]) -> None:
    with pytest.raises(DecryptionError):
        open_chunk(_reheader(_seal(), **change), PRIVATE)


@pytest.mark.parametrize("tamper", [
    pytest.param(lambda s: s[:-1] + bytes([s[-1] ^ 1]), id="flipped-tag"),
    pytest.param(lambda s: s[:-20] + bytes([s[-20] ^ 1]) + s[-19:], id="flipped-ciphertext"),
    pytest.param(lambda s: s[:-30], id="truncated"),
    pytest.param(lambda s: s + b"x", id="extended"),
    pytest.param(lambda s: s[:5], id="shorter-than-header"),
    pytest.param(lambda s: b"XXCHUNK1" + s[8:], id="bad-magic"),
])
def test_any_change_to_a_sealed_chunk_is_rejected(tamper) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DecryptionError):
        open_chunk(tamper(_seal()), PRIVATE)


def test_another_contributors_key_cannot_open_it() -> None:
    other, _ = generate_key_pair()
    with pytest.raises(DecryptionError):
        open_chunk(_seal(), other)


@pytest.mark.parametrize("raw", [
    b"", b"APCHUNK1", b"APCHUNK1\x00\x00", b"APCHUNK1\xff\xff" + b"x" * 100,
    MAGIC + b"\x00\x05{} xx" + bytes(48),
    MAGIC + b"\x00\x02[]" + bytes(48),
    MAGIC + len(b'{"c":"a","d":"b","k":"c","o":"d","v":2}').to_bytes(2, "big")
    + b'{"c":"a","d":"b","k":"c","o":"d","v":2}' + bytes(48),
    MAGIC + len(b'{"c":"a/../b","d":"b","k":"c","o":"d","v":1}').to_bytes(2, "big")
    + b'{"c":"a/../b","d":"b","k":"c","o":"d","v":1}' + bytes(48),
    MAGIC + len(b'{"v":1, "c":"a","d":"b","k":"c","o":"d"}').to_bytes(2, "big")
    + b'{"v":1, "c":"a","d":"b","k":"c","o":"d"}' + bytes(48),
], ids=["empty", "magic-only", "zero-header", "header-past-end", "not-json", "not-object",
        "unknown-version", "path-in-id", "non-canonical"])
def test_malformed_chunks_are_reported_as_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedChunk):
        read_header(raw)


def test_seal_refuses_a_header_naming_another_key() -> None:
    _, other_public = generate_key_pair()
    with pytest.raises(ValueError):
        seal_chunk(b"x", other_public, HEADER)


def test_header_fields_must_be_plain_identifiers() -> None:
    with pytest.raises(ValueError):
        ChunkHeader("al ice", "d", "k", "o").encode()


def test_key_sizes_are_checked() -> None:
    with pytest.raises(ValueError):
        seal_chunk(b"x", PUBLIC[:31], HEADER)
    with pytest.raises(ValueError):
        open_chunk(_seal(), PRIVATE[:16])
    with pytest.raises(ValueError):
        key_id(b"short")


def test_public_key_of_matches_generation() -> None:
    assert public_key_of(PRIVATE) == PUBLIC


def test_header_is_canonical_json() -> None:
    doc = json.loads(HEADER.encode())
    assert doc == {"c": "alice", "d": HEADER.device, "k": HEADER.key_id, "o": HEADER.origin, "v": 1}
