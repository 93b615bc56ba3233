"""Checks on how the service listens: loopback or TLS, and never in debug mode."""

from __future__ import annotations

import ipaddress

from apprentice.guard.base import Deployment, Problem


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses; any other name could resolve anywhere."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind_tls(deployment: Deployment) -> list[Problem]:
    """A non-loopback bind needs TLS; a TLS setting needs both halves, and both files present."""
    cert, key = deployment.tls_cert_file, deployment.tls_key_file
    problems = []
    if (cert is None) != (key is None):
        have, missing = ("tls_cert_file", "tls_key_file") if cert is not None else ("tls_key_file",
                                                                                    "tls_cert_file")
        problems.append(Problem("bind_tls", "refuse", f"{have} is set but {missing} is not",
                                f"set {missing} too, or remove {have}"))
    elif cert is not None and not cert.is_file():
        problems.append(Problem("bind_tls", "refuse", f"TLS certificate {cert} not found",
                                "correct tls_cert_file (a PEM certificate chain)"))
    host = deployment.bind_host
    if host is not None and not is_loopback(host) and (cert is None or key is None):
        problems.append(Problem(
            "bind_tls", "refuse",
            f"{deployment.service} binds to {host or 'all interfaces'} (not loopback) without TLS",
            "set tls_cert_file and tls_key_file, or bind host = \"127.0.0.1\" behind a TLS proxy "
            "on this host",
        ))
    return problems


def check_debug(deployment: Deployment) -> list[Problem]:
    """Debug mode exposes internals (tracebacks, reload hooks); a deployment never runs with it."""
    if not deployment.debug:
        return []
    return [Problem(
        "debug", "refuse", f"{deployment.service} has debug mode on (debug = true)",
        f"remove debug from the config and unset {deployment.env_prefix}DEBUG",
    )]
