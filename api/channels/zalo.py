"""Zalo Official Account channel: the webhook Zalo calls for each event, answered through the OA API.

Zalo signs every event with the header ``X-ZEvent-Signature: mac=<hex>`` where
``mac = sha256(app_id + raw body + timestamp + OA secret key)`` and ``timestamp`` is the body's own
field (milliseconds). Sources: Zalo's OA webhook documentation (developers.zalo.me, "Xác thực
webhook"), restated at https://hainh.me/zalo-api-php-webhook-callback-official-account.html; the
same check in chatwoot/chatwoot app/jobs/webhooks/zalo_events_job.rb. The key is the OA secret key,
not the app secret.

A user message is stored durably (``claim_update``, which also drops Zalo's re-deliveries across
workers) before the 200; the answer is computed and sent after it, in a task, and the update is
marked handled once the reply is out.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.channels.zalo_client import Tokens, TokenStore, ZaloApiError, ZaloClient, ZaloUnavailable
from api.deps import RATE_LIMITED, AppContext, limit_user
from api.settings import ApiSettings
from nlu.pii import mask_pii

log = logging.getLogger("api.zalo")

CHANNEL = "zalo"
REPLAY_WINDOW_SECONDS = 600
SHUTDOWN_GRACE_SECONDS = 30
NON_TEXT_REPLY = (
    "Xin lỗi, hiện mình chỉ đọc được tin nhắn chữ. "
    "Bạn hãy gõ câu hỏi về thủ tục hành chính, ví dụ: “đăng ký khai sinh cần giấy tờ gì?”."
)
BAD_JSON = "Nội dung không phải JSON hợp lệ."
BAD_SIGNATURE = "Chữ ký sự kiện không hợp lệ."
STALE_EVENT = "Sự kiện đã quá hạn."

router = APIRouter(tags=["kênh chat"])


def masked_user(user_id: str) -> str:
    """Enough of a Zalo user id to follow one user through the logs, not to identify them."""
    return f"…{user_id[-4:]}" if len(user_id) > 4 else "…"


class ZaloChannel:
    """The channel for one app: signature checks, the OA client (built at start-up), replies in flight."""

    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self.app_id = settings.zalo_app_id or ""
        self.oa_secret_key = settings.zalo_oa_secret_key.get_secret_value() if settings.zalo_oa_secret_key else ""
        # Replaceable before start-up (tests): Zalo's HTTP transport, the clock, the back-off sleep.
        self.transport: httpx.AsyncBaseTransport | None = None
        self.clock: Callable[[], float] = time.time
        self.sleep: Callable[[float], Awaitable[object]] = asyncio.sleep
        self.client: ZaloClient | None = None
        self._http: httpx.AsyncClient | None = None
        self._pending: set[asyncio.Task] = set()

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

    async def stop(self, _context: AppContext) -> None:
        try:  # let replies in flight finish, but do not hold a shutdown for a Zalo that hangs
            await asyncio.wait_for(self.flush(), timeout=SHUTDOWN_GRACE_SECONDS)
        except TimeoutError:
            log.warning("zalo: %d replies still in flight at shutdown", len(self._pending))
        if self._http is not None:
            await self._http.aclose()

    def spawn(self, work: Coroutine[object, object, None]) -> None:
        task = asyncio.create_task(work)
        self._pending.add(task)  # keep a reference: the loop holds tasks only weakly
        task.add_done_callback(self._pending.discard)

    async def flush(self) -> None:
        """Wait until every reply in flight is sent (or has failed): at shutdown, and in tests."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def answer(self, context: AppContext, user_id: str, msg_id: str, text: str | None) -> None:
        """Reply to one stored message; mark it handled once the reply is sent."""
        outcome = "replied"
        try:
            reply = await self._reply_text(context, user_id, text)
            await self.client.send_text(user_id, reply)
        except (ZaloApiError, ZaloUnavailable) as error:
            log.error("zalo reply to user %s failed: %s", masked_user(user_id), mask_pii(str(error)))
            outcome = "failed"
        except Exception:
            log.exception("zalo reply to user %s failed", masked_user(user_id))
            outcome = "failed"
        else:
            await run_in_threadpool(context.store.mark_update_handled, CHANNEL, msg_id)
        context.metrics.channel_updates.labels(CHANNEL, outcome).inc()

    async def _reply_text(self, context: AppContext, user_id: str, text: str | None) -> str:
        if text is None:
            return NON_TEXT_REPLY
        verdict = await run_in_threadpool(limit_user, context, CHANNEL, user_id)
        if not verdict.allowed:
            return RATE_LIMITED
        chat = await run_in_threadpool(context.conversations.converse, CHANNEL, user_id, text)
        context.metrics.decisions.labels(CHANNEL, chat.answer.decision).inc()
        return chat.text


def _user_message(payload: dict) -> tuple[str, str, str | None] | None:
    """(sender id, message id, text or None) of a message a user sent the OA one-to-one; None otherwise."""
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
    return user_id, msg_id, str(text) if text is not None else None


@router.post("/channels/zalo/webhook", include_in_schema=False)
async def webhook(request: Request) -> JSONResponse:
    """One Zalo event: verified, stored and acknowledged; the reply follows the 200."""
    channel: ZaloChannel = request.app.state.zalo
    context: AppContext = request.app.state.context
    counted = context.metrics.channel_updates
    raw = await request.body()
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        counted.labels(CHANNEL, "invalid").inc()
        return JSONResponse({"detail": BAD_JSON}, status_code=400)
    if not channel.signature_ok(raw, payload, request.headers.get("X-ZEvent-Signature")):
        counted.labels(CHANNEL, "forged").inc()
        return JSONResponse({"detail": BAD_SIGNATURE}, status_code=401)
    if not channel.is_fresh(payload):
        counted.labels(CHANNEL, "stale").inc()
        return JSONResponse({"detail": STALE_EVENT}, status_code=401)
    message = _user_message(payload)
    if message is None:  # follows, read receipts, the OA's own messages: nothing to answer
        counted.labels(CHANNEL, "ignored").inc()
        return JSONResponse({"ok": True})
    user_id, msg_id, text = message
    if not await run_in_threadpool(context.store.claim_update, CHANNEL, msg_id, payload, user_id):
        counted.labels(CHANNEL, "duplicate").inc()
        return JSONResponse({"ok": True})
    counted.labels(CHANNEL, "accepted").inc()
    channel.spawn(channel.answer(context, user_id, msg_id, text))
    return JSONResponse({"ok": True})


def mount(app: FastAPI, settings: ApiSettings) -> None:
    """Add the webhook; the OA client starts and stops with the app."""
    channel = ZaloChannel(settings)
    app.state.zalo = channel
    app.include_router(router)
    app.state.channel_starters.append(channel.start)
    app.state.channel_stoppers.append(channel.stop)
