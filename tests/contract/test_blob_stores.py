"""The blob store contract, run against every member of the registry."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from apprentice.authz.grant import AccessGrant, GrantError
from apprentice.errors import ConfigError
from apprentice.server.storage.blobs import (
    BLOB_STORES,
    BlobNotFound,
    BlobStore,
    BlobStoreUnavailable,
    open_blob_store,
)
from apprentice.server.storage.blobs._s3 import S3BlobStore
from tests.contract.services import S3Server
from tests.unit.server.collector import raw_grant

NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(params=sorted(BLOB_STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    if request.param == "memory":
        yield open_blob_store("memory://")
    elif request.param == "file":
        yield open_blob_store(f"file://{tmp_path}/blobs")
    else:
        request.applymarker(pytest.mark.s3)
        server: S3Server = request.getfixturevalue("s3_env")
        yield open_blob_store(f"s3://{server.create_bucket()}/chunks?endpoint={server.endpoint}")


def test_put_then_get_returns_the_same_bytes(store: BlobStore) -> None:
    store.put("chunks/ab/abcd", b"\x00sealed\xff" * 1000)
    assert store.get("chunks/ab/abcd", grant=raw_grant("chunks/ab/abcd")) == b"\x00sealed\xff" * 1000


def test_put_again_is_idempotent(store: BlobStore) -> None:
    store.put("k1", b"same")
    store.put("k1", b"same")
    assert store.get("k1", grant=raw_grant("k1")) == b"same" and list(store.keys()) == ["k1"]


def test_missing_key_raises_blob_not_found(store: BlobStore) -> None:
    with pytest.raises(BlobNotFound):
        store.get("nothing/here", grant=raw_grant("nothing/here"))


def test_delete_removes_and_tolerates_missing(store: BlobStore) -> None:
    store.put("a/1", b"x")
    store.delete("a/1")
    store.delete("a/1")
    with pytest.raises(BlobNotFound):
        store.get("a/1", grant=raw_grant("a/1"))


def test_keys_lists_by_prefix(store: BlobStore) -> None:
    for key in ("chunks/aa/1", "chunks/ab/2", "other/3"):
        store.put(key, b"x")
    assert sorted(store.keys("chunks/")) == ["chunks/aa/1", "chunks/ab/2"]
    assert sorted(store.keys()) == ["chunks/aa/1", "chunks/ab/2", "other/3"]


def test_a_read_without_a_grant_for_that_chunk_is_refused(store: BlobStore) -> None:
    """Promise 4: the storage layer itself refuses a raw read that carries no allow decision."""
    store.put("chunks/ab/abcd", b"sealed")
    with pytest.raises(GrantError):
        store.get("chunks/ab/abcd", grant=None)  # type: ignore[arg-type]
    with pytest.raises(GrantError):
        store.get("chunks/ab/abcd", grant=raw_grant("other"))
    with pytest.raises(GrantError):  # and a grant cannot be made up outside the authoriser
        AccessGrant(object(), "abcd", "account:acc-x", "processing", NOW)
    assert store.get("chunks/ab/abcd", grant=raw_grant("abcd")) == b"sealed"


def test_empty_blob_round_trips(store: BlobStore) -> None:
    store.put("empty", b"")
    assert store.get("empty", grant=raw_grant("empty")) == b""


@pytest.mark.parametrize("key", ["", "../escape", "a//b", "a/./b", "/abs", "sp ace", "a/..", "ü"])
def test_unsafe_keys_are_refused(store: BlobStore, key: str) -> None:
    with pytest.raises(ValueError):
        store.put(key, b"x")


def test_unknown_scheme_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="choose from"):
        open_blob_store("ftp://x")


def test_file_store_refuses_a_folder_others_can_read(tmp_path: Path) -> None:
    folder = tmp_path / "open"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    with pytest.raises(ConfigError, match="chmod 700"):
        open_blob_store(f"file://{folder}")


def test_file_store_writes_private_files(tmp_path: Path) -> None:
    store = open_blob_store(f"file://{tmp_path}/b")
    store.put("chunks/ab/x", b"data")
    path = tmp_path / "b" / "chunks" / "ab" / "x.blob"
    assert path.stat().st_mode & 0o077 == 0 and not list(path.parent.glob(".*"))


@pytest.mark.s3
def test_the_s3_server_verifies_signatures(s3_server: S3Server) -> None:
    from botocore.exceptions import ClientError

    bucket = s3_server.create_bucket()
    with pytest.raises(ClientError):
        s3_server.client(secret="wrong-secret").list_objects_v2(Bucket=bucket)


def test_a_streamed_blob_is_invisible_until_committed(store: BlobStore) -> None:
    writer = store.writer("chunks/ab/streamed")
    writer.write(b"first part, ")
    writer.write(b"second part")
    assert list(store.keys()) == []
    with pytest.raises(BlobNotFound):
        store.get("chunks/ab/streamed", grant=raw_grant("chunks/ab/streamed"))
    writer.commit()
    grant = raw_grant("chunks/ab/streamed")
    assert store.get("chunks/ab/streamed", grant=grant) == b"first part, second part"
    writer.abort()  # after a commit: nothing happens
    assert list(store.keys()) == ["chunks/ab/streamed"]


def test_an_aborted_blob_leaves_nothing_and_cannot_be_committed(store: BlobStore) -> None:
    writer = store.writer("chunks/ab/gone")
    writer.write(b"x" * 100_000)
    writer.abort()
    writer.abort()
    with pytest.raises(ValueError, match="already"):
        writer.commit()
    assert list(store.keys()) == []


def test_a_streamed_blob_with_an_unsafe_key_is_refused_at_once(store: BlobStore) -> None:
    with pytest.raises(ValueError):
        store.writer("../escape")


def test_file_store_stages_in_its_own_folder_and_clears_what_a_crash_left(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = open_blob_store(f"file://{root}")
    writer = store.writer("chunks/ab/abcd")
    writer.write(b"sealed")
    staged = list((root / ".staging").iterdir())
    assert len(staged) == 1 and staged[0].stat().st_mode & 0o777 == 0o600
    writer.abort()
    assert list((root / ".staging").iterdir()) == []
    old, young = root / ".staging" / ".old.part", root / ".staging" / ".young.part"
    old.write_bytes(b"left by a kill -9")
    young.write_bytes(b"another process is writing this one")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    open_blob_store(f"file://{root}")  # a restart
    assert not old.exists() and young.exists()


def test_a_streamed_blob_of_many_mebibytes_round_trips(store: BlobStore) -> None:
    """Larger than what the S3 store stages in memory (8 MiB), written 1 MiB at a time."""
    blocks = [os.urandom(1024 * 1024) for _ in range(9)] + [b"tail"]
    writer = store.writer("chunks/cd/large")
    for block in blocks:
        writer.write(block)
    writer.commit()
    assert store.get("chunks/cd/large", grant=raw_grant("chunks/cd/large")) == b"".join(blocks)


def test_an_unreachable_s3_server_is_reported_as_unavailable_without_content() -> None:
    """A real connection to a closed port (one attempt): the write fails as
    BlobStoreUnavailable naming only the kind of failure, which the collector turns into 503."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test",
                          config=Config(retries={"max_attempts": 1}, connect_timeout=2))
    writer = S3BlobStore(client, "bucket").writer("chunks/ab/x")
    writer.write(b"canary-secret sealed bytes")
    with pytest.raises(BlobStoreUnavailable) as raised:
        writer.commit()
    assert "canary" not in str(raised.value) and "S3 put failed" in str(raised.value)
