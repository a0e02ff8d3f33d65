"""Liveness, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from api.deps import Context
from api.schemas import Health

router = APIRouter(tags=["vận hành"])


@router.get("/health/live", response_model=Health)
def live() -> Health:
    """The process answers."""
    return Health(status="ok")


@router.get("/health/ready", response_model=Health, responses={503: {"model": Health}})
def ready(context: Context) -> Response:
    """The knowledge base is loaded and the store answers; a load balancer may send traffic.

    The body also reports the dialogue layer: "off", "ok" or "unreachable" (answers go direct).
    """
    checks = {
        "knowledge_base": f"{len(context.service.searcher.procedures)} thủ tục",
        "store": "ok" if context.store.ping() else "unreachable",
        # Rasa down is degraded mode (direct answers), not "not ready": every worker would be dropped.
        "rasa": context.conversations.rasa_state(),
    }
    ping = getattr(context.limiter, "ping", None)
    if ping is not None:
        # Redis down: limits fall back to each worker's memory; still ready.
        checks["rate_limits"] = "redis" if ping() else "redis unreachable: counted per worker"
    status = "ok" if checks["store"] == "ok" else "not_ready"
    return JSONResponse(Health(status=status, checks=checks).model_dump(), status_code=200 if status == "ok" else 503)


@router.get("/metrics", include_in_schema=False)
def metrics(context: Context) -> Response:
    switch = context.conversations.switch
    if switch is not None:
        context.metrics.offline.set(1 if switch.message() else 0)
    return Response(context.metrics.render(), media_type="text/plain; version=0.0.4")
