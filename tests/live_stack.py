"""The API and a Rasa server wired to each other on free local ports: for the Rasa tests and bench_rasa.

Test machinery, so it lives with the tests: bot/server.py only trains and starts Rasa, and does not
import the API.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.settings import ApiSettings
from bot import server
from knowledge.service import AnswerService


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LiveStack:
    """The API (serving the actions) and a Rasa server wired to each other, on free local ports."""

    api_url: str
    rasa_url: str
    rasa: subprocess.Popen
    app: FastAPI


@contextmanager
def live_stack(service: AnswerService, model: Path, work_dir: Path, **settings: object) -> Iterator[LiveStack]:
    """Run the app (in a thread, with ``service``) and Rasa (a subprocess) for tests and benchmarks.

    Both stop when the block ends, whatever happens inside it.
    """
    api_port, rasa_port = free_port(), free_port()
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    values = {
        "database_url": f"sqlite:///{work_dir / 'assistant.sqlite3'}",
        "console_token": "live-stack",
        "rasa_url": rasa_url,
        "rate_limit_user_per_minute": 100_000,
        "rate_limit_ip_per_minute": 100_000,
        **settings,
    }
    app = create_app(ApiSettings(**values), service=service)
    api = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=api_port, log_level="warning"))
    thread = threading.Thread(target=api.run, daemon=True)
    thread.start()
    rasa = server.start(model, rasa_port, f"http://127.0.0.1:{api_port}/rasa/webhook", work_dir / "rasa.log")
    try:
        deadline = time.monotonic() + 60
        while not api.started and time.monotonic() < deadline:
            time.sleep(0.1)
        server.wait_ready(rasa_url, process=rasa)
        yield LiveStack(f"http://127.0.0.1:{api_port}", rasa_url, rasa, app)
    finally:
        server.stop(rasa)
        api.should_exit = True
        thread.join(30)
