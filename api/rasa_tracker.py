"""Rasa's tracker store seen from the API: retention and "forget this user", without importing rasa.

Rasa keeps each conversation under its sender id, ``<channel>:<user>`` (api/conversation.py). The
text in it was masked before it reached Rasa, but it is still what the user said, so it follows the
same retention period and forget requests as the API's own store. Rasa 3.6 has no HTTP call that
deletes a conversation, so the API cleans the store Rasa writes to (the same
``ASSISTANT_RASA_TRACKER_STORE_URL``, see bot/stores.py):

- SQL: one row per event in the table ``events`` (sender_id, timestamp in epoch seconds, data).
- Redis: one key ``[<key_prefix>:]tracker:<sender id>`` holding the whole tracker as JSON
  (``{"events": [...], "name": ...}``); edited under WATCH, so a message Rasa saves at the same
  moment wins and the key is trimmed at the next daily pass.

An in-memory tracker store (no URL) lives and dies with the Rasa process: nothing to clean here.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, create_engine, delete, func, inspect
from sqlalchemy import select as sql_select
from sqlalchemy.engine import make_url

from bot.stores import REDIS_TRACKER_PREFIX, redis_key_prefix, redis_options

log = logging.getLogger("api.rasa_tracker")

_metadata = MetaData()
# The columns of Rasa 3.6's SQLTrackerStore.SQLEvent that are read or matched here.
events = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


class TrackerStore(Protocol):
    def delete_before(self, cutoff: datetime) -> int:
        """Delete the events older than ``cutoff``; return how many."""
        ...

    def forget(self, sender_id: str) -> int:
        """Delete the whole conversation of ``sender_id``; return the number of events deleted."""
        ...

    def count(self, sender_id: str | None = None) -> int:
        """Events stored (of ``sender_id``, or of everyone)."""
        ...

    def close(self) -> None: ...


def _app_sql_url(url: str) -> str:
    """The URL for this app's SQLAlchemy: PostgreSQL through psycopg 3 (Rasa uses psycopg2)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


class SqlTrackerStore:
    """Rasa's ``events`` table in PostgreSQL (or SQLite)."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(_app_sql_url(url), pool_pre_ping=True)

    def _ready(self) -> bool:
        # Rasa creates the table when it first starts; before that there is nothing to clean.
        return inspect(self.engine).has_table("events")

    def delete_before(self, cutoff: datetime) -> int:
        if not self._ready():
            return 0
        with self.engine.begin() as connection:
            deleted = connection.execute(delete(events).where(events.c.timestamp < cutoff.timestamp())).rowcount
        return int(deleted or 0)

    def forget(self, sender_id: str) -> int:
        if not self._ready():
            return 0
        with self.engine.begin() as connection:
            return int(connection.execute(delete(events).where(events.c.sender_id == sender_id)).rowcount or 0)

    def count(self, sender_id: str | None = None) -> int:
        if not self._ready():
            return 0
        query = sql_select(func.count()).select_from(events)
        if sender_id is not None:
            query = query.where(events.c.sender_id == sender_id)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def close(self) -> None:
        self.engine.dispose()


class RedisTrackerStore:
    """Rasa's trackers in Redis, one JSON value per conversation."""

    def __init__(self, url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url.split("?", 1)[0], socket_timeout=5, socket_connect_timeout=5)
        self.prefix = redis_key_prefix(redis_options(url).get("key_prefix"), REDIS_TRACKER_PREFIX)

    def _keys(self) -> list[bytes]:
        return list(self.redis.scan_iter(match=f"{self.prefix}*", count=500))

    def delete_before(self, cutoff: datetime) -> int:
        import redis

        limit = cutoff.timestamp()
        deleted = 0
        for key in self._keys():
            with self.redis.pipeline() as pipe:
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    if stored is None:
                        continue
                    tracker = json.loads(stored)
                    kept = [event for event in tracker.get("events", []) if (event.get("timestamp") or 0) >= limit]
                    removed = len(tracker.get("events", [])) - len(kept)
                    if not removed:
                        continue
                    pipe.multi()
                    if kept:
                        pipe.set(key, json.dumps({**tracker, "events": kept}), keepttl=True)
                    else:
                        pipe.delete(key)
                    pipe.execute()
                    deleted += removed
                except redis.WatchError:
                    log.info("retention: a tracker changed while being trimmed; trimmed at the next pass")
                except ValueError:
                    log.warning("retention: a tracker in Redis is not JSON; left as it is")
        return deleted

    def forget(self, sender_id: str) -> int:
        key = f"{self.prefix}{sender_id}"
        stored = self.redis.get(key)
        self.redis.delete(key)
        return _event_count(stored)

    def count(self, sender_id: str | None = None) -> int:
        keys = [f"{self.prefix}{sender_id}"] if sender_id is not None else self._keys()
        return sum(_event_count(self.redis.get(key)) for key in keys)

    def close(self) -> None:
        self.redis.close()


def _event_count(stored: bytes | None) -> int:
    if stored is None:
        return 0
    try:
        return len(json.loads(stored).get("events", []))
    except ValueError:
        return 1


def open_tracker_store(url: str) -> TrackerStore | None:
    """The tracker store at ``url``; None when Rasa keeps its trackers in memory (no URL)."""
    if not url:
        return None
    if urlsplit(url).scheme in ("redis", "rediss"):
        return RedisTrackerStore(url)
    return SqlTrackerStore(url)
