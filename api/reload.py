"""Hot reload of the knowledge base: a refreshed build is served without restarting workers.

Each worker polls the ``current`` build link of its index directory (a refresh swaps it
atomically; every worker has its own read-only copy of the index) and can be told to look now
(``POST /admin/reload``). The new answer service is loaded beside the old one and swapped in
one assignment: requests already running finish on the old service they hold, new requests
get the new one. A build that fails to load leaves the old service serving and says why.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from api.deps import AppContext
from knowledge.errors import IndexNotBuilt
from knowledge.service import AnswerService
from knowledge.settings import KnowledgeSettings
from knowledge.store import KnowledgeStore

log = logging.getLogger("api.reload")


@dataclass(frozen=True)
class ReloadOutcome:
    changed: bool
    build_id: str
    seconds: float = 0.0
    error: str = ""


class KnowledgeReloader:
    def __init__(self, knowledge: KnowledgeSettings, interval_seconds: float = 5.0) -> None:
        self.knowledge = knowledge
        self.interval_seconds = interval_seconds
        self.last_error = ""
        self._lock = threading.Lock()  # one load at a time per worker: a load doubles memory briefly
        self._task: asyncio.Task | None = None

    def current_build_id(self) -> str:
        try:
            return KnowledgeStore(self.knowledge.index_dir).current_build().name
        except IndexNotBuilt:
            return ""

    def reload_if_changed(self, context: AppContext) -> ReloadOutcome:
        """Load the current build if it is not the one serving (blocking: call from a thread)."""
        with self._lock:
            serving = context.service.build_id
            current = self.current_build_id()
            if not current or current == serving:
                return ReloadOutcome(False, serving)
            started = time.perf_counter()
            dense = context.service.searcher.dense
            try:
                service, build_id = AnswerService.from_current_build(
                    self.knowledge, encoder=dense.encoder if dense is not None else None
                )
            except Exception as error:  # any failure keeps the old service serving
                self.last_error = f"{type(error).__name__}: {error}"
                log.exception("knowledge base %s not loaded; still serving %s", current, serving)
                return ReloadOutcome(False, serving, error=self.last_error)
            context.swap_service(service)
            self.last_error = ""
            seconds = time.perf_counter() - started
            context.metrics.set_knowledge_build(build_id, len(service.searcher.procedures))
            log.info("knowledge base %s loaded in %.1f s (was %s)", build_id, seconds, serving)
            return ReloadOutcome(True, build_id, seconds)

    async def watch(self, context: AppContext) -> None:
        while True:
            await asyncio.sleep(self.interval_seconds)
            try:
                await run_in_threadpool(self.reload_if_changed, context)
            except Exception:  # the watcher must outlive one bad attempt
                log.exception("knowledge base watch failed")

    async def start(self, context: AppContext) -> None:
        if self.interval_seconds > 0:
            self._task = asyncio.create_task(self.watch(context))

    async def stop(self, _context: AppContext) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
