"""The key service: one X25519 key pair per contributor, private halves wrapped by a master key.

Master keys are chosen by URL (the two halves separately):

    local:///etc/apprentice/master.pub      collector (wrap only)
    local:///etc/apprentice/master.key      pipeline identity (unwrap), mode 0600
    awskms://<key id or ARN>?region=eu-west-1   either side; IAM decides which calls succeed
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from apprentice.errors import ConfigError
from apprentice.server.keys.base import MasterKeyUnwrapper, MasterKeyWrapper
from apprentice.server.keys.service import ContributorKeys
from apprentice.server.keys.unwrap import PipelineKeyAccess

__all__ = [
    "ContributorKeys",
    "MasterKeyUnwrapper",
    "MasterKeyWrapper",
    "PipelineKeyAccess",
    "open_master_unwrapper",
    "open_master_wrapper",
]

MASTER_KEYS = ("local", "awskms")


def open_master_wrapper(url: str) -> MasterKeyWrapper:
    """The collector's half of the master key named by ``url``."""
    scheme, where, options = _parse(url)
    if scheme == "local":
        from apprentice.server.keys import _local

        return _local.load_wrapper(Path(where))
    from apprentice.server.keys import _aws_kms

    return _aws_kms.AwsKmsWrapper(_kms_client(options), where)


def open_master_unwrapper(url: str) -> MasterKeyUnwrapper:
    """The pipeline identity's half of the master key named by ``url``."""
    scheme, where, options = _parse(url)
    if scheme == "local":
        from apprentice.server.keys import _local

        return _local.load_unwrapper(Path(where))
    from apprentice.server.keys import _aws_kms

    return _aws_kms.AwsKmsUnwrapper(_kms_client(options), where)


def _parse(url: str) -> tuple[str, str, dict[str, str]]:
    parts = urlsplit(url)
    if parts.scheme not in MASTER_KEYS:
        raise ConfigError(f"unknown master key {parts.scheme!r} in {url!r}; choose from {list(MASTER_KEYS)}")
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    where = unquote(parts.path) if parts.scheme == "local" else parts.netloc + parts.path
    if not where:
        raise ConfigError(f"master key URL {url!r} names no key")
    return parts.scheme, where, options


def _kms_client(options: dict[str, str]) -> object:
    import boto3

    return boto3.client("kms", region_name=options.get("region"), endpoint_url=options.get("endpoint"))
