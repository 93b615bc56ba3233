"""Checks on an S3 bucket: its policy, its ACL and its public-access block.

Who may appear in a grant is a closed list (``Bucket.allowed_principals``, the configured
service identities). A grant to ``*``, to an account or service not on the list, to every
member of an AWS organisation (``aws:PrincipalOrgID`` and siblings), or through
``NotPrincipal`` is refused; so is an ACL grant to AllUsers or AuthenticatedUsers or to
another account. ``Deny`` statements only take access away and are not inspected.

Stores differ: some answer these APIs with something else (``rclone serve s3`` returns a
bucket listing) or ``NotImplemented``. That is reported as a warning — "not supported by
this store" — because the guard cannot see the store's own access rules, but neither can
such a store hold an AWS-style public grant. A store that supports the API but denies the
collector the read (AccessDenied) is a refusal: a check that cannot run is not a pass.
"""

from __future__ import annotations

import json
from typing import Any

from apprentice.guard.base import Bucket, Deployment, Problem

_PUBLIC_GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "AllUsers (anyone on the internet)",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers (any AWS account)",
}
# condition keys that widen a grant to every account of an organisation (or an OU of it)
_ORG_KEYS = ("aws:principalorgid", "aws:principalorgpaths", "aws:resourceorgid", "aws:resourceorgpaths",
             "aws:sourceorgid", "aws:sourceorgpaths")
_UNSUPPORTED_CODES = {"NotImplemented", "501", "MethodNotAllowed", "405", "NotSupported", "XNotImplemented"}
_PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
_READ_PERMISSIONS = "s3:GetBucketPolicy, s3:GetBucketAcl and s3:GetBucketPublicAccessBlock"


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    return code or str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


def _unsupported(check: str, bucket: Bucket, what: str) -> Problem:
    return Problem(
        check, "warn",
        f"bucket {bucket.name}: {what} is not supported by this store, so it cannot be checked",
        "make sure the store itself denies anonymous and cross-account access (its own ACLs/policies)",
    )


def _call(check: str, bucket: Bucket, operation: str, what: str) -> tuple[Any, Problem | None, str]:
    """Run one read; return (reply, problem, error code). Errors other than 'missing' are problems."""
    try:
        return getattr(bucket.client(), operation)(Bucket=bucket.name), None, ""
    except Exception as exc:  # botocore raises many types; each is turned into a named problem
        code = _code(exc)
        if code in _UNSUPPORTED_CODES:
            return None, _unsupported(check, bucket, what), code
        if code.startswith("NoSuch") and code != "NoSuchBucket":
            return None, None, code
        return None, Problem(
            check, "refuse",
            f"bucket {bucket.name}: cannot read its {what} ({code or type(exc).__name__})",
            f"give this service's identity {_READ_PERMISSIONS} on the bucket, and check the bucket exists",
        ), code


def check_bucket_policy(deployment: Deployment) -> list[Problem]:
    """No Allow statement may grant to ``*``, an unlisted principal, or a whole organisation."""
    bucket = deployment.bucket
    if bucket is None:
        return []
    reply, problem, _ = _call("bucket_policy", bucket, "get_bucket_policy", "bucket policy")
    if problem is not None:
        return [problem]
    if reply is None:  # NoSuchBucketPolicy: access comes from the identities' own policies
        return []
    try:
        document = json.loads(reply.get("Policy", ""))
        statements = document["Statement"]
    except (ValueError, KeyError, TypeError):
        return [_unsupported("bucket_policy", bucket, "the bucket policy API")]
    if isinstance(statements, dict):
        statements = [statements]
    problems = []
    for index, statement in enumerate(statements):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        name = f"statement {statement.get('Sid') or index}"
        for why in _grant_problems(statement, set(bucket.allowed_principals)):
            problems.append(Problem(
                "bucket_policy", "refuse",
                f"bucket {bucket.name}: policy {name} {why}",
                "remove that statement or name only the collector and pipeline identities in it; "
                "list extra identities in allowed_bucket_principals",
            ))
    return problems


def _principals(value: Any) -> list[tuple[str, str]]:
    """Flatten a policy Principal into (type, principal) pairs; ``"*"`` is ("*", "*")."""
    if value == "*":
        return [("*", "*")]
    pairs = []
    if isinstance(value, dict):
        for kind, names in value.items():
            for name in names if isinstance(names, list) else [names]:
                pairs.append((str(kind), str(name)))
    return pairs


def _grant_problems(statement: dict[str, Any], allowed: set[str]) -> list[str]:
    found = []
    if "NotPrincipal" in statement:
        found.append("allows everyone except the listed principals (NotPrincipal)")
    for kind, name in _principals(statement.get("Principal")):
        if name == "*":
            found.append("grants access to any principal (\"*\")" if kind == "*"
                         else f"grants access to any {kind} principal ({{\"{kind}\": \"*\"}})")
        elif name not in allowed:
            found.append(f"names principal {name} ({kind}), which is not a configured service identity")
    conditions = statement.get("Condition") or {}
    if isinstance(conditions, dict):
        for operator in conditions.values():
            for key in operator if isinstance(operator, dict) else ():
                if str(key).lower() in _ORG_KEYS:
                    found.append(f"grants organisation-wide access (condition {key})")
    return found


def check_bucket_acl(deployment: Deployment) -> list[Problem]:
    """No ACL grant to AllUsers, AuthenticatedUsers, or an account other than the owner."""
    bucket = deployment.bucket
    if bucket is None:
        return []
    reply, problem, code = _call("bucket_acl", bucket, "get_bucket_acl", "ACL")
    if problem is not None:
        return [problem]
    if reply is None or ("Owner" not in reply and "Grants" not in reply):
        return [_unsupported("bucket_acl", bucket, "the ACL API")]
    owner = (reply.get("Owner") or {}).get("ID")
    allowed = set(bucket.allowed_principals) | {owner}
    problems = []
    for grant in reply.get("Grants", ()):
        grantee = grant.get("Grantee", {})
        permission = grant.get("Permission", "?")
        uri = grantee.get("URI")
        if uri in _PUBLIC_GROUPS:
            who = _PUBLIC_GROUPS[uri]
        elif grantee.get("Type") == "CanonicalUser" and grantee.get("ID") not in allowed:
            who = f"account {grantee.get('ID')}"
        elif grantee.get("Type") == "AmazonCustomerByEmail":
            who = "an account named by e-mail"
        else:
            continue
        problems.append(Problem(
            "bucket_acl", "refuse",
            f"bucket {bucket.name}: ACL grants {permission} to {who}",
            f"aws s3api put-bucket-acl --bucket {bucket.name} --acl private "
            "(and keep object ownership 'bucket owner enforced')",
        ))
    return problems


def check_public_access_block(deployment: Deployment) -> list[Problem]:
    """The bucket's public-access block is present with all four settings on."""
    bucket = deployment.bucket
    if bucket is None:
        return []
    reply, problem, code = _call("public_access_block", bucket, "get_public_access_block",
                                 "public-access block")
    if problem is not None:
        return [problem]
    fix = (f"aws s3api put-public-access-block --bucket {bucket.name} --public-access-block-configuration "
           "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true")
    if reply is None:
        return [Problem("public_access_block", "refuse",
                        f"bucket {bucket.name} has no public-access block ({code})", fix)]
    config = reply.get("PublicAccessBlockConfiguration") or {}
    if not any(flag in config for flag in _PAB_FLAGS):
        return [_unsupported("public_access_block", bucket, "the public-access block")]
    off = [flag for flag in _PAB_FLAGS if config.get(flag) is not True]
    if off:
        return [Problem("public_access_block", "refuse",
                        f"bucket {bucket.name}: public-access block is off for {', '.join(off)}", fix)]
    return []
