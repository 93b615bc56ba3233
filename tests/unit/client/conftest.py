"""The client tests talk to an in-process collector: the same fixtures as the server tests."""

from tests.unit.server.conftest import collector, collector_factory

__all__ = ["collector", "collector_factory"]
