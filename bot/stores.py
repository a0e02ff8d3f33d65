"""Rasa's tracker store and lock store, each configured by one URL (read by bot/server.py and the API).

    ASSISTANT_RASA_TRACKER_STORE_URL   postgresql://rasa@db.internal:5432/rasa   (SQL tracker store)
                                       redis://cache.internal:6379/0             (Redis tracker store)
                                       empty: in Rasa's memory (one Rasa instance, lost at restart)
    ASSISTANT_RASA_LOCK_STORE_URL      redis://cache.internal:6379/1             (Redis lock store)
                                       empty: in Rasa's memory (one Rasa instance only)

Several Rasa instances behind one address need both: the tracker store holds every conversation
so that any instance can continue it, and the lock store makes two messages of one conversation
wait for each other even when they reach different instances.

``rasa_store_sections`` turns the URLs into the ``tracker_store`` and ``lock_store`` sections of
Rasa 3.6's endpoints.yml. A password never goes into that file: the file names an environment
variable (Rasa expands ``${VAR}`` when it reads it) and the caller puts the password in Rasa's
environment. The Redis key prefix, when wanted, is the query parameter ``key_prefix`` (letters and
digits only, as Rasa requires).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

TRACKER_PASSWORD_ENV = "TTHC_RASA_TRACKER_STORE_PASSWORD"
LOCK_PASSWORD_ENV = "TTHC_RASA_LOCK_STORE_PASSWORD"
# Rasa 3.6: rasa/core/tracker_store.py and rasa/core/lock_store.py.
REDIS_TRACKER_PREFIX = "tracker:"
REDIS_LOCK_PREFIX = "lock:"


class StoreUrlError(ValueError):
    """A tracker or lock store URL this deployment cannot use."""


@dataclass(frozen=True)
class RasaStores:
    """The endpoints.yml sections and the environment variables they refer to."""

    sections: dict = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)


def redis_key_prefix(key_prefix: str | None, default: str) -> str:
    """The prefix Rasa puts before a Redis key: ``<key_prefix>:<default>`` when alphanumeric, else ``default``."""
    return f"{key_prefix}:{default}" if key_prefix and key_prefix.isalnum() else default


def redis_options(url: str) -> dict[str, str]:
    """The query parameters of a Redis URL (``key_prefix``)."""
    return dict(parse_qsl(urlsplit(url).query))


def _redis_section(url: str, password_env: str) -> tuple[dict, dict[str, str]]:
    parts = urlsplit(url)
    database = parts.path.strip("/") or "0"
    if not database.isdigit():
        raise StoreUrlError(f"a Redis database is a number, not {database!r}")
    section: dict = {
        "type": "redis",
        "url": parts.hostname or "localhost",
        "port": parts.port or 6379,
        "db": int(database),
    }
    if parts.scheme == "rediss":
        section["use_ssl"] = True
    if parts.username:
        section["username"] = unquote(parts.username)
    environment = {}
    if parts.password:
        section["password"] = f"${{{password_env}}}"
        environment[password_env] = unquote(parts.password)
    key_prefix = redis_options(url).get("key_prefix")
    if key_prefix:
        if not key_prefix.isalnum():
            raise StoreUrlError(f"the Redis key prefix must be letters and digits, not {key_prefix!r}")
        section["key_prefix"] = key_prefix
    return section, environment


def _sql_section(url: str) -> tuple[dict, dict[str, str]]:
    parts = urlsplit(url)
    dialect = parts.scheme.split("+", 1)[0]  # Rasa's SQLAlchemy 1.4 picks its own driver (psycopg2)
    if dialect == "sqlite":
        return {"type": "SQL", "dialect": "sqlite", "db": unquote(parts.path[1:] if parts.path else "")}, {}
    section: dict = {"type": "SQL", "dialect": dialect, "url": parts.hostname or "localhost"}
    if parts.port:
        section["port"] = parts.port
    section["db"] = unquote(parts.path.strip("/"))
    if not section["db"]:
        raise StoreUrlError("the tracker store URL names no database")
    if parts.username:
        section["username"] = unquote(parts.username)
    environment = {}
    if parts.password:
        section["password"] = f"${{{TRACKER_PASSWORD_ENV}}}"
        environment[TRACKER_PASSWORD_ENV] = unquote(parts.password)
    query = dict(parse_qsl(parts.query))
    if query:
        section["query"] = query
    return section, environment


def tracker_store_section(url: str, retention_days: int = 0) -> tuple[dict, dict[str, str]]:
    """The ``tracker_store`` section for ``url`` (SQL or Redis) and the environment it needs."""
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss"):
        section, environment = _redis_section(url, TRACKER_PASSWORD_ENV)
        if retention_days > 0:
            # Rasa renews the expiry at every message: a conversation idle that long disappears by itself.
            section["record_exp"] = retention_days * 24 * 3600
        return section, environment
    if scheme.split("+", 1)[0] in ("postgresql", "postgres", "mysql", "sqlite", "oracle", "mssql"):
        return _sql_section(url.replace("postgres://", "postgresql://", 1))
    raise StoreUrlError(f"tracker store URL must start with postgresql://, sqlite:/// or redis://, not {scheme}://")


def lock_store_section(url: str) -> tuple[dict, dict[str, str]]:
    """The ``lock_store`` section for a Redis ``url`` and the environment it needs."""
    if urlsplit(url).scheme not in ("redis", "rediss"):
        raise StoreUrlError("the lock store must be Redis (redis://host:6379/1)")
    return _redis_section(url, LOCK_PASSWORD_ENV)


def rasa_store_sections(tracker_store_url: str = "", lock_store_url: str = "", retention_days: int = 0) -> RasaStores:
    """Both sections (those whose URL is set) and the passwords to put in Rasa's environment."""
    sections: dict = {}
    environment: dict[str, str] = {}
    if tracker_store_url:
        sections["tracker_store"], extra = tracker_store_section(tracker_store_url, retention_days)
        environment.update(extra)
    if lock_store_url:
        sections["lock_store"], extra = lock_store_section(lock_store_url)
        environment.update(extra)
    return RasaStores(sections, environment)
