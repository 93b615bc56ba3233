"""Blob stores for sealed chunks, chosen by URL: ``file:///srv/chunks``, ``s3://bucket/prefix``,
``memory://``. The contract lives in :mod:`.base`; each backend is one private module."""

from __future__ import annotations

import importlib
from urllib.parse import urlsplit

from apprentice.errors import ConfigError
from apprentice.server.storage.blobs.base import BlobNotFound, BlobStore, BlobStoreUnavailable

__all__ = ["BLOB_STORES", "BlobNotFound", "BlobStore", "BlobStoreUnavailable", "open_blob_store"]

BLOB_STORES = {
    "file": "._filesystem",
    "s3": "._s3",
    "memory": "._memory",
}


def open_blob_store(url: str) -> BlobStore:
    """Return the blob store the URL names, or raise ConfigError listing the valid schemes."""
    scheme = urlsplit(url).scheme
    if scheme not in BLOB_STORES:
        raise ConfigError(f"unknown blob store {scheme!r} in {url!r}; choose from {sorted(BLOB_STORES)}")
    try:
        module = importlib.import_module(BLOB_STORES[scheme], __package__)
    except ImportError as exc:
        raise ConfigError(
            f"the {scheme!r} blob store needs an extra package ({exc.name}); "
            "install it with: pip install 'apprentice[server]'"
        ) from exc
    store: BlobStore = module.open_store(url)
    return store
