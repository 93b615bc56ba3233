"""Master keys: the wrapping half (this module) and the unwrapping half (``keys.unwrap``).

A layer-1 service package (core and ``crypto`` only). The collector imports this module to
wrap new contributor keys; it never imports :mod:`apprentice.keys.unwrap`, which only the
processing pipeline does (a test walks the import graph to keep it so).
"""

from __future__ import annotations

from pathlib import Path

from apprentice.keys.base import MASTER_KEYS, MasterKeyWrapper, parse_master_key_url

__all__ = ["MASTER_KEYS", "MasterKeyWrapper", "create_master_key", "open_master_wrapper"]


def open_master_wrapper(url: str) -> MasterKeyWrapper:
    """The collector's half of the master key named by ``url``."""
    scheme, where, options = parse_master_key_url(url)
    if scheme == "local":
        from apprentice.keys import _local

        return _local.load_wrapper(Path(where))
    from apprentice.keys import _aws_kms
    from apprentice.keys.base import kms_client

    return _aws_kms.AwsKmsWrapper(kms_client(options), where)


def create_master_key(folder: Path) -> Path:
    """Create ``master.key`` (0600) and ``master.pub`` in ``folder``; return the .pub path."""
    from apprentice.keys import _local

    return _local.create_master_key(folder)
