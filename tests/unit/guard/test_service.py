"""Bind address and TLS, debug mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from apprentice.guard import Deployment, is_loopback, run_checks


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost"])
def test_loopback_without_tls_passes(host: str) -> None:
    assert is_loopback(host)
    assert run_checks(Deployment(bind_host=host, debug=False)) == []


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "10.0.0.5", "collector.example.org"])
def test_non_loopback_bind_without_tls_is_refused(host: str) -> None:
    (problem,) = run_checks(Deployment(bind_host=host))
    assert problem.check == "bind_tls" and problem.severity == "refuse"
    assert "(not loopback) without TLS" in problem.reason and "tls_cert_file" in problem.fix


def test_non_loopback_bind_with_tls_passes(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("cert")
    assert run_checks(Deployment(bind_host="0.0.0.0", tls_cert_file=cert, tls_key_file=tmp_path / "k")) == []


def test_half_a_tls_configuration_is_refused(tmp_path: Path) -> None:
    problems = run_checks(Deployment(bind_host="127.0.0.1", tls_cert_file=tmp_path / "cert.pem"))
    assert [p.reason for p in problems] == ["tls_cert_file is set but tls_key_file is not"]


def test_debug_mode_is_refused() -> None:
    (problem,) = run_checks(Deployment(debug=True, env_prefix="APPRENTICE_SERVER_"))
    assert problem.check == "debug" and problem.severity == "refuse"
    assert "debug mode on" in problem.reason and "APPRENTICE_SERVER_DEBUG" in problem.fix
