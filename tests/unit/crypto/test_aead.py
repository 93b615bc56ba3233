from __future__ import annotations

import pytest

from apprentice.crypto import RecordCipher
from apprentice.errors import DecryptionError

KEY = bytes(range(32))
SEGMENT = bytes(16)


def test_sealed_record_opens_with_the_same_key_and_context() -> None:
    cipher = RecordCipher(KEY, SEGMENT)
    assert cipher.open(cipher.seal(b"hello", b"ctx"), b"ctx") == b"hello"


def test_nonces_are_fresh_so_equal_plaintexts_differ() -> None:
    cipher = RecordCipher(KEY, SEGMENT)
    assert cipher.seal(b"same", b"") != cipher.seal(b"same", b"")


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda s: s[:-1] + bytes([s[-1] ^ 1]), id="flipped-tag"),
        pytest.param(lambda s: s[:12] + bytes([s[12] ^ 0x80]) + s[13:], id="flipped-ciphertext"),
        pytest.param(lambda s: bytes([s[0] ^ 1]) + s[1:], id="flipped-nonce"),
        pytest.param(lambda s: s[:20], id="truncated"),
        pytest.param(lambda s: s[:5], id="shorter-than-nonce-and-tag"),
    ],
)
def test_any_change_to_a_sealed_record_is_rejected(tamper) -> None:  # type: ignore[no-untyped-def]
    cipher = RecordCipher(KEY, SEGMENT)
    with pytest.raises(DecryptionError):
        cipher.open(tamper(cipher.seal(b"payload bytes", b"ctx")), b"ctx")


def test_record_moved_to_another_context_is_rejected() -> None:
    cipher = RecordCipher(KEY, SEGMENT)
    with pytest.raises(DecryptionError):
        cipher.open(cipher.seal(b"x", b"segment-a#1"), b"segment-a#2")


def test_other_segment_or_key_cannot_open() -> None:
    sealed = RecordCipher(KEY, SEGMENT).seal(b"x", b"")
    with pytest.raises(DecryptionError):
        RecordCipher(KEY, b"\x01" * 16).open(sealed, b"")
    with pytest.raises(DecryptionError):
        RecordCipher(bytes(32), SEGMENT).open(sealed, b"")


def test_decryption_error_says_nothing_about_the_content() -> None:
    cipher = RecordCipher(KEY, SEGMENT)
    with pytest.raises(DecryptionError) as caught:
        cipher.open(cipher.seal(b"secret canary", b"a"), b"b")
    assert "canary" not in str(caught.value)


@pytest.mark.parametrize("key,segment", [(b"short", SEGMENT), (KEY, b"short")])
def test_wrong_sizes_are_refused(key: bytes, segment: bytes) -> None:
    with pytest.raises(ValueError):
        RecordCipher(key, segment)


def test_explicit_nonce_must_be_96_bits() -> None:
    with pytest.raises(ValueError):
        RecordCipher(KEY, SEGMENT).seal(b"x", b"", nonce=b"123")
