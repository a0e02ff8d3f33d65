"""Dependencies of the routes: the objects loaded once at start-up, and the rate limits."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request

from api.conversation import Conversations
from api.metrics import Metrics
from api.rasa_tracker import TrackerStore, open_tracker_store
from api.ratelimit import RateLimiter, Verdict
from api.settings import ApiSettings
from api.store import ConversationStore
from knowledge.service import AnswerService

if TYPE_CHECKING:  # imported only for the annotations: neither is needed until its feature is used
    from rasa_sdk.executor import ActionExecutor
    from telegram.ext import Application

RATE_LIMITED = "Bạn gửi quá nhiều yêu cầu, vui lòng thử lại sau ít phút."


@dataclass
class AppContext:
    """What one app (or one polling bot) serves with, built once at start-up and shared by every request."""

    settings: ApiSettings
    service: AnswerService
    store: ConversationStore
    conversations: Conversations
    limiter: RateLimiter
    metrics: Metrics
    # The Telegram bot answering for this app (webhook or polling mode); None while the channel is off.
    telegram: Application | None = None
    # rasa-sdk's executor of the custom actions, built on the first call from Rasa (api/routes/rasa_actions.py)
    # with the current answer service; None until then and after a knowledge reload, which rebuilds it.
    rasa_executor: ActionExecutor | None = None

    @cached_property
    def tracker_store(self) -> TrackerStore | None:
        """Rasa's tracker store when it is shared (SQL/Redis): retention and forget requests clean it."""
        return open_tracker_store(self.settings.rasa_tracker_store_url)

    def swap_service(self, service: AnswerService) -> None:
        """Serve a newly loaded knowledge base; requests already running keep the one they hold."""
        self.conversations.service = service
        self.service = service
        self.rasa_executor = None  # the custom actions are rebuilt on the new service


def get_context(request: Request) -> AppContext:
    return request.app.state.context


Context = Annotated[AppContext, Depends(get_context)]


def client_ip(request: Request) -> str:
    # Behind a load balancer uvicorn's --forwarded-allow-ips turns X-Forwarded-For into client.host;
    # the header itself is not trusted here (anyone can send it).
    return request.client.host if request.client else "unknown"


def hit_limit(context: AppContext, key: str, limit: int, scope: str) -> Verdict:
    """Count one request against ``key``'s budget per minute; a refusal is counted in the metrics by ``scope``."""
    verdict = context.limiter.hit(key, limit)
    if not verdict.allowed:
        context.metrics.rate_limited.labels(scope).inc()
    return verdict


def limit_user(context: AppContext, channel: str, user_id: str) -> Verdict:
    """One chat turn against the user's budget: the same key and limit on every door (widget, API, channels)."""
    return hit_limit(context, f"user:{channel}:{user_id}", context.settings.rate_limit_user_per_minute, "user")


def refuse_if_limited(verdict: Verdict) -> None:
    """An HTTP caller over its budget gets 429 with the seconds to wait; a channel sends a message instead."""
    if not verdict.allowed:
        raise HTTPException(429, RATE_LIMITED, headers={"Retry-After": str(verdict.retry_after)})


def enforce(context: AppContext, key: str, limit: int, scope: str) -> None:
    refuse_if_limited(hit_limit(context, key, limit, scope))


def limit_by_ip(request: Request, context: Context) -> None:
    enforce(context, f"ip:{client_ip(request)}", context.settings.rate_limit_ip_per_minute, "ip")


IpLimited = Depends(limit_by_ip)
