"""Two API workers and two Rasa instances sharing PostgreSQL and Redis: the scale-out configuration, for real.

    worker A (port a) ──> Rasa 1 ──actions──> worker A
    worker B (port b) ──> Rasa 2 ──actions──> worker B
    shared: the store (a throw-away PostgreSQL database), the rate limits (Redis), Rasa's tracker
            store (another throw-away PostgreSQL database) and lock store (Redis)

The workers are whole apps, each with its own ``create_app``, store engine, Redis limiter and Telegram
bot (with its own fake Bot API), served by uvicorn on their own ports in this process so that they
share the 47-record answer service instead of each loading the full knowledge base. Nothing is kept
between the two sides but what the engines hold, so a conversation that continues on the other
worker and the other Rasa shows that no state lives in a process.

Slow: two Rasa servers load the model (tens of seconds on two cores).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from api.app import create_app
from api.channels.telegram_bot import WEBHOOK_PATH
from api.settings import ApiSettings
from api.store import ConversationStore
from bot.actions.actions import OFFER_LINE
from bot.stores import rasa_store_sections
from tests.api.test_telegram import SECRET, TOKEN, FakeBotApi, message
from tests.conftest import REDIS_URL
from tests.workers import ApiWorker, RasaServer, delete_redis_keys

pytestmark = pytest.mark.slow

USER_LIMIT = 4  # requests per minute per chat session, low enough to spend in a test


@dataclass
class Side:
    worker: ApiWorker
    rasa: RasaServer
    telegram: FakeBotApi
    http: httpx.Client

    def ask(self, session: str, question: str) -> httpx.Response:
        return self.http.post("/v1/ask", json={"question": question, "session_id": session})


@dataclass
class Cluster:
    a: Side
    b: Side
    store_url: str
    tracker_url: str
    lock_prefix: str


@pytest.fixture(scope="module")
def cluster(rasa_model: Path, fixture_service, new_postgres_database, tmp_path_factory) -> Iterator[Cluster]:
    work = tmp_path_factory.mktemp("scale-out")
    store_url, tracker_url = new_postgres_database(), new_postgres_database()
    lock_prefix = f"tthc{uuid.uuid4().hex[:8]}"  # this run's locks, apart from anyone else's on this Redis
    stores = rasa_store_sections(tracker_url, f"redis://127.0.0.1:6379/0?key_prefix={lock_prefix}")
    rasas = [RasaServer(rasa_model, stores, work / f"rasa-{name}.log") for name in "12"]
    sides = []
    for name, rasa in zip("ab", rasas, strict=True):
        settings = ApiSettings(
            database_url=store_url,
            redis_url=REDIS_URL,
            rasa_url=rasa.url,
            rasa_tracker_store_url=tracker_url,
            rate_limit_user_per_minute=USER_LIMIT,
            telegram_bot_token=TOKEN,
            telegram_webhook_secret=SECRET,
        )
        app = create_app(settings, service=fixture_service)
        fake = FakeBotApi()
        app.state.telegram.request = fake
        worker = ApiWorker(app, name)
        worker.start()
        sides.append(Side(worker, rasa, fake, httpx.Client(base_url=worker.url, timeout=60)))
    try:
        for side in sides:  # both load the model at the same time
            side.rasa.start(f"{side.worker.url}/rasa/webhook")
        for side in sides:
            side.rasa.wait_ready()
        yield Cluster(sides[0], sides[1], store_url, tracker_url, lock_prefix)
    finally:
        for side in sides:
            side.rasa.stop()
            side.http.close()
            side.worker.stop()
        delete_redis_keys(f"{lock_prefix}:*")


def test_the_rasa_instances_use_the_shared_stores(cluster: Cluster) -> None:
    for side in (cluster.a, cluster.b):
        assert side.http.get("/health/ready").json()["checks"]["rasa"] == "ok"
        endpoints = side.rasa.process.args[side.rasa.process.args.index("--endpoints") + 1]
        written = Path(endpoints).read_text(encoding="utf-8")
        assert (
            "tracker_store:\n  type: SQL\n  dialect: postgresql" in written and "lock_store:\n  type: redis" in written
        )


def test_one_conversation_continues_across_workers(cluster: Cluster) -> None:
    session = f"across-{uuid.uuid4().hex[:8]}"
    first = cluster.a.ask(session, "đăng ký khai sinh cần giấy tờ gì").json()
    assert first["procedure"]["code"] == "1.001193" and first["aspect"] == "documents"
    assert OFFER_LINE in first["reply"]  # written by a custom action: the turn went through Rasa 1
    fee = cluster.b.ask(session, "thế lệ phí bao nhiêu?").json()
    assert fee["aspect"] == "fee" and fee["procedure"]["code"] == "1.001193" and "Miễn phí" in fee["reply"]
    assert OFFER_LINE in fee["reply"]  # Rasa 2 read the procedure from the tracker Rasa 1 stored
    # Back on A: the guided online form, which only the dialogue layer has, picks up B's offer.
    account = cluster.a.ask(session, "có").json()
    assert "VNeID mức độ 2" in account["reply"] and account["procedure"]["code"] == "1.001193"
    store = ConversationStore(cluster.store_url)
    assert [turn.procedure_code for turn in store.turns(f"web:{session}")] == ["1.001193"] * 3
    store.close()
    engine = create_engine(cluster.tracker_url)
    with engine.connect() as connection:
        said = connection.execute(
            text("SELECT data FROM events WHERE sender_id = :sender AND type_name = 'user' ORDER BY id"),
            {"sender": f"web:{session}"},
        ).scalars()
        assert [json.loads(row)["text"] for row in said] == [
            "đăng ký khai sinh cần giấy tờ gì",
            "thế lệ phí bao nhiêu?",
            "có",
        ]
    engine.dispose()


def test_a_duplicate_webhook_delivered_to_both_workers_is_answered_once(cluster: Cluster) -> None:
    chat_id = 7_000_000_000 + uuid.uuid4().int % 999_999_999
    update = message(int(uuid.uuid4().int % 2**31), "đăng ký khai sinh ở đâu", chat_id=chat_id)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    responses: dict[str, int] = {}
    start = threading.Barrier(2)

    def deliver(side: Side, name: str) -> None:
        start.wait()  # both at the same moment, as a retry racing the first delivery
        responses[name] = side.http.post(WEBHOOK_PATH, json=update, headers=headers).status_code

    threads = [
        threading.Thread(target=deliver, args=(side, name)) for side, name in ((cluster.a, "a"), (cluster.b, "b"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    cluster.a.worker.flush_telegram()
    cluster.b.worker.flush_telegram()
    assert responses == {"a": 200, "b": 200}  # Telegram must see 200 from both, or it sends again
    sent = [reply for side in (cluster.a, cluster.b) for reply in side.telegram.sent() if reply["chat_id"] == chat_id]
    assert len(sent) == 1 and "1.001193" in sent[0]["text"]
    store = ConversationStore(cluster.store_url)
    assert len(store.turns(f"telegram:{chat_id}")) == 1
    assert store.unhandled_updates("telegram") == []  # the one that took it marked it handled
    store.close()


def test_rate_limits_are_spent_across_workers(cluster: Cluster) -> None:
    session = f"limits-{uuid.uuid4().hex[:8]}"
    sides = [cluster.a, cluster.b] * USER_LIMIT
    statuses = [side.ask(session, "xin chào").status_code for side in sides[: USER_LIMIT + 2]]
    assert statuses == [200] * USER_LIMIT + [429, 429]  # 2 + 2 allowed, then refused on both workers
    refused = cluster.b.ask(session, "xin chào")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert cluster.a.ask(f"other-{session}", "xin chào").status_code == 200  # another session is not affected


def test_per_address_limits_count_the_client_behind_a_trusted_balancer(fixture_service, new_postgres_database) -> None:
    """Two workers behind a balancer at 127.0.0.1 (trusted: ``--forwarded-allow-ips``) share each client's
    per-address budget; a worker that does not trust the sender ignores a forged X-Forwarded-For."""
    values = {"database_url": new_postgres_database(), "redis_url": REDIS_URL, "rate_limit_search_per_minute": 2}
    trusting = [
        ApiWorker(create_app(ApiSettings(**values), service=fixture_service), n, forwarded_allow_ips="127.0.0.1")
        for n in "ab"
    ]
    wary = ApiWorker(create_app(ApiSettings(**values), service=fixture_service), "c", forwarded_allow_ips="10.0.0.1")
    workers = [*trusting, wary]
    for worker in workers:
        worker.start()
    try:

        def search(worker: ApiWorker, forwarded: str, source: str = "127.0.0.1") -> int:
            with httpx.Client(transport=httpx.HTTPTransport(local_address=source)) as http:
                headers = {"X-Forwarded-For": forwarded}
                return http.get(f"{worker.url}/v1/search", params={"q": "khai sinh"}, headers=headers).status_code

        client, neighbour = fresh_address(), fresh_address()  # fresh budgets: reruns do not meet old counts
        spent = [search(trusting[0], client), search(trusting[1], client), search(trusting[0], client)]
        assert spent == [200, 200, 429]
        assert search(trusting[1], neighbour) == 200  # another client behind the same balancer
        # Not trusted: the header is ignored and the connection's address counts (forging it dodges nothing).
        source = f"127.{uuid.uuid4().int % 250 + 1}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
        assert [search(wary, fresh_address(), source) for _ in range(3)] == [200, 200, 429]
    finally:
        for worker in workers:
            worker.stop()


def fresh_address() -> str:
    """An address of the IPv6 documentation range no earlier run used."""
    digits = uuid.uuid4().hex
    return f"2001:db8::{digits[:4]}:{digits[4:8]}"
