"""A bounded schemathesis run against the collector's OpenAPI document: no input — valid,
invalid, hostile — may produce a 5xx. Runs in process (ASGI) on memory stores; < 60 s."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.unit.server.collector import ADMIN, add_account, make_collector

_collector = make_collector()
# Each route is called as a principal it is meant for, so its own validation is exercised too.
_ALICE = {**add_account(_collector.metadata, "contributor", "alice"), "X-Apprentice-Purpose": "self_service"}
_AS = {
    "/api/v1/pipeline/": {**add_account(_collector.metadata, "pipeline"),
                          "X-Apprentice-Purpose": "processing"},
    "/api/v1/me": _ALICE,
    "/api/v1/contributors/": _ALICE,
    "/metrics": {**add_account(_collector.metadata, "operator"), "X-Apprentice-Purpose": "operations"},
}
schema = schemathesis.openapi.from_asgi("/openapi.json", _collector.app)


@pytest.fixture(scope="module", autouse=True)
def _close_collector() -> Iterator[None]:
    yield
    _collector.close()


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_collector_fail(case: schemathesis.Case) -> None:
    headers = next((h for prefix, h in _AS.items() if case.path.startswith(prefix)), ADMIN)
    case.call_and_validate(checks=[not_a_server_error], headers=headers)
