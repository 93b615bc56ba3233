"""The AWS KMS master key (``awskms://…``) against moto's KMS server — a mock, because no real
KMS is reachable from here (no AWS account, no network). moto checks the encryption context
on Decrypt and keeps keys per region as KMS does; it does not enforce IAM, so the split of
``kms:Encrypt`` (collector) and ``kms:Decrypt`` (pipeline) is not tested here.

The keys are reached only through the URLs the collector and the pipeline are configured
with, so the URL parsing (key id, alias or ARN; ``region``; ``endpoint``) is what is tested.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from apprentice.crypto import ChunkHeader, seal_chunk
from apprentice.errors import ConfigError, DecryptionError
from apprentice.keys._aws_kms import AwsKmsUnwrapper, AwsKmsWrapper
from apprentice.keys.unwrap import PipelineKeyAccess, open_master_unwrapper
from apprentice.server.keys import ContributorKeys, open_master_wrapper
from apprentice.server.storage.metadata import open_metadata
from tests.unit.server.collector import MetadataKeys

REGION = "eu-west-1"
NOW = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass
class Kms:
    endpoint: str
    key_id: str
    arn: str
    alias: str

    def url(self, key: str | None = None, region: str = REGION) -> str:
        return f"awskms://{key or self.key_id}?region={region}&endpoint={self.endpoint}"


@pytest.fixture(scope="module")
def kms_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def kms(kms_server: str, monkeypatch: pytest.MonkeyPatch) -> Kms:
    # moto accepts any credentials; boto3 refuses to sign without some.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "moto-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "moto-test")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    # boto3's default session keeps the first credentials it finds: give these tests their
    # own, so that the S3 tests that run later in this process still get theirs.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    client = boto3.client("kms", region_name=REGION, endpoint_url=kms_server)
    key = client.create_key(Description="apprentice master key (test)")["KeyMetadata"]
    alias = f"alias/apprentice-{key['KeyId'][:8]}"
    client.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    return Kms(kms_server, key["KeyId"], key["Arn"], alias)


def test_wrap_then_unwrap_round_trips_through_kms(kms: Kms) -> None:
    wrapper = open_master_wrapper(kms.url())
    unwrapper = open_master_unwrapper(kms.url())
    assert isinstance(wrapper, AwsKmsWrapper) and isinstance(unwrapper, AwsKmsUnwrapper)
    secret = bytes(range(32))
    wrapped = wrapper.wrap(secret, "alice", "0123456789abcdef")
    assert secret not in wrapped
    assert unwrapper.unwrap(wrapped, "alice", "0123456789abcdef") == secret


@pytest.mark.parametrize(("contributor", "key_id"),
                         [("bob", "0123456789abcdef"), ("alice", "fedcba9876543210")])
def test_unwrap_bound_to_another_contributor_or_key_id_fails(kms: Kms, contributor: str, key_id: str) -> None:
    wrapped = open_master_wrapper(kms.url()).wrap(b"s" * 32, "alice", "0123456789abcdef")
    with pytest.raises(DecryptionError):
        open_master_unwrapper(kms.url()).unwrap(wrapped, contributor, key_id)


def test_tampered_wrapped_key_fails(kms: Kms) -> None:
    wrapped = open_master_wrapper(kms.url()).wrap(b"s" * 32, "alice", "0123456789abcdef")
    tampered = wrapped[:-1] + bytes([wrapped[-1] ^ 1])
    with pytest.raises(DecryptionError):
        open_master_unwrapper(kms.url()).unwrap(tampered, "alice", "0123456789abcdef")


def test_the_key_can_be_named_by_alias_or_arn(kms: Kms) -> None:
    wrapped = open_master_wrapper(kms.url(kms.alias)).wrap(b"a" * 32, "alice", "0123456789abcdef")
    assert open_master_unwrapper(kms.url(kms.arn)).unwrap(wrapped, "alice", "0123456789abcdef") == b"a" * 32


def test_the_region_in_the_url_is_the_one_used(kms: Kms) -> None:
    # KMS keys live in one region: the same key id in another region does not exist.
    with pytest.raises(ClientError, match="NotFound"):
        open_master_wrapper(kms.url(region="us-east-1")).wrap(b"s" * 32, "alice", "0123456789abcdef")


def test_a_url_without_a_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="names no key"):
        open_master_wrapper("awskms://?region=eu-west-1")


def test_contributor_keys_wrapped_by_kms_open_chunks_only_until_forgotten(kms: Kms, tmp_path: Path) -> None:
    metadata = open_metadata(f"sqlite:///{tmp_path}/m.db")
    try:
        metadata.add_contributor("alice", NOW)
        keys = ContributorKeys(metadata, open_master_wrapper(kms.url()))
        row = keys.ensure("alice", NOW)
        sealed = seal_chunk(b"typed text", row.public_key, ChunkHeader("alice", "dev-1", row.key_id, "s:1"))
        pipeline = PipelineKeyAccess(MetadataKeys(metadata), open_master_unwrapper(kms.url()))
        assert pipeline.open(sealed)[1] == b"typed text"
        assert keys.destroy("alice")
        with pytest.raises(DecryptionError):
            pipeline.open(sealed)
    finally:
        metadata.close()
