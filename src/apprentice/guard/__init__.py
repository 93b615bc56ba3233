"""The exposure guard (DESIGN promise 6): a service checks its own deployment before it
serves anything, and ``apprentice doctor`` runs the same checks on demand.

    problems = run_checks(deployment, extra_checks=(my_check,))
    refusals = [p for p in problems if p.severity == "refuse"]

A check is a function ``Deployment -> Iterable[Problem]``; an empty result is a pass. A
check that raises is reported as a refusal (a check that cannot run is not a pass). This
package imports no service: the collector builds its ``Deployment`` in
``apprentice.server.exposure``, other services do the same with their settings. Every
check, why it exists and its fix: docs/exposure-guard.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from apprentice.guard.base import Bucket, CheckFn, DataPath, Deployment, KeyFile, Problem, Severity
from apprentice.guard.bucket import check_bucket_acl, check_bucket_policy, check_public_access_block
from apprentice.guard.config_secrets import check_config_secrets
from apprentice.guard.files import check_data_paths, check_foreign_keys, check_key_files
from apprentice.guard.service import check_bind_tls, check_debug, is_loopback

__all__ = [
    "CHECKS",
    "Bucket",
    "Check",
    "CheckFn",
    "CheckResult",
    "DataPath",
    "Deployment",
    "KeyFile",
    "Problem",
    "Severity",
    "check_results",
    "is_loopback",
    "run_checks",
]


@dataclass(frozen=True, slots=True)
class Check:
    """A named check; ``applies`` says whether the deployment has anything for it to look at."""

    name: str
    title: str
    run: CheckFn
    applies: CheckFn | None = None

    def applicable(self, deployment: Deployment) -> bool:
        return self.applies is None or bool(self.applies(deployment))


CHECKS: tuple[Check, ...] = (
    Check("data_permissions", "data folders private (0700/0600)", check_data_paths,
          lambda d: d.data_paths),
    Check("key_permissions", "key files 0600 in 0700 folders", check_key_files, lambda d: d.key_files),
    Check("foreign_keys", "no other identity's key readable", check_foreign_keys, lambda d: d.foreign_keys),
    Check("bucket_policy", "bucket policy names only service identities", check_bucket_policy,
          lambda d: (d.bucket,) if d.bucket else ()),
    Check("bucket_acl", "bucket ACL grants no one else", check_bucket_acl,
          lambda d: (d.bucket,) if d.bucket else ()),
    Check("public_access_block", "bucket public-access block on", check_public_access_block,
          lambda d: (d.bucket,) if d.bucket else ()),
    Check("bind_tls", "loopback bind or TLS", check_bind_tls,
          lambda d: (True,) if d.bind_host is not None or d.tls_cert_file or d.tls_key_file else ()),
    Check("debug", "debug mode off", check_debug, lambda d: (True,) if d.debug is not None else ()),
    Check("config_secrets", "no secrets in the config file", check_config_secrets,
          lambda d: (True,) if d.config_text is not None else ()),
)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's outcome: ``status`` is pass, warn, refuse or skip (nothing to check)."""

    name: str
    title: str
    status: str
    problems: tuple[Problem, ...]


def _as_check(fn: CheckFn | Check) -> Check:
    if isinstance(fn, Check):
        return fn
    name = getattr(fn, "__name__", "extra_check").removeprefix("check_")
    doc = (getattr(fn, "__doc__", None) or name).strip().splitlines()[0]
    return Check(name, doc, fn)


def check_results(deployment: Deployment, extra_checks: Sequence[CheckFn | Check] = ()) -> list[CheckResult]:
    """Run every built-in check and the extras; one result per check, in order."""
    results = []
    for check in (*CHECKS, *(_as_check(fn) for fn in extra_checks)):
        if not check.applicable(deployment):
            results.append(CheckResult(check.name, check.title, "skip", ()))
            continue
        try:
            problems = tuple(check.run(deployment))
        except Exception as exc:  # fail closed, naming only the exception type (never its text)
            problems = (Problem(
                check.name, "refuse", f"the {check.name} check failed ({type(exc).__name__})",
                "fix what stops the check from running (docs/exposure-guard.md); an unchecked "
                "deployment does not start"),)
        status = ("refuse" if any(p.severity == "refuse" for p in problems)
                  else "warn" if problems else "pass")
        results.append(CheckResult(check.name, check.title, status, problems))
    return results


def run_checks(deployment: Deployment, extra_checks: Iterable[CheckFn | Check] = ()) -> list[Problem]:
    """Every problem found in ``deployment``, refusals and warnings, built-in checks first."""
    return [p for result in check_results(deployment, tuple(extra_checks)) for p in result.problems]
