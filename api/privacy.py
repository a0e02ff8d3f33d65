"""Retention and forget requests over everything that keeps a user's words: our store and Rasa's trackers.

Personal numbers are masked before anything is stored (nlu/pii.py), but a conversation is still
personal data. Two rules apply to all of it, wherever it lives:

- retention (``ASSISTANT_RETENTION_DAYS``): turns, feedback, channel updates and Rasa events older
  than N days are deleted at start-up and daily by every worker (the deletes are idempotent, so N
  workers doing it is harmless);
- forgetting one user on request (``DELETE /admin/users/{channel}/{user_id}``, or
  ``python -m api forget CHANNEL USER_ID``): the user's session, turns, feedback, stored channel
  updates and Rasa tracker (sender ``<channel>:<user>``).

Rate-limit counters in Redis name a session too; they expire by themselves within two minutes.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from api.rasa_tracker import TrackerStore
from api.store import ConversationStore

log = logging.getLogger("api.privacy")

RASA_EVENTS = "rasa_events"


def masked_id(user_id: str) -> str:
    """A user id for the logs: enough to tell requests apart, not enough to find the person."""
    return f"…{user_id[-3:]}" if len(user_id) > 6 else "…"


def apply_retention(
    store: ConversationStore, tracker_store: TrackerStore | None, days: int, now: datetime | None = None
) -> dict[str, int]:
    """Delete what is older than ``days`` days; return the turns and Rasa events deleted."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    deleted = {"interactions": store.delete_before(cutoff)}
    if tracker_store is not None:
        deleted[RASA_EVENTS] = tracker_store.delete_before(cutoff)
    log.info("retention: deleted what is older than %s: %s", cutoff.date(), deleted)
    return deleted


def user_data(
    store: ConversationStore, tracker_store: TrackerStore | None, channel: str, user_id: str
) -> dict[str, int]:
    """What is stored of one user: rows per table, and events in Rasa's tracker store."""
    counts = store.user_rows(channel, user_id)
    if tracker_store is not None:
        counts[RASA_EVENTS] = tracker_store.count(f"{channel}:{user_id}")
    return counts


def forget_user(
    store: ConversationStore, tracker_store: TrackerStore | None, channel: str, user_id: str
) -> dict[str, int]:
    """Delete everything stored of one user; return what was deleted (rows per table, Rasa events)."""
    deleted = store.forget_user(channel, user_id)
    if tracker_store is not None:
        deleted[RASA_EVENTS] = tracker_store.forget(f"{channel}:{user_id}")
    log.info("forget: %s user %s: %s", channel, masked_id(user_id), deleted)
    return deleted
