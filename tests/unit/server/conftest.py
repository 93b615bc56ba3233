from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.server.collector import Collector, make_collector


@pytest.fixture
def collector() -> Iterator[Collector]:
    built = make_collector()
    yield built
    built.http.close()
