"""Helpers of the browser tests: a live uvicorn server in a thread and Debian's headless chromium."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from api.ratelimit import MemoryRateLimiter, Verdict

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def require_chromium() -> None:
    """Fail (or skip with TTHC_SKIP_BROWSER=1) when Debian's chromium or its driver is missing."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if not missing:
        return
    message = f"{', '.join(missing)} not found: `./dev.sh test` installs chromium and chromium-driver"
    if os.environ.get("TTHC_SKIP_BROWSER") == "1":
        pytest.skip(message + " (skipped: TTHC_SKIP_BROWSER=1)")
    pytest.fail(message + "; or set TTHC_SKIP_BROWSER=1 to skip the browser tests", pytrace=False)


def chromium(width: int = 1280, height: int = 900) -> webdriver.Chrome:
    """Headless chromium driven through the system chromedriver (never Selenium Manager: no internet)."""
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--no-first-run",
        "--lang=vi-VN",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    # console messages (CSP violations, script errors) are read back by the tests
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


class SwitchableLimiter(MemoryRateLimiter):
    """In-memory rate limits that a test can switch to refusing, to see what a limited user sees."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse = False

    def hit(self, key: str, limit: int) -> Verdict:
        if self.refuse:
            return Verdict(False, 30)
        return super().hit(key, limit)


class LiveServer:
    """uvicorn serving ``app`` on 127.0.0.1 at a free port, in a background thread."""

    def __init__(self, app) -> None:  # an ASGI app
        self.app = app
        # Binding port 0 here and handing the socket to uvicorn leaves no window for another process.
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()
