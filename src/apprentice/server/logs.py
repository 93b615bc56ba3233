"""Structured (JSON lines) logs for the collector. Log records carry route templates,
statuses, sizes and timings; never bodies, headers, tokens, keys or identifiers of people."""

from __future__ import annotations

import json
import logging
import time
from typing import Any


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            doc.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            doc["error"] = record.exc_info[0].__name__  # the type only: messages may carry data
        return json.dumps(doc, separators=(",", ":"))


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("apprentice")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def now_ms() -> float:
    return time.perf_counter() * 1000
