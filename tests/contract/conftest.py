"""Session-wide PostgreSQL and S3-compatible servers (started once, skipped with a reason)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.services import Postgres, S3Server, start_postgres, start_s3


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    started = start_postgres()
    if isinstance(started, str):
        pytest.skip(started)
    yield started  # stopped at process exit (shared with the integration tests)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    started = start_s3()
    if isinstance(started, str):
        pytest.skip(started)
    yield started


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return s3_server
