"""Training-data formats, one module each, chosen by name.

``EXPORTERS`` is the whole registry, read top to bottom; ``create_exporter(name)``
imports the chosen module only when it is asked for, so ``pyarrow`` is needed only by
the Parquet exporter.
"""

from __future__ import annotations

import importlib

from apprentice.errors import ConfigError
from apprentice.pipeline.export.base import Exporter

EXPORTERS: dict[str, str] = {
    "parquet": ".parquet",
    "osworld": ".osworld",
    "agentnet": ".agentnet",
    "computer13": ".computer13",
    "wds": ".wds",
}

__all__ = ["EXPORTERS", "Exporter", "create_exporter"]


def create_exporter(name: str) -> Exporter:
    """Return the exporter registered as ``name``."""
    if name not in EXPORTERS:
        raise ConfigError(f"unknown dataset format {name!r}; choose from {sorted(EXPORTERS)}")
    try:
        module = importlib.import_module(EXPORTERS[name], __package__)
    except ImportError as exc:
        raise ConfigError(
            f"the {name!r} format needs the pipeline extra: pip install 'apprentice[pipeline]'"
        ) from exc
    exporter: Exporter = module.EXPORTER
    return exporter
