"""The FastAPI application: answer service loaded once, routes, channels, protection."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.conversation import Conversations
from api.deps import AppContext
from api.metrics import Metrics
from api.middleware import BodyLimitMiddleware, MetricsMiddleware, SecurityHeadersMiddleware
from api.offline import OfflineSwitch
from api.privacy import apply_retention
from api.rasa_client import RasaClient
from api.ratelimit import RateLimiter, make_rate_limiter
from api.reload import KnowledgeReloader
from api.routes import admin, ask, feedback, health, pages, privacy, procedures, rasa_actions, search, staff
from api.settings import ApiSettings, get_api_settings
from api.store import ConversationStore
from knowledge.service import AnswerService
from knowledge.settings import KnowledgeSettings
from knowledge.settings import get_settings as get_knowledge_settings

log = logging.getLogger("api")

DESCRIPTION = (
    "Trợ lý thủ tục hành chính Hà Nội: hỏi đáp về hồ sơ, lệ phí, thời hạn, nơi nộp và cách làm trực tuyến, "
    "có trích dẫn nguồn. Widget: /widget/demo · Bảng tra cứu cho tổng đài viên: /console"
)

# Framework messages users may see, in the users' language.
FRAMEWORK_DETAILS = {
    "There was an error parsing the body": "Nội dung gửi lên không đọc được (cần JSON, mã hoá UTF-8).",
    "Not Found": "Không tìm thấy địa chỉ này.",
    "Method Not Allowed": "Phương thức này không được hỗ trợ ở địa chỉ này.",
}


def build_context(
    settings: ApiSettings,
    service: AnswerService | None = None,
    store: ConversationStore | None = None,
    limiter: RateLimiter | None = None,
    metrics: Metrics | None = None,
    knowledge: KnowledgeSettings | None = None,
) -> AppContext:
    service = service or AnswerService.from_settings(knowledge, progress=False)
    store = store or ConversationStore(settings.resolved_database_url)
    limiter = limiter or make_rate_limiter(settings.redis_url)
    metrics = metrics or Metrics()
    metrics.set_knowledge_build(service.build_id, len(service.searcher.procedures))
    rasa = RasaClient(settings.rasa_url, settings.rasa_timeout_seconds) if settings.rasa_url else None
    switch = OfflineSwitch(store.engine, settings.offline_message)
    conversations = Conversations(service, store, settings.max_question_chars, rasa, switch, metrics)
    return AppContext(settings, service, store, conversations, limiter, metrics)


def create_app(
    settings: ApiSettings | None = None,
    service: AnswerService | None = None,
    store: ConversationStore | None = None,
    limiter: RateLimiter | None = None,
    knowledge: KnowledgeSettings | None = None,
) -> FastAPI:
    """The app. ``service``/``store``/``limiter`` are built from settings at start-up unless given (tests).

    ``knowledge`` says where the knowledge base lives; a refreshed build there is loaded without
    a restart (not when a ``service`` is given: an in-memory corpus has no build to follow).
    """
    settings = settings or get_api_settings()
    knowledge = knowledge or get_knowledge_settings()
    # Created before start-up: the metrics middleware is wired when the app is built.
    metrics = Metrics()
    reloader = KnowledgeReloader(knowledge, settings.reload_interval_seconds if service is None else 0)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        context = build_context(settings, service, store, limiter, metrics, knowledge)
        app.state.context = context
        await reloader.start(context)
        for start in app.state.channel_starters:
            await start(context)
        log.info("ready: %d procedures", len(context.service.searcher.procedures))
        retention = asyncio.create_task(_apply_retention(context)) if settings.retention_days > 0 else None
        try:
            yield
        finally:
            if retention is not None:
                retention.cancel()
            for stop in app.state.channel_stoppers:
                await stop(context)
            await reloader.stop(context)
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
    app.state.reloader = reloader
    for router in (
        ask.router,
        search.router,
        procedures.router,
        feedback.router,
        health.router,
        pages.router,
        rasa_actions.router,
        staff.router,
        admin.router,
        privacy.router,
    ):
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

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = FRAMEWORK_DETAILS.get(error.detail, error.detail) if isinstance(error.detail, str) else error.detail
        return JSONResponse({"detail": detail}, status_code=error.status_code, headers=error.headers)

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
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        path_limits={"/rasa/": settings.rasa_max_body_bytes},
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


async def _apply_retention(context: AppContext) -> None:
    """Delete conversations older than the retention period (ours and Rasa's) now, then once a day."""
    while True:
        try:
            await run_in_threadpool(
                apply_retention, context.store, context.tracker_store, context.settings.retention_days
            )
        except Exception:  # a failed purge is retried tomorrow, the app keeps serving
            log.exception("retention: purge failed")
        await asyncio.sleep(24 * 3600)


def _mount_channels(app: FastAPI, settings: ApiSettings) -> None:
    """Each chat channel is mounted only when its secrets are configured."""
    if settings.telegram_enabled:
        from api.channels import telegram

        telegram.mount(app, settings)
    if settings.zalo_enabled:
        from api.channels import zalo

        zalo.mount(app, settings)
