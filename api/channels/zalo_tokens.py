"""The Zalo OA token pair in the shared database: one row that every worker reads and replaces.

A refresh token can be used once, so the pair cannot live in one worker's memory: every worker reads
the newest pair from the database, and a pair is replaced only if the refresh token used is still
the stored one (another worker may have refreshed first).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Column, Float, Integer, Table, Text, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from api.store import metadata

REFRESH_MARGIN_SECONDS = 300

zalo_tokens = Table(
    "zalo_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=False),
    Column("expires_at", Float),  # epoch seconds; NULL when unknown (a pair pasted into the settings)
    Column("seed", Text, nullable=False),  # hash of the settings' pair this row started from
    Column("updated_at", Float, nullable=False),
)


@dataclass(frozen=True)
class Tokens:
    """An access token and its single-use refresh token; ``expires_at`` in epoch seconds, None when unknown."""

    access_token: str
    refresh_token: str
    expires_at: float | None = None

    def expiring(self, now: float) -> bool:
        return self.expires_at is not None and self.expires_at - now < REFRESH_MARGIN_SECONDS

    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.access_token}\n{self.refresh_token}".encode()).hexdigest()


class TokenStore:
    """The current token pair, one row in the shared database, seeded from the settings."""

    ROW = 1

    def __init__(self, engine: Engine, seed: Tokens, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.seed = seed
        self.clock = clock
        zalo_tokens.create(engine, checkfirst=True)

    def load(self) -> Tokens:
        """The stored pair; the settings' pair when none is stored or when the settings got a new pair."""
        with self.engine.connect() as connection:
            row = connection.execute(select(zalo_tokens).where(zalo_tokens.c.id == self.ROW)).first()
        if row and row.seed == self.seed.fingerprint():
            return Tokens(row.access_token, row.refresh_token, row.expires_at)
        values = {**self._values(self.seed), "seed": self.seed.fingerprint()}
        try:
            with self.engine.begin() as connection:
                if row:  # an operator authorised the OA again: the settings now hold the live pair
                    connection.execute(update(zalo_tokens).where(zalo_tokens.c.id == self.ROW).values(**values))
                else:
                    connection.execute(insert(zalo_tokens).values(id=self.ROW, **values))
        except IntegrityError:  # another worker seeded it at the same moment
            return self.load()
        return self.seed

    def replace(self, used_refresh_token: str, new: Tokens) -> bool:
        """Store ``new`` unless the pair refreshed with ``used_refresh_token`` was already replaced."""
        with self.engine.begin() as connection:
            changed = connection.execute(
                update(zalo_tokens)
                .where(zalo_tokens.c.id == self.ROW, zalo_tokens.c.refresh_token == used_refresh_token)
                .values(**self._values(new))
            ).rowcount
        return changed == 1

    def _values(self, tokens: Tokens) -> dict:
        return {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_at": tokens.expires_at,
            "updated_at": self.clock(),
        }
