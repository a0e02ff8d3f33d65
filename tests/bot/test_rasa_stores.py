"""Rasa's tracker and lock stores from one URL each: the endpoints.yml sections bot/server.py writes.

Fast: no Rasa here (the slow tests in test_scale_out.py and test_privacy.py start Rasa with these files).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot import server
from bot.stores import (
    LOCK_PASSWORD_ENV,
    TRACKER_PASSWORD_ENV,
    StoreUrlError,
    lock_store_section,
    rasa_store_sections,
    redis_key_prefix,
    tracker_store_section,
)


@pytest.mark.parametrize(
    ("url", "section"),
    [
        (
            "postgresql+psycopg://rasa@db.internal:5432/rasa",
            {
                "type": "SQL",
                "dialect": "postgresql",
                "url": "db.internal",
                "port": 5432,
                "db": "rasa",
                "username": "rasa",
            },
        ),
        (
            "postgres://rasa@db.internal/rasa?sslmode=require",
            {
                "type": "SQL",
                "dialect": "postgresql",
                "url": "db.internal",
                "db": "rasa",
                "username": "rasa",
                "query": {"sslmode": "require"},
            },
        ),
        ("sqlite:////var/lib/tthc/rasa.db", {"type": "SQL", "dialect": "sqlite", "db": "/var/lib/tthc/rasa.db"}),
        ("redis://cache.internal:6380/2", {"type": "redis", "url": "cache.internal", "port": 6380, "db": 2}),
        (
            "rediss://cache.internal/0?key_prefix=tthc",
            {"type": "redis", "url": "cache.internal", "port": 6379, "db": 0, "use_ssl": True, "key_prefix": "tthc"},
        ),
    ],
)
def test_tracker_store_urls(url: str, section: dict) -> None:
    assert tracker_store_section(url) == (section, {})


def test_passwords_stay_out_of_the_file_and_go_to_rasas_environment() -> None:
    stores = rasa_store_sections("postgresql://rasa:p%40ss@db/rasa", "redis://:s3cret@cache:6379/1")
    assert stores.sections["tracker_store"]["password"] == f"${{{TRACKER_PASSWORD_ENV}}}"
    assert stores.sections["lock_store"]["password"] == f"${{{LOCK_PASSWORD_ENV}}}"
    assert stores.environment == {TRACKER_PASSWORD_ENV: "p@ss", LOCK_PASSWORD_ENV: "s3cret"}
    assert server.rasa_env(stores=stores)[TRACKER_PASSWORD_ENV] == "p@ss"


def test_retention_expires_idle_trackers_in_redis() -> None:
    section, _ = tracker_store_section("redis://cache/0", retention_days=30)
    assert section["record_exp"] == 30 * 24 * 3600
    assert "record_exp" not in tracker_store_section("postgresql://db/rasa", retention_days=30)[0]  # the API trims SQL


@pytest.mark.parametrize(
    ("make", "url", "error"),
    [
        (tracker_store_section, "mongodb://db/rasa", "tracker store URL must start with"),
        (tracker_store_section, "postgresql://db", "names no database"),
        (tracker_store_section, "redis://cache/zero", "a Redis database is a number"),
        (tracker_store_section, "redis://cache/0?key_prefix=tthc:prod", "letters and digits"),
        (lock_store_section, "postgresql://db/rasa", "the lock store must be Redis"),
    ],
)
def test_unusable_urls_are_refused_with_the_reason(make, url: str, error: str) -> None:
    with pytest.raises(StoreUrlError, match=error):
        make(url)


def test_key_prefixes_as_rasa_builds_them() -> None:
    assert redis_key_prefix("tthc", "tracker:") == "tthc:tracker:"
    assert redis_key_prefix(None, "tracker:") == "tracker:"
    assert redis_key_prefix("not-alnum", "lock:") == "lock:"  # Rasa ignores such a prefix


def test_the_endpoints_file_is_written_once_per_configuration(tmp_path: Path) -> None:
    assert server.endpoints_file(rasa_store_sections(), tmp_path) == server.ENDPOINTS  # in memory: as shipped
    stores = rasa_store_sections("postgresql://rasa:secret@db/rasa", "redis://cache:6379/1")
    path = server.endpoints_file(stores, tmp_path)
    written = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert written["action_endpoint"] == {"url": "${RASA_ACTION_ENDPOINT}"}  # still expanded by Rasa
    assert written["tracker_store"]["db"] == "rasa" and written["lock_store"]["type"] == "redis"
    assert "secret" not in path.read_text(encoding="utf-8")
    assert server.endpoints_file(stores, tmp_path) == path  # same configuration, same file
    other = server.endpoints_file(rasa_store_sections("redis://cache/0"), tmp_path)
    assert other != path and path.exists()


def test_the_environment_configures_both_stores() -> None:
    env = {
        "ASSISTANT_RASA_TRACKER_STORE_URL": "redis://cache/0",
        "ASSISTANT_RASA_LOCK_STORE_URL": "redis://cache/1",
        "ASSISTANT_RETENTION_DAYS": "90",
    }
    stores = server.stores_from_environment(env)
    assert stores.sections["tracker_store"]["record_exp"] == 90 * 24 * 3600
    assert stores.sections["lock_store"]["db"] == 1
    assert server.stores_from_environment({}).sections == {}
