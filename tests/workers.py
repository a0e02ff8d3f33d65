"""Helpers of the scale-out and privacy tests: API workers served by uvicorn in threads, Rasa servers.

A worker is a whole app (its own ``create_app``, store engine, rate limiter, Telegram bot) on its
own port, as a separate process would be, but in this process: the answer service over the fixture
corpus is shared instead of each worker loading the full knowledge base, and each Telegram bot gets
its own fake Bot API.
"""

from __future__ import annotations

import asyncio
import logging
import logging.config
import socket
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
import uvicorn

from api.logs import uvicorn_log_config
from bot import server
from bot.stores import RasaStores
from tests.live_stack import free_port


@contextmanager
def production_logs(path: Path) -> Iterator[Path]:
    """Log as ``python -m api serve`` does (uvicorn's configuration with the masking filter, JSON lines,
    the app's loggers included) into ``path`` instead of the terminal; the previous logging comes back after."""
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {name: logging.getLogger(name) for name in names}
    before = {name: (logger.handlers[:], logger.level, logger.propagate) for name, logger in saved.items()}
    stream = path.open("a", encoding="utf-8")
    config = uvicorn_log_config()
    for handler in config["handlers"].values():
        handler["stream"] = stream
    logging.config.dictConfig(config)
    try:
        yield path
    finally:
        for name, (handlers, level, propagate) in before.items():
            logger = saved[name]
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate
        stream.close()


class ApiWorker:
    """``app`` served by uvicorn on 127.0.0.1 (a free port) in a thread with its own event loop.

    Logging is left as it is (see ``production_logs``), as ``uvicorn.run`` would leave it with ``log_config=None``.
    """

    def __init__(self, app, name: str, **options: object) -> None:  # an ASGI app
        """``options``: more of uvicorn's settings (``forwarded_allow_ips``...)."""
        self.app = app
        self.name = name
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="info", lifespan="on", log_config=None, **options)
        self.server = uvicorn.Server(config)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._run, name=f"worker-{name}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve(sockets=[self.socket]))
        self.loop.close()

    def start(self, timeout: float = 60.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"worker {self.name} did not start")
            time.sleep(0.05)

    def call(self, work: Callable[[], Awaitable[object]], timeout: float = 60.0) -> object:
        """Run a coroutine on the worker's event loop (e.g. wait for the Telegram updates it took)."""
        return asyncio.run_coroutine_threadsafe(work(), self.loop).result(timeout)

    def flush_telegram(self) -> None:
        self.call(self.app.state.telegram.flush)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.socket.close()


class RasaServer:
    """A Rasa server (a subprocess) on a free port with the given stores, its actions served by ``action_url``."""

    def __init__(self, model: Path, stores: RasaStores, log_path: Path) -> None:
        self.model = model
        self.stores = stores
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, action_url: str) -> None:
        self.process = server.start(
            self.model, self.port, action_url, self.log_path, self.stores, endpoints_dir=self.log_path.parent
        )

    def wait_ready(self) -> None:
        server.wait_ready(self.url, timeout=300, process=self.process)

    def stop(self) -> None:
        if self.process is not None:
            server.stop(self.process)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


def delete_redis_keys(pattern: str, url: str = "redis://127.0.0.1:6379/0") -> None:
    """Remove what a test left in the shared Redis (Rasa's trackers have no expiry of their own)."""
    client = redis.Redis.from_url(url)
    try:
        for key in client.scan_iter(match=pattern, count=500):
            client.delete(key)
    finally:
        client.close()
