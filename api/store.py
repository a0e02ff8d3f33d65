"""The conversation store: questions, replies, decisions, feedback, channel updates.

SQLite by default (WAL, synchronous FULL: a turn acknowledged to a user survives a crash),
PostgreSQL by URL. Everything a user typed is stored with personal numbers masked. Every write
is one transaction; callers get an id only after the commit.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.pool import ConnectionPoolEntry

from knowledge.answer.contract import Answer
from knowledge.dialogue import DialogueState
from nlu.pii import mask_pii

metadata = MetaData()

sessions = Table(
    "sessions",
    metadata,
    Column("session_key", String(200), primary_key=True),
    Column("channel", String(20), nullable=False),
    Column("state", Text, nullable=False, default="{}"),
    Column("handover", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

interactions = Table(
    "interactions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("session_key", String(200), nullable=False, index=True),
    Column("channel", String(20), nullable=False),
    Column("question", Text, nullable=False),
    Column("reply", Text, nullable=False),
    Column("decision", String(20), nullable=False, index=True),
    Column("aspect", String(20), nullable=False),
    Column("procedure_code", String(40)),
    Column("candidates", Text, nullable=False, default="[]"),
    Column("reason", String(200), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("answer_id", String(32), ForeignKey("interactions.id"), nullable=False, index=True),
    Column("useful", Boolean, nullable=False),
    Column("comment", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

channel_updates = Table(
    "channel_updates",
    metadata,
    Column("channel", String(20), primary_key=True),
    Column("update_id", String(100), primary_key=True),
    Column("payload", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("handled_at", DateTime(timezone=True)),
    Column("replay_claimed_at", DateTime(timezone=True)),
    # The user the update came from (the id in the session key "<channel>:<user>"): forget requests.
    Column("user_id", String(200), index=True),
)


class UnknownAnswer(LookupError):
    """Feedback names an answer id the store never issued."""


@dataclass(frozen=True)
class StoredTurn:
    answer_id: str
    session_key: str
    channel: str
    question: str
    reply: str
    decision: str
    procedure_code: str | None
    created_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


# Fields a chat platform fills in itself (ids, callback data): masking them would break a replay.
_PLATFORM_FIELDS = frozenset({"id", "data", "chat_instance", "file_id", "file_unique_id", "msg_id", "update_id"})


def _mask_payload(value: object, key: str = "") -> object:
    """The payload with personal numbers masked in what users typed; numbers and platform ids kept."""
    if isinstance(value, dict):
        return {name: _mask_payload(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [_mask_payload(item, key) for item in value]
    if isinstance(value, str) and key not in _PLATFORM_FIELDS:
        return mask_pii(value)
    return value


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        database = url.split(":///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _add_missing_columns(engine: Engine) -> None:
    """Columns added after a table was first created (create_all leaves existing tables alone)."""
    present = {column["name"] for column in inspect(engine).get_columns("channel_updates")}
    if "user_id" in present:
        return
    try:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE channel_updates ADD COLUMN user_id VARCHAR(200)"))
            connection.execute(
                text("CREATE INDEX IF NOT EXISTS ix_channel_updates_user_id ON channel_updates (user_id)")
            )
    except (OperationalError, ProgrammingError):
        # another worker starting at the same moment added it first
        if "user_id" not in {column["name"] for column in inspect(engine).get_columns("channel_updates")}:
            raise


class ConversationStore:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        metadata.create_all(self.engine)
        _add_missing_columns(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - readiness reports any failure as "not ready"
            return False

    # -- conversations ---------------------------------------------------------------------

    def load_state(self, session_key: str) -> DialogueState:
        with self.engine.connect() as connection:
            row = connection.execute(select(sessions.c.state).where(sessions.c.session_key == session_key)).first()
        return DialogueState.from_dict(json.loads(row.state)) if row else DialogueState()

    def record_turn(self, session_key: str, channel: str, question: str, answer: Answer, state: DialogueState) -> str:
        """Store the question (masked), the reply and the new state in one transaction; return the answer id."""
        answer_id = uuid.uuid4().hex
        now = _now()
        candidates = [{"code": c.code, "name": c.name, "score": c.score} for c in answer.candidates[:5]]
        with self.engine.begin() as connection:
            connection.execute(
                insert(interactions).values(
                    id=answer_id,
                    session_key=session_key,
                    channel=channel,
                    question=mask_pii(question),
                    reply=answer.text,
                    decision=answer.decision,
                    aspect=answer.aspect,
                    procedure_code=answer.procedure.code if answer.procedure else None,
                    candidates=json.dumps(candidates, ensure_ascii=False),
                    reason=answer.reason[:200],
                    created_at=now,
                )
            )
            self._save_state(connection, session_key, channel, state, now)
        return answer_id

    def _save_state(
        self, connection: Connection, session_key: str, channel: str, state: DialogueState, now: datetime
    ) -> None:
        payload = json.dumps(state.to_dict(), ensure_ascii=False)
        changed = connection.execute(
            update(sessions).where(sessions.c.session_key == session_key).values(state=payload, updated_at=now)
        ).rowcount
        if not changed:
            connection.execute(
                insert(sessions).values(
                    session_key=session_key,
                    channel=channel,
                    state=payload,
                    handover=False,
                    created_at=now,
                    updated_at=now,
                )
            )

    def delete_before(self, cutoff: datetime) -> int:
        """Retention: delete turns (and their feedback) older than ``cutoff``, sessions idle since
        before it and channel updates received before it, in one transaction; return the number of
        turns deleted."""
        old_turns = select(interactions.c.id).where(interactions.c.created_at < cutoff)
        with self.engine.begin() as connection:
            connection.execute(feedback.delete().where(feedback.c.answer_id.in_(old_turns)))
            deleted = connection.execute(interactions.delete().where(interactions.c.created_at < cutoff)).rowcount
            connection.execute(sessions.delete().where(sessions.c.updated_at < cutoff))
            # Telegram and Zalo stop re-delivering within a day: an update this old cannot come back.
            connection.execute(channel_updates.delete().where(channel_updates.c.received_at < cutoff))
        return int(deleted or 0)

    def forget_user(self, channel: str, user_id: str) -> dict[str, int]:
        """Delete everything stored of one user of one channel, in one transaction: rows deleted per table."""
        session_key = f"{channel}:{user_id}"
        turns = select(interactions.c.id).where(interactions.c.session_key == session_key)
        updates = (channel_updates.c.channel == channel) & (channel_updates.c.user_id == user_id)
        with self.engine.begin() as connection:
            deleted = {
                "feedback": connection.execute(feedback.delete().where(feedback.c.answer_id.in_(turns))).rowcount,
                "interactions": connection.execute(
                    interactions.delete().where(interactions.c.session_key == session_key)
                ).rowcount,
                "sessions": connection.execute(sessions.delete().where(sessions.c.session_key == session_key)).rowcount,
                "channel_updates": connection.execute(channel_updates.delete().where(updates)).rowcount,
            }
        return {table: int(count or 0) for table, count in deleted.items()}

    def user_rows(self, channel: str, user_id: str) -> dict[str, int]:
        """How many rows of each table belong to one user (what ``forget_user`` would delete)."""
        session_key = f"{channel}:{user_id}"
        turns = select(interactions.c.id).where(interactions.c.session_key == session_key)
        queries = {
            "feedback": select(func.count()).select_from(feedback).where(feedback.c.answer_id.in_(turns)),
            "interactions": select(func.count())
            .select_from(interactions)
            .where(interactions.c.session_key == session_key),
            "sessions": select(func.count()).select_from(sessions).where(sessions.c.session_key == session_key),
            "channel_updates": select(func.count())
            .select_from(channel_updates)
            .where(channel_updates.c.channel == channel, channel_updates.c.user_id == user_id),
        }
        with self.engine.connect() as connection:
            return {table: int(connection.execute(query).scalar_one()) for table, query in queries.items()}

    def flag_handover(self, session_key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(sessions).where(sessions.c.session_key == session_key).values(handover=True))

    def turns(self, session_key: str) -> list[StoredTurn]:
        query = (
            select(interactions)
            .where(interactions.c.session_key == session_key)
            .order_by(interactions.c.created_at, interactions.c.id)
        )
        with self.engine.connect() as connection:
            return [_turn(row) for row in connection.execute(query)]

    def turn(self, answer_id: str) -> StoredTurn | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(interactions).where(interactions.c.id == answer_id)).first()
        return _turn(row) if row else None

    def unanswered(self, limit: int = 100) -> list[StoredTurn]:
        query = (
            select(interactions)
            .where(interactions.c.decision == "abstain")
            .order_by(interactions.c.created_at.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [_turn(row) for row in connection.execute(query)]

    # -- feedback ----------------------------------------------------------------------------

    def add_feedback(self, answer_id: str, useful: bool, comment: str | None = None) -> int:
        with self.engine.begin() as connection:
            known = connection.execute(select(interactions.c.id).where(interactions.c.id == answer_id)).first()
            if not known:
                raise UnknownAnswer(answer_id)
            result = connection.execute(
                insert(feedback).values(
                    answer_id=answer_id,
                    useful=useful,
                    comment=mask_pii(comment) if comment else None,
                    created_at=_now(),
                )
            )
            return int(result.inserted_primary_key[0])

    def feedback_for(self, answer_id: str) -> list[tuple[bool, str | None]]:
        query = select(feedback.c.useful, feedback.c.comment).where(feedback.c.answer_id == answer_id)
        with self.engine.connect() as connection:
            return [(bool(row.useful), row.comment) for row in connection.execute(query.order_by(feedback.c.id))]

    # -- channel updates (webhook de-duplication across workers) ------------------------------

    def claim_update(self, channel: str, update_id: str, payload: dict, user_id: str | None = None) -> bool:
        """Store an incoming update durably; False when this update id was already stored (a repeat).

        ``user_id``: who sent it, as in the session key, so that a forget request finds it.
        """
        body = json.dumps(_mask_payload(payload), ensure_ascii=False, default=str)
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(channel_updates).values(
                        channel=channel,
                        update_id=str(update_id)[:100],
                        payload=body,
                        received_at=_now(),
                        user_id=str(user_id)[:200] if user_id is not None else None,
                    )
                )
        except IntegrityError:
            return False
        return True

    def mark_update_handled(self, channel: str, update_id: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(channel_updates)
                .where(channel_updates.c.channel == channel, channel_updates.c.update_id == str(update_id)[:100])
                .values(handled_at=_now())
            )

    def unhandled_updates(self, channel: str, older_than_seconds: float = 0) -> list[tuple[str, dict]]:
        """Updates stored but never answered (the process stopped in between), oldest first.

        ``older_than_seconds`` leaves alone what another worker may still be answering right now.
        """
        cutoff = _now() - timedelta(seconds=older_than_seconds)
        query = (
            select(channel_updates.c.update_id, channel_updates.c.payload)
            .where(
                channel_updates.c.channel == channel,
                channel_updates.c.handled_at.is_(None),
                channel_updates.c.replay_claimed_at.is_(None),
                channel_updates.c.received_at <= cutoff,
            )
            .order_by(channel_updates.c.received_at)
        )
        with self.engine.connect() as connection:
            return [(row.update_id, json.loads(row.payload)) for row in connection.execute(query)]

    def claim_replay(self, channel: str, update_id: str) -> bool:
        """True for exactly one worker: the one that replays this unhandled update."""
        with self.engine.begin() as connection:
            claimed = connection.execute(
                update(channel_updates)
                .where(
                    channel_updates.c.channel == channel,
                    channel_updates.c.update_id == str(update_id)[:100],
                    channel_updates.c.handled_at.is_(None),
                    channel_updates.c.replay_claimed_at.is_(None),
                )
                .values(replay_claimed_at=_now())
            ).rowcount
        return claimed == 1

    def count(self, table_name: str) -> int:
        table = metadata.tables[table_name]
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def _turn(row: Row) -> StoredTurn:
    return StoredTurn(
        answer_id=row.id,
        session_key=row.session_key,
        channel=row.channel,
        question=row.question,
        reply=row.reply,
        decision=row.decision,
        procedure_code=row.procedure_code,
        created_at=row.created_at,
    )
