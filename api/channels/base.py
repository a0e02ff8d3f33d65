"""The webhook lifecycle every chat channel shares; an adapter only reads its platform's requests and answers.

A platform call is verified by the adapter (``receive``), then stored durably in the shared store
before the 200 is sent: the platforms never resend after a 200, so an update acknowledged but not
stored would be lost. The store, not this process, tells a repeat from a new update, so several
workers can sit behind one webhook. The answer is computed and sent after the 200, in a task, and the
update is marked handled once its reply is out; an update stored but never answered (the process
stopped in between) can be replayed at the next start, each by exactly one worker.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import AppContext
from api.settings import ApiSettings

Content = TypeVar("Content")


class Rejected(Exception):
    """A webhook call refused before anything is stored: counted under ``outcome``, answered with ``status``."""

    def __init__(self, outcome: str, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.outcome = outcome
        self.status = status
        self.detail = detail
        self.headers = headers


@dataclass(frozen=True)
class Incoming(Generic[Content]):
    """One verified update: its id on the platform (the de-duplication key), the body as stored, the user."""

    update_id: str
    payload: dict
    user_id: str | None
    content: Content


class WebhookChannel(ABC, Generic[Content]):
    """Store before the 200, de-duplicate across workers, answer after it, replay what was never answered."""

    name: ClassVar[str]  # the channel in the store, the metrics and the conversations
    shutdown_grace_seconds: ClassVar[float]  # how long a shutdown waits for answers in flight

    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self.log = logging.getLogger(f"api.{self.name}")
        self._pending: set[asyncio.Task] = set()

    @abstractmethod
    async def receive(self, request: Request) -> Incoming[Content] | None:
        """The verified update in a webhook call; None when there is nothing to answer; ``Rejected`` if refused."""

    @abstractmethod
    async def answer(self, context: AppContext, incoming: Incoming[Content]) -> bool:
        """Reply to one stored update; True once the reply reached the platform (the update is then handled)."""

    def restore(self, update_id: str, payload: dict) -> Incoming[Content] | None:
        """A stored update read back for a replay; None for a body that cannot be answered."""
        raise NotImplementedError(f"the {self.name} channel does not replay stored updates")

    def acknowledge(self) -> Response:
        """What the platform gets for an update taken (or already taken): a 200."""
        return Response(status_code=200)

    def count(self, context: AppContext, outcome: str) -> None:
        context.metrics.channel_updates.labels(self.name, outcome).inc()

    async def webhook(self, request: Request) -> Response:
        """The platform's POST: verified, stored, acknowledged; the answer follows the 200."""
        context: AppContext = request.app.state.context
        try:
            incoming = await self.receive(request)
        except Rejected as refused:
            self.count(context, refused.outcome)
            return JSONResponse({"detail": refused.detail}, status_code=refused.status, headers=refused.headers)
        if incoming is None:
            self.count(context, "ignored")
            return self.acknowledge()
        claimed = await run_in_threadpool(
            context.store.claim_update, self.name, incoming.update_id, incoming.payload, incoming.user_id
        )
        if not claimed:  # a re-delivery, here or at another worker
            self.count(context, "duplicate")
            return self.acknowledge()
        self.count(context, "accepted")
        self.spawn(self.process(context, incoming))
        return self.acknowledge()

    async def process(self, context: AppContext, incoming: Incoming[Content]) -> None:
        """Answer one stored update and mark it handled, unless the reply could not be delivered."""
        if await self.answer(context, incoming):
            await run_in_threadpool(context.store.mark_update_handled, self.name, incoming.update_id)

    def spawn(self, work: Coroutine[object, object, None]) -> None:
        task = asyncio.create_task(work)
        self._pending.add(task)  # keep a reference: the loop holds tasks only weakly
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.log.error("%s update processing failed", self.name, exc_info=task.exception())

    async def flush(self) -> None:
        """Wait until every update taken so far is processed: at shutdown, and in tests."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def drain(self) -> None:
        """Let answers in flight finish, but do not hold a shutdown for a platform that hangs."""
        try:
            await asyncio.wait_for(self.flush(), self.shutdown_grace_seconds)
        except TimeoutError:
            self.log.warning("stopping with %d %s updates unanswered", len(self._pending), self.name)

    async def replay_unhandled(self, context: AppContext, older_than_seconds: float) -> None:
        """Replay what a previous run stored but never answered; call it before this process claims any update."""
        try:
            left = await run_in_threadpool(context.store.unhandled_updates, self.name, older_than_seconds)
        except ValueError:
            self.log.exception("stored %s updates unreadable; none replayed", self.name)
            return
        if left:
            self.log.info("replaying %d %s updates stored but never answered", len(left), self.name)
            self.spawn(self._replay(context, left))

    async def _replay(self, context: AppContext, left: list[tuple[str, dict]]) -> None:
        for update_id, payload in left:
            if not await run_in_threadpool(context.store.claim_replay, self.name, update_id):
                continue  # another worker starting at the same time replays it
            incoming = self.restore(update_id, payload)
            if incoming is None:  # cannot be answered: do not try again at every start
                self.log.warning("stored %s update %s is not an update; dropped", self.name, update_id)
                await run_in_threadpool(context.store.mark_update_handled, self.name, update_id)
                continue
            self.count(context, "replayed")
            await self.process(context, incoming)

    async def start(self, context: AppContext) -> None:
        """Start the platform's client with the app (override); the base has nothing to start."""

    async def stop(self, context: AppContext) -> None:
        """Let answers in flight finish; adapters close their clients after this."""
        await self.drain()


def mount(app: FastAPI, channel: WebhookChannel, path: str) -> None:
    """Add the channel's webhook route (outside the API docs); the channel starts and stops with the app."""
    setattr(app.state, channel.name, channel)
    app.add_api_route(path, channel.webhook, methods=["POST"], include_in_schema=False)
    app.state.channel_starters.append(channel.start)
    app.state.channel_stoppers.append(channel.stop)
