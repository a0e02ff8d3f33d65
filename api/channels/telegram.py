"""Telegram channel: python-telegram-bot in webhook mode inside our ASGI app.

Each update is stored durably before the 200 (Telegram never resends after a 200) and processed
after it; the shared store, not this process, tells a repeat from a new update, so several workers
can sit behind one webhook. Updates stored but never handled (the process stopped between the 200
and the reply) are replayed when the bot starts.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Coroutine

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import SecretStr
from starlette.concurrency import run_in_threadpool
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application
from telegram.request import BaseRequest

from api.channels.telegram_bot import WEBHOOK_PATH, build_application, quiet_httpx
from api.channels.telegram_handlers import APP_KEY, CHANNEL, UNDELIVERED_KEY
from api.deps import AppContext
from api.settings import ApiSettings

log = logging.getLogger("api.telegram")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SHUTDOWN_GRACE_SECONDS = 10
# An update younger than this may still be in the hands of another worker (a rolling restart).
REPLAY_AFTER_SECONDS = 30
BAD_SECRET = "Sai mã bí mật của webhook."
BAD_JSON = "Nội dung không phải JSON hợp lệ."
NOT_AN_UPDATE = "Nội dung không phải một update của Telegram."
NOT_READY = "Kênh Telegram chưa sẵn sàng, vui lòng gửi lại sau."


def _secret_matches(given: str | None, secret: SecretStr | None) -> bool:
    if not given or secret is None:
        return False
    return hmac.compare_digest(given.encode(), secret.get_secret_value().encode())  # constant time


class TelegramChannel:
    """The bot of one app: its start and stop, the webhook, and the updates being processed."""

    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self.request: BaseRequest | None = None  # replaceable before start-up (tests: a fake Bot API)
        self.replay_after_seconds: float = REPLAY_AFTER_SECONDS
        self.application: Application | None = None
        self._starting: asyncio.Lock | None = None
        self._pending: set[asyncio.Task] = set()

    async def start(self, context: AppContext) -> None:
        """Build the bot; a Telegram outage must not keep the rest of the app from starting."""
        self.application = build_application(self.settings, self.request)
        self.application.bot_data.update({APP_KEY: context, UNDELIVERED_KEY: set()})
        context.extras[CHANNEL] = self.application
        self._starting = asyncio.Lock()
        await self.ensure_running()

    async def ensure_running(self) -> bool:
        """Initialise and start the bot once, then replay what a previous run left; False while Telegram is out."""
        application = self.application
        if application.running:
            return True
        async with self._starting:
            if application.running:
                return True
            try:
                await application.initialize()
                await application.start()
            except TelegramError:
                log.exception("telegram bot not started; the webhook answers 503 until it is")
                return False
            context: AppContext = application.bot_data[APP_KEY]
            try:
                # read before any new update is claimed by this process, so none is processed twice
                left = await run_in_threadpool(context.store.unhandled_updates, CHANNEL, self.replay_after_seconds)
            except ValueError:
                log.exception("stored telegram updates unreadable; none replayed")
                left = []
            if left:
                log.info("replaying %d telegram updates stored but never answered", len(left))
                self.spawn(self._replay(context, left))
        return True

    async def stop(self, _context: AppContext) -> None:
        """Let updates in progress finish (briefly), then stop the bot; cut-off ones are replayed next time."""
        try:
            await asyncio.wait_for(self.flush(), SHUTDOWN_GRACE_SECONDS)
        except TimeoutError:
            log.warning("stopping with %d telegram updates unanswered", len(self._pending))
        if self.application is not None:
            if self.application.running:
                await self.application.stop()
            await self.application.shutdown()

    def spawn(self, work: Coroutine[object, object, None]) -> None:
        task = asyncio.create_task(work)
        self._pending.add(task)  # keep a reference: the loop holds tasks only weakly
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("telegram update processing failed", exc_info=task.exception())

    async def flush(self) -> None:
        """Wait until every update taken so far is processed: at shutdown, and in tests."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    def parse(self, payload: object) -> Update | None:
        """The update in a webhook body; None for anything else."""
        if not isinstance(payload, dict) or type(payload.get("update_id")) is not int:
            return None
        try:
            return Update.de_json(payload, self.application.bot)
        except (AttributeError, KeyError, TypeError, ValueError):
            return None

    async def process(self, context: AppContext, update: Update) -> None:
        """Answer one stored update, then mark it handled unless the reply could not reach Telegram."""
        await self.application.process_update(update)  # handler failures go to the error handler
        undelivered: set[int] = self.application.bot_data[UNDELIVERED_KEY]
        if update.update_id in undelivered:
            undelivered.discard(update.update_id)
            return
        await run_in_threadpool(context.store.mark_update_handled, CHANNEL, str(update.update_id))

    async def _replay(self, context: AppContext, left: list[tuple[str, dict]]) -> None:
        for update_id, payload in left:
            if not await run_in_threadpool(context.store.claim_replay, CHANNEL, update_id):
                continue  # another worker starting at the same time replays it
            update = self.parse(payload)
            if update is None:  # cannot be answered: do not try again at every start
                log.warning("stored telegram update %s is not an update; dropped", update_id)
                await run_in_threadpool(context.store.mark_update_handled, CHANNEL, update_id)
                continue
            context.metrics.channel_updates.labels(CHANNEL, "replayed").inc()
            await self.process(context, update)

    async def webhook(self, request: Request) -> Response:
        """Telegram's POST: secret checked, update stored, 200 answered; the reply follows the 200."""
        context: AppContext = request.app.state.context
        counted = context.metrics.channel_updates
        if not _secret_matches(request.headers.get(SECRET_HEADER), self.settings.telegram_webhook_secret):
            counted.labels(CHANNEL, "forged").inc()
            return JSONResponse({"detail": BAD_SECRET}, status_code=403)
        try:
            payload = await request.json()
        except ValueError:
            counted.labels(CHANNEL, "invalid").inc()
            return JSONResponse({"detail": BAD_JSON}, status_code=400)
        update = self.parse(payload)
        if update is None:
            counted.labels(CHANNEL, "invalid").inc()
            return JSONResponse({"detail": NOT_AN_UPDATE}, status_code=400)
        if not await self.ensure_running():  # Telegram resends what was not answered 2xx
            counted.labels(CHANNEL, "unavailable").inc()
            return JSONResponse({"detail": NOT_READY}, status_code=503, headers={"Retry-After": "30"})
        sender = update.effective_chat or update.effective_user  # the chat is the session (telegram_handlers)
        user_id = str(sender.id) if sender is not None else None
        if not await run_in_threadpool(context.store.claim_update, CHANNEL, str(update.update_id), payload, user_id):
            counted.labels(CHANNEL, "duplicate").inc()
            return Response(status_code=200)
        counted.labels(CHANNEL, "accepted").inc()
        self.spawn(self.process(context, update))
        return Response(status_code=200)


def mount(app: FastAPI, settings: ApiSettings) -> None:
    """Add the webhook route; the bot starts and stops with the app."""
    quiet_httpx()
    channel = TelegramChannel(settings)
    app.state.telegram = channel
    app.add_api_route(WEBHOOK_PATH, channel.webhook, methods=["POST"], include_in_schema=False)
    app.state.channel_starters.append(channel.start)
    app.state.channel_stoppers.append(channel.stop)
