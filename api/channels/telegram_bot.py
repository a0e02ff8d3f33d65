"""Building the Telegram bot, registering its webhook, and long polling for local trials."""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import Bot, Update
from telegram.ext import Application
from telegram.request import BaseRequest

from api.channels.telegram_handlers import APP_KEY, add_handlers
from api.deps import AppContext
from api.settings import ApiSettings

WEBHOOK_PATH = "/channels/telegram/webhook"
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]


class TelegramNotConfigured(RuntimeError):
    """A command needs a setting that is missing (token, webhook secret, public address)."""


def _token(settings: ApiSettings) -> str:
    if not settings.telegram_bot_token:
        raise TelegramNotConfigured("ASSISTANT_TELEGRAM_BOT_TOKEN is not set")
    return settings.telegram_bot_token.get_secret_value()


def quiet_httpx() -> None:
    """httpx logs every request URL at INFO, and the Bot API's URLs carry the bot token."""
    logging.getLogger("httpx").setLevel(logging.WARNING)


def build_application(settings: ApiSettings, request: BaseRequest | None = None, webhook: bool = True) -> Application:
    """The bot with its handlers; ``request`` replaces the HTTP client to the Bot API (tests: a fake)."""
    builder = Application.builder().token(_token(settings))
    if request is not None:
        builder = builder.request(request)
    if webhook:
        builder = builder.updater(None)  # updates arrive through our own route, not PTB's web server
    application = builder.build()
    add_handlers(application)
    return application


async def register_webhook(settings: ApiSettings, request: BaseRequest | None = None) -> str:
    """Point Telegram at this service (once per deployment or change of address); returns the webhook URL."""
    if not settings.public_base_url.startswith("https://"):
        raise TelegramNotConfigured("ASSISTANT_PUBLIC_BASE_URL must be the service's https:// address")
    if not settings.telegram_webhook_secret:
        raise TelegramNotConfigured("ASSISTANT_TELEGRAM_WEBHOOK_SECRET is not set")
    url = settings.public_base_url.rstrip("/") + WEBHOOK_PATH
    async with Bot(_token(settings), request=request) as bot:
        await bot.set_webhook(
            url,
            secret_token=settings.telegram_webhook_secret.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )
    return url


def run_polling(settings: ApiSettings, make_context: Callable[[ApiSettings], AppContext]) -> None:
    """Local trials without a public address: long polling (PTB deletes the webhook before polling).

    ``make_context`` builds what the handlers answer with (``api.app.build_context``, given by
    ``python -m api``): the app imports this module, so this module does not import the app. It is
    called only once the bot is built, so a missing token is reported before the knowledge base loads.
    """
    quiet_httpx()
    application = build_application(settings, webhook=False)
    context = make_context(settings)
    application.bot_data[APP_KEY] = context
    context.telegram = application
    try:
        application.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)
    finally:
        context.store.close()
