"""Telegram channel: python-telegram-bot in webhook mode inside our ASGI app.

The webhook lifecycle (stored before the 200, repeats told apart by the shared store, answered after
the 200, replay at start-up) is ``WebhookChannel``'s; this adapter checks Telegram's secret header,
reads the update, and runs the bot's handlers (telegram_handlers) on it.
"""

from __future__ import annotations

import asyncio
import hmac

from fastapi import FastAPI, Request
from pydantic import SecretStr
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application
from telegram.request import BaseRequest

from api.channels import base
from api.channels.base import Incoming, Rejected, WebhookChannel
from api.channels.telegram_bot import WEBHOOK_PATH, build_application, quiet_httpx
from api.channels.telegram_handlers import APP_KEY, CHANNEL, UNDELIVERED_KEY
from api.deps import AppContext
from api.settings import ApiSettings

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


class TelegramChannel(WebhookChannel[Update]):
    """The bot of one app: its start and stop, and Telegram's updates read and answered."""

    name = CHANNEL
    shutdown_grace_seconds = SHUTDOWN_GRACE_SECONDS

    def __init__(self, settings: ApiSettings) -> None:
        super().__init__(settings)
        self.request: BaseRequest | None = None  # replaceable before start-up (tests: a fake Bot API)
        self.replay_after_seconds: float = REPLAY_AFTER_SECONDS
        self.application: Application | None = None
        self._starting: asyncio.Lock | None = None

    async def start(self, context: AppContext) -> None:
        """Build the bot; a Telegram outage must not keep the rest of the app from starting."""
        self.application = build_application(self.settings, self.request)
        self.application.bot_data.update({APP_KEY: context, UNDELIVERED_KEY: set()})
        context.telegram = self.application
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
                self.log.exception("telegram bot not started; the webhook answers 503 until it is")
                return False
            # inside the lock: read before any new update is claimed by this process, so none is processed twice
            await self.replay_unhandled(application.bot_data[APP_KEY], self.replay_after_seconds)
        return True

    async def stop(self, context: AppContext) -> None:
        """Let updates in progress finish (briefly), then stop the bot; cut-off ones are replayed next time."""
        await self.drain()
        if self.application is not None:
            if self.application.running:
                await self.application.stop()
            await self.application.shutdown()

    def parse(self, payload: object) -> Update | None:
        """The update in a webhook body; None for anything else."""
        if not isinstance(payload, dict) or type(payload.get("update_id")) is not int:
            return None
        try:
            return Update.de_json(payload, self.application.bot)
        except (AttributeError, KeyError, TypeError, ValueError):
            return None

    def restore(self, update_id: str, payload: dict) -> Incoming[Update] | None:
        update = self.parse(payload)
        return None if update is None else Incoming(update_id, payload, _user_id(update), update)

    async def receive(self, request: Request) -> Incoming[Update]:
        """Telegram's POST: the secret header checked, then the update read; 503 while the bot cannot start."""
        if not _secret_matches(request.headers.get(SECRET_HEADER), self.settings.telegram_webhook_secret):
            raise Rejected("forged", 403, BAD_SECRET)
        try:
            payload = await request.json()
        except ValueError:
            raise Rejected("invalid", 400, BAD_JSON) from None
        update = self.parse(payload)
        if update is None:
            raise Rejected("invalid", 400, NOT_AN_UPDATE)
        if not await self.ensure_running():  # Telegram resends what was not answered 2xx
            raise Rejected("unavailable", 503, NOT_READY, {"Retry-After": "30"})
        return Incoming(str(update.update_id), payload, _user_id(update), update)

    async def answer(self, context: AppContext, incoming: Incoming[Update]) -> bool:
        """Run the handlers on the update; False when their reply could not reach Telegram (replayed later)."""
        await self.application.process_update(incoming.content)  # handler failures go to the error handler
        undelivered: set[int] = self.application.bot_data[UNDELIVERED_KEY]
        if incoming.content.update_id in undelivered:
            undelivered.discard(incoming.content.update_id)
            return False
        return True


def _user_id(update: Update) -> str | None:
    sender = update.effective_chat or update.effective_user  # the chat is the session (telegram_handlers)
    return str(sender.id) if sender is not None else None


def mount(app: FastAPI, settings: ApiSettings) -> None:
    """Add the webhook route; the bot starts and stops with the app."""
    quiet_httpx()
    base.mount(app, TelegramChannel(settings), WEBHOOK_PATH)
