"""Prometheus metrics for operators: rates, sizes, latencies and errors — never content,
never contributor or device ids (labels are route templates and status classes only)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "apprentice_http_requests_total", "HTTP requests by route and status",
            ["method", "route", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "apprentice_http_request_seconds", "Request latency by route", ["route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.chunks = Counter(
            "apprentice_chunks_total", "Chunk uploads by outcome", ["outcome"], registry=self.registry
        )
        self.chunk_bytes = Counter(
            "apprentice_chunk_bytes_total", "Bytes of newly stored chunks", registry=self.registry
        )
        self.inflight = Gauge(
            "apprentice_uploads_in_flight", "Chunk uploads being processed", registry=self.registry
        )
        self.queued = Gauge(
            "apprentice_uploads_queued", "Chunk uploads waiting for a slot (max_inflight_uploads)",
            registry=self.registry,
        )
        self.rejected_busy = Counter(
            "apprentice_uploads_throttled_total", "Uploads answered 429 (back-pressure)",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
