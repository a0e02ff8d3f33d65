"""The offline switch: staff pause the assistant with a message every channel gives instead.

Kept in the shared store so that one switch pauses every worker. Channels keep answering their
webhooks with 200 (Telegram and Zalo would otherwise resend) and users get the message; their
questions are still stored, so nothing they sent is lost. ``ASSISTANT_OFFLINE_MESSAGE`` pauses
from configuration (a maintenance window planned ahead).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, String, Table, Text, delete, insert, select
from sqlalchemy.engine import Engine

from api.store import metadata

CACHE_SECONDS = 2.0  # a worker re-reads the switch at most this often
DEFAULT_MESSAGE = (
    "Trợ lý đang tạm dừng để bảo trì. Bạn vui lòng quay lại sau, hoặc gọi tổng đài 1900 1009 để được hỗ trợ."
)

service_switch = Table(
    "service_switch",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("message", Text, nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
)


class OfflineSwitch:
    def __init__(self, engine: Engine, configured_message: str = "") -> None:
        self.engine = engine
        self.configured_message = configured_message
        service_switch.create(engine, checkfirst=True)
        self._cached: tuple[float, str] = (0.0, "")
        self._lock = threading.Lock()

    def message(self) -> str:
        """The pause message while the assistant is offline; "" while it serves."""
        if self.configured_message:
            return self.configured_message
        with self._lock:
            read_at, message = self._cached
            if time.monotonic() - read_at < CACHE_SECONDS:
                return message
            with self.engine.connect() as connection:
                row = connection.execute(
                    select(service_switch.c.message).where(service_switch.c.name == "offline")
                ).first()
            message = row.message if row else ""
            self._cached = (time.monotonic(), message)
            return message

    def pause(self, message: str = "") -> str:
        message = message.strip() or DEFAULT_MESSAGE
        with self.engine.begin() as connection:
            connection.execute(delete(service_switch).where(service_switch.c.name == "offline"))
            connection.execute(insert(service_switch).values(name="offline", message=message, set_at=datetime.now(UTC)))
        self._cached = (0.0, "")
        return message

    def resume(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(service_switch).where(service_switch.c.name == "offline"))
        self._cached = (0.0, "")
