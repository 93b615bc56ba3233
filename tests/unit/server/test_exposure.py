"""The collector's description of itself for the exposure guard, and its new settings.

The S3 case uses moto's in-process S3 (``mock_aws``) because ``rclone serve s3``, the S3
server the other tests use, implements no bucket policy, ACL or public-access block.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from apprentice.guard import DataPath
from apprentice.server.exposure import check_collector, deployment_for, sqlite_path
from apprentice.server.settings import ServerSettings, load_settings

PUB = "local:///etc/apprentice/master/master.pub"


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:////var/lib/apprentice/collector.db", Path("/var/lib/apprentice/collector.db")),
    ("sqlite+pysqlite:////srv/c.db?timeout=5", Path("/srv/c.db")),
    ("sqlite:///relative.db", Path.cwd() / "relative.db"),
    ("sqlite:///:memory:", None), ("sqlite://", None), ("postgresql+psycopg://h/db", None),
])
def test_sqlite_path(url: str, expected: Path | None) -> None:
    assert sqlite_path(url) == expected


def test_a_file_and_sqlite_collector_is_described_by_its_folders_and_keys(tmp_path: Path) -> None:
    settings = ServerSettings(master_key_url=PUB, database_url=f"sqlite:///{tmp_path}/db/c.db",
                              blob_url=f"file://{tmp_path}/chunks", host="0.0.0.0",
                              tls_cert_file=tmp_path / "cert.pem", tls_key_file=tmp_path / "key.pem")
    deployment = deployment_for(settings)
    assert deployment.data_paths[:2] == (DataPath(tmp_path / "chunks", "blob folder"),
                                         DataPath(tmp_path / "db", "database folder", recursive=False))
    names = {d.path.name for d in deployment.data_paths[2:]}
    assert names == {"c.db", "c.db-wal", "c.db-shm", "c.db-journal"}
    assert [k.path for k in deployment.key_files] == [tmp_path / "key.pem"]
    assert [k.path for k in deployment.foreign_keys] == [Path("/etc/apprentice/master/master.key")]
    assert deployment.bind_host == "0.0.0.0" and deployment.debug is False and deployment.bucket is None


def test_allowed_bucket_principals_from_toml_or_a_comma_separated_variable(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[server]\nmaster_key_url = "{PUB}"\nallowed_bucket_principals = ["a", "b"]\n')
    assert load_settings(config, environ={}).allowed_bucket_principals == ("a", "b")
    env = {"APPRENTICE_SERVER_ALLOWED_BUCKET_PRINCIPALS": "arn:1, arn:2", "APPRENTICE_SERVER_DEBUG": "true"}
    settings = load_settings(config, environ=env)
    assert settings.allowed_bucket_principals == ("arn:1", "arn:2") and settings.debug is True


def test_a_public_s3_bucket_is_refused_via_the_collector_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    role = "arn:aws:iam::111122223333:role/collector"
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="apprentice-chunks")
        s3.put_bucket_policy(Bucket="apprentice-chunks", Policy=json.dumps({"Statement": [
            {"Sid": "Team", "Effect": "Allow", "Principal": {"AWS": [role, "arn:aws:iam::111122223333:root"]},
             "Action": "s3:*", "Resource": "arn:aws:s3:::apprentice-chunks/*"}]}))
        settings = ServerSettings(master_key_url=PUB, blob_url="s3://apprentice-chunks/raw",
                                  database_url="postgresql+psycopg://h/db", allowed_bucket_principals=(role,))
        results = {r.name: r for r in check_collector(settings)}
    assert results["bucket_acl"].status == "pass"
    assert results["public_access_block"].status == "refuse"
    (problem,) = results["bucket_policy"].problems
    assert problem.reason == (
        "bucket apprentice-chunks: policy statement Team names principal "
        "arn:aws:iam::111122223333:root (AWS), which is not a configured service identity")
