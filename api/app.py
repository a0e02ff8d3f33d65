"""The FastAPI application: answer service loaded once, routes, channels, protection."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from api.conversation import Conversations
from api.deps import AppContext
from api.metrics import Metrics
from api.middleware import BodyLimitMiddleware, MetricsMiddleware, SecurityHeadersMiddleware
from api.ratelimit import RateLimiter, make_rate_limiter
from api.routes import ask, feedback, health, pages, procedures, search
from api.settings import ApiSettings, get_api_settings
from api.store import ConversationStore
from knowledge.service import AnswerService

log = logging.getLogger("api")

DESCRIPTION = (
    "Trợ lý thủ tục hành chính Hà Nội: hỏi đáp về hồ sơ, lệ phí, thời hạn, nơi nộp và cách làm trực tuyến, "
    "có trích dẫn nguồn. Widget: /widget/demo · Bảng tra cứu cho tổng đài viên: /console"
)


def build_context(
    settings: ApiSettings,
    service: AnswerService | None = None,
    store: ConversationStore | None = None,
    limiter: RateLimiter | None = None,
    metrics: Metrics | None = None,
) -> AppContext:
    service = service or AnswerService.from_settings(progress=False)
    store = store or ConversationStore(settings.resolved_database_url)
    limiter = limiter or make_rate_limiter(settings.redis_url)
    metrics = metrics or Metrics()
    metrics.procedures.set(len(service.searcher.procedures))
    conversations = Conversations(service, store, settings.max_question_chars)
    return AppContext(settings, service, store, conversations, limiter, metrics)


def create_app(
    settings: ApiSettings | None = None,
    service: AnswerService | None = None,
    store: ConversationStore | None = None,
    limiter: RateLimiter | None = None,
) -> FastAPI:
    """The app. ``service``/``store``/``limiter`` are built from settings at start-up unless given (tests)."""
    settings = settings or get_api_settings()
    # Created before start-up: the metrics middleware is wired when the app is built.
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        context = build_context(settings, service, store, limiter, metrics)
        app.state.context = context
        for start in app.state.channel_starters:
            await start(context)
        log.info("ready: %d procedures", len(context.service.searcher.procedures))
        try:
            yield
        finally:
            for stop in app.state.channel_stoppers:
                await stop(context)
            if store is None:
                context.store.close()

    app = FastAPI(
        title="Trợ lý thủ tục hành chính Hà Nội",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.channel_starters = []
    app.state.channel_stoppers = []
    for router in (ask.router, search.router, procedures.router, feedback.router, health.router, pages.router):
        app.include_router(router)
    _mount_channels(app, settings)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        # The default handler echoes the input back; a question may hold personal numbers.
        problems = [
            {"loc": list(item.get("loc", ())), "msg": item.get("msg", ""), "type": item.get("type", "")}
            for item in error.errors()
        ]
        return JSONResponse({"detail": problems}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=error)
        return JSONResponse({"detail": "Hệ thống đang gặp sự cố, vui lòng thử lại sau."}, status_code=500)

    app.add_middleware(SecurityHeadersMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Authorization"],
        )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


def _mount_channels(app: FastAPI, settings: ApiSettings) -> None:
    """Each chat channel is mounted only when its secrets are configured."""
    if settings.telegram_enabled:
        from api.channels import telegram

        telegram.mount(app, settings)
    if settings.zalo_enabled:
        from api.channels import zalo

        zalo.mount(app, settings)
