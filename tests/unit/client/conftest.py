from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.unit.server.collector import Collector, make_collector


@pytest.fixture
def collector_factory() -> Iterator[Callable[..., Collector]]:
    built: list[Collector] = []

    def make(**settings: Any) -> Collector:
        built.append(make_collector(**settings))
        return built[-1]

    yield make
    for c in built:
        c.close()


@pytest.fixture
def collector(collector_factory: Callable[..., Collector]) -> Collector:
    return collector_factory()
