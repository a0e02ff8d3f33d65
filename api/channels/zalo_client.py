"""Zalo Official Account API client: send text messages, keep the access token fresh, retry.

Endpoints and fields follow Zalo's OA API v3 and OAuth v4 (developers.zalo.me); the official Java
SDK shows the same calls (zaloplatform/zalo-java-sdk: src/test/java/v3/SendTextCSMessage.java,
src/test/java/GetAccessTokenByRefreshToken.java).

The token pair is kept in the shared database (zalo_tokens.py); a refresh is done once per process
at a time, and a worker whose refresh token was spent by another worker takes the pair it stored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import httpx
from starlette.concurrency import run_in_threadpool
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    wait_exponential,
)

from api.channels.zalo_tokens import Tokens, TokenStore

log = logging.getLogger("api.zalo")

MESSAGE_URL = "https://openapi.zalo.me/v3.0/oa/message/cs"
TOKEN_URL = "https://oauth.zaloapp.com/v4/oa/access_token"
TEXT_LIMIT = 2000  # characters per OA text message
# -216: "Access token is invalid" (OA API); -124: access token invalid or expired (OAuth, ZNS).
TOKEN_ERRORS = frozenset({-216, -124})


class ZaloApiError(RuntimeError):
    """The OA API or OAuth server refused a request; ``code`` is Zalo's error code (or the HTTP status)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Zalo error {code}: {message}")
        self.code = code


class ZaloUnavailable(RuntimeError):
    """Zalo did not answer usably after every retry (network errors, HTTP 5xx or 429)."""


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at a line break (else a space) so no word is split."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _api_error(response: httpx.Response) -> tuple[int, str]:
    """(code, message) of an OA API answer, (0, "") on success. Zalo reports errors in a 200's body."""
    if response.status_code == 401:
        return -216, "HTTP 401"
    if response.is_error:
        return response.status_code, f"HTTP {response.status_code}"
    try:
        data = response.json()
        return int(data.get("error") or 0), str(data.get("message") or "")
    except (ValueError, TypeError, AttributeError):
        return -1, "answer is not a JSON object"


class ZaloClient:
    """Sends OA messages with one shared ``httpx.AsyncClient``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        tokens: TokenStore,
        app_id: str,
        app_secret: str | None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        attempts: int = 4,
        backoff_seconds: float = 0.5,
    ) -> None:
        self.http = http
        self.store = tokens
        self.app_id = app_id
        self.app_secret = app_secret
        self.clock = clock
        self.sleep = sleep
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self._tokens: Tokens | None = None
        self._refreshing = asyncio.Lock()  # one refresh at a time in this process

    async def start(self) -> None:
        self._tokens = await run_in_threadpool(self.store.load)

    async def send_text(self, user_id: str, text: str) -> None:
        """Send ``text`` to ``user_id``, in several messages when it is longer than Zalo allows."""
        for piece in split_text(text):
            await self._send_one({"recipient": {"user_id": user_id}, "message": {"text": piece}})

    async def _send_one(self, body: dict) -> None:
        tokens = await self._usable_tokens()
        code, message = await self._post_message(tokens.access_token, body)
        if code in TOKEN_ERRORS:  # expired early or revoked: renew once and resend
            tokens = await self._refresh(stale_access_token=tokens.access_token)
            code, message = await self._post_message(tokens.access_token, body)
        if code:
            raise ZaloApiError(code, message)

    async def _post_message(self, access_token: str, body: dict) -> tuple[int, str]:
        return _api_error(await self._post(MESSAGE_URL, headers={"access_token": access_token}, json=body))

    async def _usable_tokens(self) -> Tokens:
        if self._tokens is None:
            await self.start()
        tokens = self._tokens
        if tokens.expiring(self.clock()):
            tokens = await self._refresh(stale_access_token=tokens.access_token)
        return tokens

    async def _refresh(self, stale_access_token: str) -> Tokens:
        """A valid pair: the stored one when someone refreshed already, else a new one from Zalo."""
        async with self._refreshing:
            stored = await run_in_threadpool(self.store.load)
            if stored.access_token != stale_access_token and not stored.expiring(self.clock()):
                self._tokens = stored
                return stored
            try:
                new = await self._request_tokens(stored.refresh_token)
            except ZaloApiError:
                latest = await run_in_threadpool(self.store.load)
                if latest.refresh_token == stored.refresh_token:
                    raise
                new = latest  # another worker used the refresh token first and stored its pair
            else:
                if not await run_in_threadpool(self.store.replace, stored.refresh_token, new):
                    new = await run_in_threadpool(self.store.load)
            self._tokens = new
            log.info("zalo access token refreshed")
            return new

    async def _request_tokens(self, refresh_token: str) -> Tokens:
        if not (self.app_secret and refresh_token):
            raise ZaloApiError(-124, "access token rejected and no app secret or refresh token to renew it")
        response = await self._post(
            TOKEN_URL,
            headers={"secret_key": self.app_secret},
            data={"refresh_token": refresh_token, "app_id": self.app_id, "grant_type": "refresh_token"},
        )
        try:
            data = response.json()
            access, refresh = data["access_token"], data["refresh_token"]
            expires_in = float(data.get("expires_in") or 0)  # Zalo sends it as a string of seconds
        except (ValueError, KeyError, TypeError):
            code, message = _api_error(response)
            raise ZaloApiError(code or -1, message or "no token in the answer") from None
        return Tokens(access, refresh, self.clock() + expires_in if expires_in > 0 else None)

    async def _post(self, url: str, **request: object) -> httpx.Response:
        """POST with retries on network errors, HTTP 5xx and 429 (exponential back-off); other answers return."""

        def log_retry(state: RetryCallState) -> None:
            delay = state.next_action.sleep
            log.warning("zalo %s: %s, retry %d in %.1f s", url, _problem(state), state.attempt_number, delay)

        def give_up(state: RetryCallState) -> httpx.Response:
            raise ZaloUnavailable(f"{url}: {_problem(state)} after {self.attempts} attempts")

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.backoff_seconds),  # 0.5 s, 1 s, 2 s... by default
            retry=retry_if_exception_type(httpx.TransportError) | retry_if_result(_transient),
            sleep=self.sleep,
            before_sleep=log_retry,
            retry_error_callback=give_up,
        )
        return await retrying(self.http.post, url, **request)


def _transient(response: httpx.Response) -> bool:
    """Worth another try: Zalo overloaded or failing (429, 5xx). Any other answer is Zalo's and is returned."""
    return response.status_code >= 500 or response.status_code == 429


def _problem(state: RetryCallState) -> str:
    """What went wrong with the last attempt, for the log and the error: the exception's type or the status."""
    outcome = state.outcome
    if outcome.failed:
        return type(outcome.exception()).__name__
    return f"HTTP {outcome.result().status_code}"
