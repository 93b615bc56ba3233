"""Blobs in an S3-compatible bucket (production): ``s3://bucket/prefix?endpoint=…&region=…``.

Credentials come from the usual AWS chain (environment, profile, instance role); they are
never part of the URL. Query options: ``endpoint`` (an S3-compatible server, e.g.
``http://127.0.0.1:9000``), ``region``, ``sse`` (``AES256`` or ``aws:kms``). S3 PUTs are
atomic: a reader sees the whole object or none of it. A streamed blob is staged in an
anonymous temporary file (memory up to 8 MiB; it holds ciphertext only and vanishes with the
process) and PUT in one request on commit.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from apprentice.authz import AccessGrant, check_grant
from apprentice.errors import ConfigError
from apprentice.server.storage.blobs.base import BlobNotFound, BlobStoreUnavailable, check_key

_IN_MEMORY = 8 * 1024 * 1024


class S3BlobStore:
    def __init__(self, client: Any, bucket: str, prefix: str = "", sse: str | None = None) -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._sse = sse

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def client(self) -> Any:
        """The boto3 client (the exposure guard reads the bucket's policy, ACL and access block)."""
        return self._client

    def writer(self, key: str) -> _StagedObject:
        return _StagedObject(self, check_key(key))

    def put(self, key: str, data: bytes | IO[bytes]) -> None:
        extra = {"ServerSideEncryption": self._sse} if self._sse else {}
        key = self._prefix + check_key(key)
        try:
            self._client.put_object(Bucket=self._bucket, Key=key, Body=data, **extra)
        except (BotoCoreError, ClientError) as exc:
            raise BlobStoreUnavailable(f"S3 put failed: {type(exc).__name__}") from None

    def get(self, key: str, *, grant: AccessGrant) -> bytes:
        check_grant(grant, key)
        try:
            reply = self._client.get_object(Bucket=self._bucket, Key=self._prefix + check_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise BlobNotFound(key) from None
            raise
        body: bytes = reply["Body"].read()
        return body

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self._bucket, Key=self._prefix + check_key(key))

    def keys(self, prefix: str = "") -> Iterator[str]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=self._prefix + prefix
        )
        for page in pages:
            for item in page.get("Contents", ()):
                yield item["Key"][len(self._prefix) :]


class _StagedObject:
    def __init__(self, store: S3BlobStore, key: str) -> None:
        self._store, self._key = store, key
        self._file: IO[bytes] | None = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY)  # noqa: SIM115 (closed by commit/abort)

    def write(self, data: bytes) -> None:
        if self._file is None:
            raise ValueError("this blob was committed or aborted already")
        self._file.write(data)

    def commit(self) -> None:
        if self._file is None:
            raise ValueError("this blob was committed or aborted already")
        self._file.seek(0)
        try:
            self._store.put(self._key, self._file)
        finally:
            self.abort()

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def open_store(url: str) -> S3BlobStore:
    parts = urlsplit(url)
    if not parts.netloc:
        raise ConfigError(f"S3 blob store URL needs a bucket: s3://BUCKET/prefix, not {url!r}")
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(options) - {"endpoint", "region", "sse"}
    if unknown:
        raise ConfigError(f"unknown S3 blob store options {sorted(unknown)}; use endpoint, region, sse")
    try:
        client = boto3.client(
            "s3",
            endpoint_url=options.get("endpoint"),
            region_name=options.get("region", "us-east-1"),
            config=Config(retries={"max_attempts": 5, "mode": "standard"}, max_pool_connections=64),
        )
    except BotoCoreError as exc:
        raise ConfigError(f"cannot configure the S3 client: {type(exc).__name__}") from None
    return S3BlobStore(client, parts.netloc, parts.path, options.get("sse"))
