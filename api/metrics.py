"""Prometheus metrics, one registry per app (several apps live in one test process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tthc_http_requests",
            "HTTP requests by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tthc_http_request_seconds",
            "HTTP latency by route template",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.decisions = Counter(
            "tthc_decisions",
            "Replies by channel and decision (answer, clarify, abstain)",
            ["channel", "decision"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "tthc_rate_limited", "Requests refused by a rate limit", ["scope"], registry=self.registry
        )
        self.channel_updates = Counter(
            "tthc_channel_updates",
            "Webhook updates by channel and outcome",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.procedures = Gauge("tthc_procedures", "Procedures in the loaded knowledge base", registry=self.registry)
        self.stages = Histogram(
            "tthc_stage_seconds",
            "Time in each stage of a chat turn: retrieval (direct answer or search), rasa (round trip with "
            "its custom actions), store (load state + record the turn)",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rasa_up = Gauge(
            "tthc_rasa_up", "1 when the last call to Rasa succeeded, 0 in degraded mode", registry=self.registry
        )
        self.knowledge_build = Gauge(
            "tthc_knowledge_build_info",
            "The knowledge base build this worker serves (value 1)",
            ["build_id"],
            registry=self.registry,
        )
        self.offline = Gauge("tthc_offline", "1 while the assistant is switched off by staff", registry=self.registry)

    def set_knowledge_build(self, build_id: str, procedures: int) -> None:
        self.knowledge_build.clear()
        self.knowledge_build.labels(build_id or "in-memory").set(1)
        self.procedures.set(procedures)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
