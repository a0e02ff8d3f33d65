"""Personal numbers never stored or logged unmasked; one user forgotten on request; retention everywhere.

A scripted conversation of one user (Lan) gives her CCCD, phone number and e-mail address through
POST /v1/ask, feedback, a search and the Telegram webhook (fake Bot API), while another user asks
too. Then every row of every table of the store, everything in Rasa's tracker store, the Redis keys,
the log lines (written as ``python -m api serve`` writes them) and Rasa's own log are scanned for
those values. Then Lan is forgotten (DELETE /admin/users/... for the web session, the ``python -m api
forget`` command for the Telegram chat): her rows are counted before and after, the other user's
are left as they were, and Rasa no longer remembers her conversation.

Deployments: SQLite with in-memory limits; PostgreSQL + Redis; and (slow) PostgreSQL + Redis with a
live Rasa whose tracker store is PostgreSQL, or Redis.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import create_engine, func, insert, inspect, select, text

from api.app import create_app
from api.channels.telegram_bot import WEBHOOK_PATH
from api.privacy import RASA_EVENTS, apply_retention, user_data
from api.rasa_tracker import RedisTrackerStore, SqlTrackerStore, TrackerStore, events, open_tracker_store
from api.settings import ApiSettings
from api.store import ConversationStore, interactions, sessions
from bot.actions.actions import OFFER_LINE
from bot.stores import rasa_store_sections
from knowledge.settings import REPOSITORY_ROOT
from tests.api.test_telegram import SECRET, TOKEN, FakeBotApi, buttons, message, press
from tests.conftest import REDIS_URL, make_api_settings
from tests.workers import ApiWorker, RasaServer, delete_redis_keys, production_logs

CCCD = "001203004005"
PHONE = "0912345678"
EMAIL = "lan.nguyen@example.com"
# Every way the values are written in the script below, and the parts that would give them away.
NEEDLES = (CCCD, PHONE, "0912 345 678", "912345678", EMAIL, "lan.nguyen", "lan.nguyen%40example.com")
STAFF_TOKEN = "staff-secret"


def unmasked(text: str) -> list[str]:
    return [needle for needle in NEEDLES if needle in text]


# -- the deployments ----------------------------------------------------------------------------


@dataclass
class Deployment:
    name: str
    worker: ApiWorker
    http: httpx.Client
    telegram: FakeBotApi
    settings: ApiSettings
    log_path: Path
    rasa: RasaServer | None = None
    redis_patterns: list[str] = field(default_factory=list)

    @property
    def store(self) -> ConversationStore:
        return self.worker.app.state.context.store

    @property
    def tracker(self) -> TrackerStore | None:
        return self.worker.app.state.context.tracker_store

    def ask(self, session: str, question: str) -> dict:
        response = self.http.post("/v1/ask", json={"question": question, "session_id": session})
        assert response.status_code == 200, response.text
        return response.json()

    def telegram_update(self, payload: dict) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert self.http.post(WEBHOOK_PATH, json=payload, headers=headers).status_code == 200
        self.worker.flush_telegram()


DEPLOYMENTS = [
    "sqlite",
    "postgresql",
    pytest.param("rasa-sql", marks=pytest.mark.slow),
    pytest.param("rasa-redis", marks=pytest.mark.slow),
]


@pytest.fixture(scope="module", params=DEPLOYMENTS)
def deployment(request, fixture_service, new_postgres_database, tmp_path_factory) -> Iterator[Deployment]:
    name = request.param
    work = tmp_path_factory.mktemp(f"privacy-{name}")
    prefix = f"tthc{uuid.uuid4().hex[:8]}"  # this run's Rasa keys in Redis, apart from anyone else's
    values: dict = {"staff_token": STAFF_TOKEN, "telegram_bot_token": TOKEN, "telegram_webhook_secret": SECRET}
    if name != "sqlite":
        values.update(database_url=new_postgres_database(), redis_url=REDIS_URL)
    rasa = None
    if name.startswith("rasa"):
        request.getfixturevalue("rasa_installed")
        tracker_url = new_postgres_database() if name == "rasa-sql" else f"{REDIS_URL}?key_prefix={prefix}"
        stores = rasa_store_sections(tracker_url, f"{REDIS_URL}?key_prefix={prefix}")
        rasa = RasaServer(request.getfixturevalue("rasa_model"), stores, work / "rasa.log")
        values.update(rasa_url=rasa.url, rasa_tracker_store_url=tracker_url)
    settings = make_api_settings(work, **values)
    app = create_app(settings, service=fixture_service)
    fake = FakeBotApi()
    app.state.telegram.request = fake
    with production_logs(work / "api.log") as log_path:
        worker = ApiWorker(app, name)
        worker.start()
        http = httpx.Client(base_url=worker.url, timeout=60)
        patterns = ["tthc:rl:*", f"{prefix}:*"]
        try:
            if rasa is not None:
                rasa.start(f"{worker.url}/rasa/webhook")
                rasa.wait_ready()
            yield Deployment(name, worker, http, fake, settings, log_path, rasa, patterns)
        finally:
            if rasa is not None:
                rasa.stop()
            http.close()
            worker.stop()
            delete_redis_keys(f"{prefix}:*")


# -- what is stored, everywhere -----------------------------------------------------------------


def database_rows(url: str) -> Iterator[tuple[str, str]]:
    """(table, row as text) of every row of every table of the database at ``url``."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            for table in inspect(engine).get_table_names():
                for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                    yield (
                        table,
                        " | ".join(
                            value.decode(errors="replace") if isinstance(value, bytes) else str(value) for value in row
                        ),
                    )
    finally:
        engine.dispose()


def table_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: connection.execute(text(f'SELECT COUNT(*) FROM "{table}"')).scalar_one()
                for table in inspect(engine).get_table_names()
            }
    finally:
        engine.dispose()


def redis_entries(patterns: list[str]) -> Iterator[tuple[str, str]]:
    """(key, value as text) of the Redis keys matching ``patterns`` (strings; other types by name only)."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        for pattern in patterns:
            for key in client.scan_iter(match=pattern, count=500):
                value = client.get(key) if client.type(key) == b"string" else b""
                yield key.decode(errors="replace"), (value or b"").decode(errors="replace")
    finally:
        client.close()


def everything_stored(deployment: Deployment) -> Iterator[tuple[str, str]]:
    """(where, text) of all that the deployment keeps: store rows, Rasa's tracker store, Redis keys."""
    for table, row in database_rows(deployment.settings.resolved_database_url):
        yield f"store.{table}", row
    tracker_url = deployment.settings.rasa_tracker_store_url
    if tracker_url and not tracker_url.startswith("redis"):
        for table, row in database_rows(tracker_url):
            yield f"tracker.{table}", row
    for key, value in redis_entries(deployment.redis_patterns):
        yield f"redis {key}", f"{key} {value}"


# -- the scripted conversation ------------------------------------------------------------------


@dataclass
class Script:
    web_user: str
    telegram_user: int
    other_web_user: str
    other_telegram_user: int


def run_script(deployment: Deployment) -> Script:
    run = uuid.uuid4().hex[:8]
    script = Script(f"lan-{run}", 7_100_000_000 + int(run, 16) % 99_999, f"minh-{run}", 7_200_000_000)
    # Lan on the web widget: her numbers in a question, a follow-up, feedback, a search (a query string).
    first = deployment.ask(
        script.web_user,
        f"Tôi là Lan, CCCD {CCCD}, điện thoại 0912 345 678, email {EMAIL}. Đăng ký khai sinh cần giấy tờ gì?",
    )
    assert first["procedure"]["code"] == "1.001193"
    fee = deployment.ask(script.web_user, "thế lệ phí bao nhiêu?")
    assert fee["aspect"] == "fee" and fee["procedure"]["code"] == "1.001193"
    comment = f"Chưa rõ, gọi {PHONE} (hoặc +84912345678) hay gửi {EMAIL}"
    feedback = deployment.http.post(
        "/v1/feedback", json={"answer_id": fee["answer_id"], "useful": False, "comment": comment}
    )
    assert feedback.status_code == 201
    search = deployment.http.get("/v1/search", params={"q": f"khai sinh {CCCD} {EMAIL}"})
    assert search.status_code == 200
    invalid = deployment.http.post("/v1/ask", json={"question": f"CCCD {CCCD}", "session_id": "có dấu cách"})
    assert invalid.status_code == 422 and unmasked(invalid.text) == []  # the error does not echo the input
    # Lan on Telegram: the same values, a "not useful" button, a follow-up.
    chat = script.telegram_user
    deployment.telegram_update(
        message(1, f"CCCD của tôi {CCCD}, sđt {PHONE}, email {EMAIL}: đăng ký khai sinh ở đâu?", chat_id=chat)
    )
    reply = deployment.telegram.sent()[-1]
    assert reply["chat_id"] == chat and "1.001193" in reply["text"]
    deployment.telegram_update(press(2, buttons(reply)["Chưa hữu ích"], chat_id=chat))
    deployment.telegram_update(message(3, f"thế lệ phí bao nhiêu? số tôi {PHONE}", chat_id=chat))
    # Someone else, whose data must survive Lan's request.
    other = deployment.ask(script.other_web_user, "đăng ký khai sinh cần giấy tờ gì")
    deployment.http.post("/v1/feedback", json={"answer_id": other["answer_id"], "useful": True})
    deployment.telegram_update(message(4, "đăng ký tạm trú ở đâu", chat_id=script.other_telegram_user))
    return script


def forget_by_command(deployment: Deployment, channel: str, user_id: str, *options: str) -> dict[str, int]:
    """``python -m api forget``, configured through the environment as on a server."""
    settings = deployment.settings
    env = {
        **os.environ,
        "ASSISTANT_DATABASE_URL": settings.resolved_database_url,
        "ASSISTANT_RASA_TRACKER_STORE_URL": settings.rasa_tracker_store_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "api", "forget", channel, user_id, *options],
        cwd=REPOSITORY_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert unmasked(done.stdout + done.stderr) == []
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_personal_values_are_never_kept_unmasked_and_a_user_is_forgotten_on_request(
    deployment: Deployment, caplog
) -> None:
    script = run_script(deployment)
    store, tracker = deployment.store, deployment.tracker
    lan = [("web", script.web_user), ("telegram", str(script.telegram_user))]
    others = [("web", script.other_web_user), ("telegram", str(script.other_telegram_user))]

    # 1. Nothing unmasked anywhere: store rows, tracker store, Redis, logs (ours, uvicorn's, Rasa's).
    stored = list(everything_stored(deployment))
    assert {where.split(" ")[0] for where, _ in stored} >= {"store.interactions", "store.feedback"}
    assert [(where, row) for where, row in stored if unmasked(row)] == []
    assert any("**********05" in row for _, row in stored)  # the CCCD is there, masked
    if deployment.rasa is not None:
        assert any(
            where.startswith(("tracker.events", f"redis {deployment.redis_patterns[1][:-1]}")) for where, _ in stored
        )
    logs = deployment.log_path.read_text(encoding="utf-8")
    assert "/v1/search?q=" in logs and '"logger": "uvicorn.access"' in logs  # the access log was written
    assert unmasked(logs) == [] and unmasked(caplog.text) == []
    if deployment.rasa is not None:
        assert unmasked(deployment.rasa.log()) == []
    metrics = deployment.http.get("/metrics").text
    assert unmasked(metrics) == []

    # 2. Forget Lan: what she left, counted before and after; the other user's data untouched.
    before = {user: user_data(store, tracker, *user) for user in lan + others}
    web, telegram = before[lan[0]], before[lan[1]]
    assert web["sessions"] == 1 and web["interactions"] == 2 and web["feedback"] == 1
    assert telegram["sessions"] == 1 and telegram["interactions"] == 2 and telegram["feedback"] == 1
    assert telegram["channel_updates"] == 3
    if tracker is not None:
        assert web[RASA_EVENTS] > 0 and telegram[RASA_EVENTS] > 0
    totals = table_counts(deployment.settings.resolved_database_url)

    unauthorised = deployment.http.delete(f"/admin/users/web/{script.web_user}")
    assert unauthorised.status_code == 401
    staff = {"Authorization": f"Bearer {STAFF_TOKEN}"}
    unknown = deployment.http.delete("/admin/users/fax/123", headers=staff)
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "Không có kênh này. Các kênh: web, console, api, telegram, zalo."}
    response = deployment.http.delete(f"/admin/users/web/{script.web_user}", headers=staff)
    assert response.status_code == 200
    assert response.json() == {"channel": "web", "user_id": script.web_user, "deleted": web}
    assert forget_by_command(deployment, "telegram", str(script.telegram_user), "--dry-run") == telegram  # counts
    assert forget_by_command(deployment, "telegram", str(script.telegram_user)) == telegram

    for user in lan:
        assert set(user_data(store, tracker, *user).values()) == {0}, user
    for user in others:
        assert user_data(store, tracker, *user) == before[user], user
    after = table_counts(deployment.settings.resolved_database_url)
    for table in ("sessions", "interactions", "feedback", "channel_updates"):
        assert after[table] == totals[table] - web[table] - telegram[table], table
    again = deployment.http.delete(f"/admin/users/web/{script.web_user}", headers=staff)
    assert set(again.json()["deleted"].values()) == {0}  # nothing left: not an error

    # 3. The dialogue layer has forgotten her, not the other user: the same follow-up from both.
    assert deployment.ask(script.web_user, "thế lệ phí bao nhiêu?")["procedure"] is None
    other = deployment.ask(script.other_web_user, "thế lệ phí bao nhiêu?")
    assert other["procedure"]["code"] == "1.001193"
    if deployment.rasa is not None:
        assert OFFER_LINE in other["reply"]  # answered through Rasa, from the other user's tracker


@pytest.mark.slow
def test_retention_reaches_rasa_and_the_trimmed_conversations_go_on(deployment: Deployment) -> None:
    """Age one conversation past the retention period in both stores: it goes; a fresh one stays and
    continues through Rasa (a trimmed tracker store is still one Rasa can read and write)."""
    if deployment.rasa is None:
        pytest.skip("the store-only deployments are covered by test_dialogue_wiring and the tests below")
    store, tracker = deployment.store, deployment.tracker
    old, fresh = f"old-{uuid.uuid4().hex[:8]}", f"fresh-{uuid.uuid4().hex[:8]}"
    deployment.ask(old, "đăng ký khai sinh cần giấy tờ gì")
    deployment.ask(fresh, "đăng ký khai sinh cần giấy tờ gì")
    old_events = tracker.count(f"web:{old}")
    age_conversation(deployment, f"web:{old}", days=40)
    assert apply_retention(store, tracker, 30) == {"interactions": 1, RASA_EVENTS: old_events}
    assert set(user_data(store, tracker, "web", old).values()) == {0}
    fee = deployment.ask(fresh, "thế lệ phí bao nhiêu?")
    assert fee["procedure"]["code"] == "1.001193" and OFFER_LINE in fee["reply"]


def age_conversation(deployment: Deployment, session_key: str, days: int) -> None:
    """Move one conversation ``days`` into the past, in the store and in Rasa's tracker store."""
    shift = timedelta(days=days)
    with deployment.store.engine.begin() as connection:
        for table, column in ((interactions, interactions.c.created_at), (sessions, sessions.c.updated_at)):
            connection.execute(
                table.update().where(table.c.session_key == session_key).values({column: column - shift})
            )
    tracker = deployment.tracker
    if isinstance(tracker, SqlTrackerStore):
        with tracker.engine.begin() as connection:
            connection.execute(
                events.update()
                .where(events.c.sender_id == session_key)
                .values(timestamp=events.c.timestamp - shift.total_seconds())
            )
    elif isinstance(tracker, RedisTrackerStore):
        key = f"{tracker.prefix}{session_key}"
        stored = json.loads(tracker.redis.get(key))
        for event in stored["events"]:
            event["timestamp"] -= shift.total_seconds()
        tracker.redis.set(key, json.dumps(stored), keepttl=True)


# -- retention in Rasa's tracker stores, without Rasa -------------------------------------------


def rasa_event(sender: str, when: datetime, kind: str = "user") -> dict:
    return {"sender_id": sender, "type_name": kind, "timestamp": when.timestamp(), "data": json.dumps({"event": kind})}


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_tracker_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rasa.db'}"
    return request.getfixturevalue("new_postgres_database")().replace("+psycopg", "")  # as Rasa is given it


def test_retention_deletes_old_events_of_a_sql_tracker_store(sql_tracker_url: str, tmp_path: Path) -> None:
    tracker = open_tracker_store(sql_tracker_url)
    assert isinstance(tracker, SqlTrackerStore)
    store = ConversationStore(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    assert apply_retention(store, tracker, 30) == {"interactions": 0, RASA_EVENTS: 0}  # Rasa never started
    events.metadata.create_all(tracker.engine)  # what Rasa creates at its first start (same columns)
    now = datetime.now(UTC)
    rows = [
        rasa_event("web:old", now - timedelta(days=40)),
        rasa_event("web:old", now - timedelta(days=31)),
        rasa_event("web:both", now - timedelta(days=35)),
        rasa_event("web:both", now - timedelta(days=1)),
        rasa_event("web:new", now),
    ]
    with tracker.engine.begin() as connection:
        connection.execute(insert(events), rows)
    assert apply_retention(store, tracker, 30) == {"interactions": 0, RASA_EVENTS: 3}
    assert [tracker.count(sender) for sender in ("web:old", "web:both", "web:new")] == [0, 1, 1]
    assert tracker.forget("web:both") == 1 and tracker.count() == 1
    tracker.close()
    store.close()


def test_retention_trims_a_redis_tracker_store(tmp_path: Path) -> None:
    prefix = f"tthc{uuid.uuid4().hex[:8]}"
    tracker = open_tracker_store(f"{REDIS_URL}?key_prefix={prefix}")
    assert isinstance(tracker, RedisTrackerStore) and tracker.prefix == f"{prefix}:tracker:"
    now = datetime.now(UTC)

    def stored(days_ago: list[int]) -> str:
        return json.dumps(
            {
                "events": [{"event": "user", "timestamp": (now - timedelta(days=d)).timestamp()} for d in days_ago],
                "name": "x",
            }
        )

    client = tracker.redis
    client.set(f"{prefix}:tracker:web:old", stored([40, 31]), ex=3600)
    client.set(f"{prefix}:tracker:web:both", stored([35, 1, 0]), ex=3600)
    client.set(f"{prefix}:tracker:web:new", stored([0]))
    store = ConversationStore(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        assert apply_retention(store, tracker, 30) == {"interactions": 0, RASA_EVENTS: 3}
        assert client.get(f"{prefix}:tracker:web:old") is None
        both = json.loads(client.get(f"{prefix}:tracker:web:both"))
        assert len(both["events"]) == 2 and both["name"] == "x"
        assert 0 < client.ttl(f"{prefix}:tracker:web:both") <= 3600  # the expiry Rasa set is kept
        assert [tracker.count(f"web:{name}") for name in ("old", "both", "new")] == [0, 2, 1]
        assert tracker.forget("web:both") == 2 and client.get(f"{prefix}:tracker:web:both") is None
    finally:
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
        tracker.close()
        store.close()


def test_the_app_applies_retention_to_the_tracker_store_at_start_up(tmp_path: Path, fixture_service) -> None:
    from fastapi.testclient import TestClient

    tracker_url = f"sqlite:///{tmp_path / 'rasa.db'}"
    tracker = open_tracker_store(tracker_url)
    events.metadata.create_all(tracker.engine)
    now = datetime.now(UTC)
    with tracker.engine.begin() as connection:
        connection.execute(insert(events), [rasa_event("web:a", now - timedelta(days=31)), rasa_event("web:a", now)])
    settings = make_api_settings(tmp_path, retention_days=30, rasa_tracker_store_url=tracker_url)
    with TestClient(create_app(settings, service=fixture_service)):
        deadline = time.monotonic() + 10
        while tracker.count() > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    with tracker.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(events)).scalar_one() == 1
    tracker.close()


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_a_store_made_before_channel_updates_had_a_user_column_gets_it(
    engine_name: str, request, tmp_path: Path
) -> None:
    if engine_name == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        url = request.getfixturevalue("new_postgres_database")()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE channel_updates (channel VARCHAR(20) NOT NULL, update_id VARCHAR(100) NOT NULL, "
                "payload TEXT NOT NULL, received_at TIMESTAMP WITH TIME ZONE NOT NULL, "
                "handled_at TIMESTAMP WITH TIME ZONE, replay_claimed_at TIMESTAMP WITH TIME ZONE, "
                "PRIMARY KEY (channel, update_id))"
            )
        )
    engine.dispose()
    store = ConversationStore(url)
    assert store.claim_update("zalo", "m1", {"text": "hi"}, user_id="u1") is True
    assert store.user_rows("zalo", "u1")["channel_updates"] == 1
    assert "ix_channel_updates_user_id" in {
        index["name"] for index in inspect(store.engine).get_indexes("channel_updates")
    }
    store.close()
    ConversationStore(url).close()  # a second start finds the column there
