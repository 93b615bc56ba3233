"""The two halves of the master key, kept apart on purpose, and how a master key is named.

The collector holds a :class:`MasterKeyWrapper`: it can wrap a new contributor private key
for storage, and nothing else. Only the pipeline identity holds a
:class:`MasterKeyUnwrapper` (``apprentice.keys.unwrap``). With the local default the master
key is an X25519 key pair (the collector gets the public half); with AWS KMS the
collector's role is granted ``kms:Encrypt`` and the pipeline's role ``kms:Decrypt``. Either
way a compromised collector — or a copy of its database — cannot read a contributor key.

Master keys are chosen by URL (the two halves separately)::

    local:///etc/apprentice/master.pub      collector (wrap only)
    local:///etc/apprentice/master.key      pipeline identity (unwrap), mode 0600
    awskms://<key id or ARN>?region=eu-west-1   either side; IAM decides which calls succeed
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from apprentice.errors import ConfigError

MASTER_KEYS = ("local", "awskms")


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A contributor's private key as stored: wrapped under the master key (opaque bytes)."""

    contributor_id: str
    key_id: str
    wrapped_private_key: bytes


class MasterKeyWrapper(Protocol):
    def wrap(self, secret: bytes, contributor_id: str, key_id: str) -> bytes:
        """Return ``secret`` wrapped under the master key, bound to the contributor and key id."""


class MasterKeyUnwrapper(Protocol):
    def unwrap(self, wrapped: bytes, contributor_id: str, key_id: str) -> bytes:
        """Return the secret, or raise DecryptionError (wrong key, context or tampering)."""


def parse_master_key_url(url: str) -> tuple[str, str, dict[str, str]]:
    """Split a master key URL into (scheme, key path or id, options); ConfigError if invalid."""
    parts = urlsplit(url)
    if parts.scheme not in MASTER_KEYS:
        raise ConfigError(f"unknown master key {parts.scheme!r} in {url!r}; choose from {list(MASTER_KEYS)}")
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    where = unquote(parts.path) if parts.scheme == "local" else parts.netloc + parts.path
    if not where:
        raise ConfigError(f"master key URL {url!r} names no key")
    return parts.scheme, where, options


def kms_client(options: dict[str, str]) -> object:
    import boto3

    return boto3.client("kms", region_name=options.get("region"), endpoint_url=options.get("endpoint"))
