"""Prometheus metrics of one server (`GET /metrics`, text format), in a registry of its own.

    theoremllama_verdicts_total{reason}      verdicts given, by reason
    theoremllama_verify_seconds              histogram of the time to check one proof
    theoremllama_queue_length                jobs accepted and not yet answered
    theoremllama_restarts_total              REPL processes replaced (faults, recycling)
    theoremllama_header_imports_total        header imports (one per worker and header, + restarts)
"""

from __future__ import annotations

from typing import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily

from theoremllama.lean.verdict import REASONS, Verdict

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Lean proofs take from milliseconds (a `rfl`) to the timeout (minutes).
_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


class _PoolCounters:
    """Restarts and header imports, read from the pool's `stats()` at scrape time."""

    def __init__(self, stats: Callable[[], dict]):
        self._stats = stats

    def collect(self):
        stats = self._stats()
        for key, help_text in (("restarts", "REPL processes replaced after a fault or recycled"),
                               ("header_imports", "header imports (one per worker and header, plus restarts)")):
            family = CounterMetricFamily(f"theoremllama_{key}", help_text)
            family.add_metric([], float(stats.get(key, 0)))
            yield family


class Metrics:
    def __init__(self, stats: Callable[[], dict], queue_length: Callable[[], int]):
        self.registry = CollectorRegistry()
        self.verdicts = Counter("theoremllama_verdicts", "verdicts given, by reason", ["reason"],
                                registry=self.registry)
        for reason in REASONS:  # every reason appears from the start, at 0
            self.verdicts.labels(reason)
        self.seconds = Histogram("theoremllama_verify_seconds", "time to check one proof",
                                 buckets=_BUCKETS, registry=self.registry)
        queue = Gauge("theoremllama_queue_length", "jobs accepted and not yet answered", registry=self.registry)
        queue.set_function(lambda: float(queue_length()))
        self.registry.register(_PoolCounters(stats))

    def observe(self, verdict: Verdict) -> None:
        self.verdicts.labels(verdict.reason).inc()
        self.seconds.observe(verdict.seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
