"""Zalo Official Account channel: the webhook Zalo calls for each event, answered through the OA API.

Zalo signs every event with the header ``X-ZEvent-Signature: mac=<hex>`` where
``mac = sha256(app_id + raw body + timestamp + OA secret key)`` and ``timestamp`` is the body's own
field (milliseconds). Sources: Zalo's OA webhook documentation (developers.zalo.me, "Xác thực
webhook"), restated at https://hainh.me/zalo-api-php-webhook-callback-official-account.html; the
same check in chatwoot/chatwoot app/jobs/webhooks/zalo_events_job.rb. The key is the OA secret key,
not the app secret.

Storing before the 200, dropping Zalo's re-deliveries across workers and answering after the 200
are ``WebhookChannel``'s; this adapter checks the signature and the event's age, picks the user's
message out of the event, and answers it through the OA client (zalo_client).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.channels import base
from api.channels.base import Incoming, Rejected, WebhookChannel
from api.channels.zalo_client import ZaloApiError, ZaloClient, ZaloUnavailable
from api.channels.zalo_tokens import Tokens, TokenStore
from api.deps import RATE_LIMITED, AppContext, limit_user
from api.settings import ApiSettings
from nlu.pii import mask_pii

CHANNEL = "zalo"
WEBHOOK_PATH = "/channels/zalo/webhook"
REPLAY_WINDOW_SECONDS = 600
SHUTDOWN_GRACE_SECONDS = 30
NON_TEXT_REPLY = (
    "Xin lỗi, hiện mình chỉ đọc được tin nhắn chữ. "
    "Bạn hãy gõ câu hỏi về thủ tục hành chính, ví dụ: “đăng ký khai sinh cần giấy tờ gì?”."
)
BAD_JSON = "Nội dung không phải JSON hợp lệ."
BAD_SIGNATURE = "Chữ ký sự kiện không hợp lệ."
STALE_EVENT = "Sự kiện đã quá hạn."


def masked_user(user_id: str) -> str:
    """Enough of a Zalo user id to follow one user through the logs, not to identify them."""
    return f"…{user_id[-4:]}" if len(user_id) > 4 else "…"


class ZaloChannel(WebhookChannel[str | None]):
    """The channel for one app: signature checks, the OA client (built at start-up); content: the text or None."""

    name = CHANNEL
    shutdown_grace_seconds = SHUTDOWN_GRACE_SECONDS

    def __init__(self, settings: ApiSettings) -> None:
        super().__init__(settings)
        self.app_id = settings.zalo_app_id or ""
        self.oa_secret_key = settings.zalo_oa_secret_key.get_secret_value() if settings.zalo_oa_secret_key else ""
        # Replaceable before start-up (tests): Zalo's HTTP transport, the clock, the back-off sleep.
        self.transport: httpx.AsyncBaseTransport | None = None
        self.clock: Callable[[], float] = time.time
        self.sleep: Callable[[float], Awaitable[object]] = asyncio.sleep
        self.client: ZaloClient | None = None
        self._http: httpx.AsyncClient | None = None

    def signature_ok(self, raw: bytes, payload: dict, header: str | None) -> bool:
        timestamp = payload.get("timestamp")
        if not header or not self.oa_secret_key or not isinstance(timestamp, str | int):
            return False
        signed = self.app_id.encode() + raw + str(timestamp).encode() + self.oa_secret_key.encode()
        expected = "mac=" + hashlib.sha256(signed).hexdigest()
        given = header.strip() if header.strip().startswith("mac=") else "mac=" + header.strip()
        return hmac.compare_digest(given, expected)

    def is_fresh(self, payload: dict) -> bool:
        """Within the replay window; a signed event recorded once cannot be sent again days later."""
        try:
            stamp = float(payload["timestamp"])
        except (KeyError, TypeError, ValueError):
            return False
        seconds = stamp / 1000 if stamp > 1e11 else stamp  # Zalo sends milliseconds
        return abs(self.clock() - seconds) <= REPLAY_WINDOW_SECONDS

    async def start(self, context: AppContext) -> None:
        settings = self.settings
        self._http = httpx.AsyncClient(transport=self.transport, timeout=httpx.Timeout(10.0))
        seed = Tokens(
            settings.zalo_access_token.get_secret_value() if settings.zalo_access_token else "",
            settings.zalo_refresh_token.get_secret_value() if settings.zalo_refresh_token else "",
        )
        secret = settings.zalo_app_secret.get_secret_value() if settings.zalo_app_secret else None
        tokens = TokenStore(context.store.engine, seed, clock=self.clock)
        self.client = ZaloClient(self._http, tokens, self.app_id, secret, clock=self.clock, sleep=self.sleep)
        await self.client.start()

    async def stop(self, context: AppContext) -> None:
        await self.drain()
        if self._http is not None:
            await self._http.aclose()

    def acknowledge(self) -> Response:
        return JSONResponse({"ok": True})

    async def receive(self, request: Request) -> Incoming[str | None] | None:
        """One Zalo event: a JSON object, signed, recent; None for events that are not a user's message."""
        raw = await request.body()
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise Rejected("invalid", 400, BAD_JSON)
        if not self.signature_ok(raw, payload, request.headers.get("X-ZEvent-Signature")):
            raise Rejected("forged", 401, BAD_SIGNATURE)
        if not self.is_fresh(payload):
            raise Rejected("stale", 401, STALE_EVENT)
        return _user_message(payload)  # follows, read receipts, the OA's own messages: nothing to answer

    async def answer(self, context: AppContext, incoming: Incoming[str | None]) -> bool:
        """Reply to one stored message; True once the reply is sent."""
        user_id = incoming.user_id
        try:
            reply = await self._reply_text(context, user_id, incoming.content)
            await self.client.send_text(user_id, reply)
        except (ZaloApiError, ZaloUnavailable) as error:
            self.log.error("zalo reply to user %s failed: %s", masked_user(user_id), mask_pii(str(error)))
        except Exception:
            self.log.exception("zalo reply to user %s failed", masked_user(user_id))
        else:
            self.count(context, "replied")
            return True
        self.count(context, "failed")
        return False

    async def _reply_text(self, context: AppContext, user_id: str, text: str | None) -> str:
        if text is None:
            return NON_TEXT_REPLY
        verdict = await run_in_threadpool(limit_user, context, CHANNEL, user_id)
        if not verdict.allowed:
            return RATE_LIMITED
        chat = await run_in_threadpool(context.conversations.converse, CHANNEL, user_id, text)
        context.metrics.decisions.labels(CHANNEL, chat.answer.decision).inc()
        return chat.text


def _user_message(payload: dict) -> Incoming[str | None] | None:
    """A message a user sent the OA one-to-one (its text, None when not text); None for any other event."""
    event = str(payload.get("event_name") or "")
    if not event.startswith("user_send_") or "group" in event:
        return None
    sender, message = payload.get("sender"), payload.get("message")
    if not isinstance(sender, dict) or not isinstance(message, dict):
        return None
    user_id, msg_id = str(sender.get("id") or ""), str(message.get("msg_id") or "")
    if not user_id or not msg_id:
        return None
    text = message.get("text") if event == "user_send_text" else None
    return Incoming(msg_id, payload, user_id, str(text) if text is not None else None)


def mount(app: FastAPI, settings: ApiSettings) -> None:
    """Add the webhook; the OA client starts and stops with the app."""
    base.mount(app, ZaloChannel(settings), WEBHOOK_PATH)
