"""Bucket policy, ACL and public-access block.

moto's in-process S3 (``mock_aws``) stands in for AWS here because the S3 server the other
tests use, ``rclone serve s3``, does not implement bucket policies, ACLs or public-access
blocks; the last test runs the real rclone server to show those come out as "not supported"
warnings rather than passes or failures.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from apprentice.guard import Bucket, Deployment, Problem, run_checks
from tests.contract.conftest import s3_server  # noqa: F401  (fixture)
from tests.contract.services import S3Server

COLLECTOR = "arn:aws:iam::111122223333:role/apprentice-collector"
PIPELINE = "arn:aws:iam::111122223333:role/apprentice-pipeline"
ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
          "RestrictPublicBuckets": True}


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="apprentice-chunks")
        client.put_public_access_block(Bucket="apprentice-chunks", PublicAccessBlockConfiguration=ALL_ON)
        yield client


def _deployment(client: Any) -> Deployment:
    return Deployment(bucket=Bucket("apprentice-chunks", lambda: client, (COLLECTOR, PIPELINE)))


def _policy(client: Any, *statements: dict[str, Any]) -> None:
    client.put_bucket_policy(Bucket="apprentice-chunks",
                             Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def _allow(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Sid": "S1", "Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::apprentice-chunks/*", **extra}


def _refusals(client: Any, check: str) -> list[Problem]:
    return [p for p in run_checks(_deployment(client)) if p.check == check and p.severity == "refuse"]


def test_a_bucket_with_only_service_identities_passes(s3: Any) -> None:
    _policy(s3, _allow({"AWS": [COLLECTOR, PIPELINE]}))
    assert run_checks(_deployment(s3)) == []


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": [COLLECTOR, "*"]}])
def test_a_policy_granting_everyone_is_refused(s3: Any, principal: Any) -> None:
    _policy(s3, _allow(principal))
    (problem,) = _refusals(s3, "bucket_policy")
    assert problem.reason.startswith("bucket apprentice-chunks: policy statement S1 grants access to any")


def test_a_policy_naming_an_unlisted_principal_is_refused(s3: Any) -> None:
    _policy(s3, _allow({"AWS": [COLLECTOR, "arn:aws:iam::999988887777:root"]}))
    (problem,) = _refusals(s3, "bucket_policy")
    assert "names principal arn:aws:iam::999988887777:root (AWS)" in problem.reason
    assert "allowed_bucket_principals" in problem.fix


def test_an_organisation_wide_condition_is_refused(s3: Any) -> None:
    _policy(s3, _allow({"AWS": COLLECTOR},
                       Condition={"StringEquals": {"aws:PrincipalOrgID": "o-exampleorgid"}}))
    (problem,) = _refusals(s3, "bucket_policy")
    assert "grants organisation-wide access (condition aws:PrincipalOrgID)" in problem.reason


def test_deny_statements_are_not_grants(s3: Any) -> None:
    _policy(s3, {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": "arn:aws:s3:::apprentice-chunks/*",
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    assert run_checks(_deployment(s3)) == []


@pytest.mark.parametrize(("acl", "who"), [("public-read", "AllUsers"),
                                          ("authenticated-read", "AuthenticatedUsers")])
def test_an_acl_grant_to_a_public_group_is_refused(s3: Any, acl: str, who: str) -> None:
    s3.put_bucket_acl(Bucket="apprentice-chunks", ACL=acl)
    (problem,) = _refusals(s3, "bucket_acl")
    assert problem.reason.startswith(f"bucket apprentice-chunks: ACL grants READ to {who}")
    assert "--acl private" in problem.fix


def test_a_missing_public_access_block_is_refused(s3: Any) -> None:
    s3.delete_public_access_block(Bucket="apprentice-chunks")
    (problem,) = _refusals(s3, "public_access_block")
    assert problem.reason.startswith("bucket apprentice-chunks has no public-access block")
    assert "put-public-access-block" in problem.fix


def test_a_public_access_block_partly_off_is_refused(s3: Any) -> None:
    s3.put_public_access_block(Bucket="apprentice-chunks",
                               PublicAccessBlockConfiguration={**ALL_ON, "BlockPublicPolicy": False})
    (problem,) = _refusals(s3, "public_access_block")
    assert problem.reason == "bucket apprentice-chunks: public-access block is off for BlockPublicPolicy"


def test_a_bucket_the_service_may_not_inspect_is_refused() -> None:
    class Denied:
        def __getattr__(self, name: str) -> Any:
            def call(**_: Any) -> None:
                from botocore.exceptions import ClientError

                raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, name)
            return call

    problems = run_checks(Deployment(bucket=Bucket("apprentice-chunks", Denied)))
    assert [p.severity for p in problems] == ["refuse"] * 3
    assert "cannot read its bucket policy (AccessDenied)" in problems[0].reason


@pytest.mark.s3
def test_rclone_reports_not_supported_as_warnings(s3_server: S3Server) -> None:  # noqa: F811
    client = s3_server.client()
    bucket = s3_server.create_bucket()
    problems = run_checks(Deployment(bucket=Bucket(bucket, lambda: client)))
    if s3_server.kind != "rclone":  # moto's server supports these APIs, and the block is missing
        assert any(p.check == "public_access_block" and p.severity == "refuse" for p in problems)
        return
    assert [(p.check, p.severity) for p in problems] == [
        ("bucket_policy", "warn"), ("bucket_acl", "warn"), ("public_access_block", "warn")]
    assert all("not supported by this store" in p.reason for p in problems)
