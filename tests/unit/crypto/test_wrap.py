"""Master-key wrapping: the wrapper (collector) cannot unwrap; context binds the owner."""

from __future__ import annotations

import pytest

from apprentice.crypto import unwrap_key, wrap_key
from apprentice.crypto.sealed import generate_key_pair
from apprentice.errors import DecryptionError

MASTER_PRIVATE, MASTER_PUBLIC = generate_key_pair()
SECRET = bytes(range(32))


def test_wrapped_key_unwraps_with_the_master_private_key_and_same_context() -> None:
    wrapped = wrap_key(SECRET, MASTER_PUBLIC, b"alice\x00kid")
    assert SECRET not in wrapped
    assert unwrap_key(wrapped, MASTER_PRIVATE, b"alice\x00kid") == SECRET


@pytest.mark.parametrize("context", [b"mallory\x00kid", b"alice\x00other", b""])
def test_a_wrapped_key_moved_to_another_owner_does_not_unwrap(context: bytes) -> None:
    with pytest.raises(DecryptionError):
        unwrap_key(wrap_key(SECRET, MASTER_PUBLIC, b"alice\x00kid"), MASTER_PRIVATE, context)


def test_tampered_or_foreign_wrapping_is_rejected() -> None:
    wrapped = wrap_key(SECRET, MASTER_PUBLIC, b"c")
    with pytest.raises(DecryptionError):
        unwrap_key(wrapped[:-1] + bytes([wrapped[-1] ^ 1]), MASTER_PRIVATE, b"c")
    with pytest.raises(DecryptionError):
        unwrap_key(b"NOTWRAP!" + wrapped[8:], MASTER_PRIVATE, b"c")
    other, _ = generate_key_pair()
    with pytest.raises(DecryptionError):
        unwrap_key(wrapped, other, b"c")


def test_sizes_are_checked() -> None:
    with pytest.raises(ValueError):
        wrap_key(SECRET[:16], MASTER_PUBLIC, b"")
    with pytest.raises(ValueError):
        unwrap_key(b"", MASTER_PRIVATE[:5], b"")
