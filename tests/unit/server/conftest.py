from __future__ import annotations

import pytest

from tests.unit.server.collector import Collector, make_collector


@pytest.fixture
def collector() -> Collector:
    return make_collector()
