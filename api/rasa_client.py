"""The Rasa server's REST channel, seen from the API: send a message, get the bot's messages.

Any failure (refused, timeout, bad status, bad body) returns None, and the caller answers directly
with the answer service (degraded mode). After a failure Rasa is left alone for a short pause so
that a stopped server does not cost every message a connection attempt or a timeout.
"""

from __future__ import annotations

import logging
import time

import httpx

log = logging.getLogger("api.rasa")

RETRY_AFTER_SECONDS = 10.0


class RasaClient:
    def __init__(
        self,
        url: str,
        timeout: float = 5.0,
        retry_after: float = RETRY_AFTER_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.retry_after = retry_after
        self._client = httpx.Client(timeout=timeout, transport=transport)
        self._down_until = 0.0

    def close(self) -> None:
        self._client.close()

    @property
    def paused(self) -> bool:
        return time.monotonic() < self._down_until

    def send(self, sender: str, message: str) -> list[dict] | None:
        """The bot's messages in reply to ``message`` from ``sender``; None when Rasa did not answer."""
        if self.paused:
            return None
        try:
            response = self._client.post(
                f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": message}
            )
            response.raise_for_status()
            messages = response.json()
        except (httpx.HTTPError, ValueError) as error:
            self._failed(error)
            return None
        if not isinstance(messages, list) or not all(isinstance(item, dict) for item in messages):
            self._failed(ValueError("unexpected body"))
            return None
        return messages

    def state(self) -> str:
        """'ok' when the server answers now, else 'unreachable' (readiness reports it, stays ready)."""
        try:
            self._client.get(f"{self.url}/", timeout=1.0).raise_for_status()
        except httpx.HTTPError:
            return "unreachable"
        self._down_until = 0.0
        return "ok"

    def _failed(self, error: Exception) -> None:
        log.warning("Rasa did not answer (%s): degraded mode for %.0f s", type(error).__name__, self.retry_after)
        self._down_until = time.monotonic() + self.retry_after
