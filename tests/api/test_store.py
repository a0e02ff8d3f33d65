"""The conversation store on SQLite (default) and on the PostgreSQL at 127.0.0.1:5432."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from api.store import ConversationStore, UnknownAnswer
from knowledge.answer.contract import Answer, CandidateView
from knowledge.dialogue import DialogueState

POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def postgres_url():
    """A throw-away database on the local PostgreSQL; the test fails (not skips) if it is down."""
    name = f"tthc_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def an_answer(decision: str = "abstain", text_: str = "Xin lỗi…") -> Answer:
    return Answer(
        question="q",
        decision=decision,
        aspect="general",
        text=text_,
        candidates=[CandidateView(code="1.001193", name="Khai sinh", score=0.5)],
    )


def test_turns_and_state_survive_a_new_store(database_url: str) -> None:
    session = f"web:{uuid.uuid4().hex}"
    first = ConversationStore(database_url)
    answer_id = first.record_turn(
        session, "web", "gọi 0912345678 hỏi khai sinh", an_answer(), DialogueState("1.001193")
    )
    first.close()
    second = ConversationStore(database_url)  # another worker, or the same one after a restart
    assert second.load_state(session) == DialogueState("1.001193", [])
    [turn] = second.turns(session)
    assert turn.answer_id == answer_id and turn.question == "gọi ********78 hỏi khai sinh"
    assert any(t.answer_id == answer_id for t in second.unanswered())
    second.close()


def test_state_is_updated_not_duplicated(database_url: str) -> None:
    store = ConversationStore(database_url)
    session = f"web:{uuid.uuid4().hex}"
    store.record_turn(session, "web", "a", an_answer("clarify"), DialogueState(None, ["1.001193", "2.000986"]))
    store.record_turn(session, "web", "1", an_answer("answer"), DialogueState("1.001193"))
    assert store.load_state(session) == DialogueState("1.001193", [])
    assert len(store.turns(session)) == 2
    store.close()


def test_feedback_needs_a_known_answer(database_url: str) -> None:
    store = ConversationStore(database_url)
    answer_id = store.record_turn(f"web:{uuid.uuid4().hex}", "web", "q", an_answer(), DialogueState())
    store.add_feedback(answer_id, True, "email a.b@example.com")
    assert store.feedback_for(answer_id) == [(True, "email a***@example.com")]
    with pytest.raises(UnknownAnswer):
        store.add_feedback("f" * 32, False)
    store.close()


def test_a_repeated_update_is_claimed_once_across_workers(database_url: str) -> None:
    worker_a, worker_b = ConversationStore(database_url), ConversationStore(database_url)
    update_id = uuid.uuid4().hex
    assert worker_a.claim_update("telegram", update_id, {"text": "CCCD 001203004005"}) is True
    assert worker_b.claim_update("telegram", update_id, {"text": "CCCD 001203004005"}) is False
    pending = dict(worker_b.unhandled_updates("telegram"))
    assert pending[update_id] == {"text": "CCCD **********05"}
    worker_a.mark_update_handled("telegram", update_id)
    assert update_id not in dict(worker_b.unhandled_updates("telegram"))
    worker_a.close()
    worker_b.close()


def test_an_acknowledged_turn_survives_a_crash(tmp_path: Path) -> None:
    """A process that records a turn and dies at once (no clean shutdown) loses nothing it returned."""
    url = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
    script = (
        "import os, sys\n"
        "from api.store import ConversationStore\n"
        "from knowledge.dialogue import DialogueState\n"
        "from knowledge.answer.contract import Answer\n"
        f"store = ConversationStore({url!r})\n"
        "answer = Answer(question='q', decision='abstain', aspect='general', text='t')\n"
        "answer_id = store.record_turn('web:x', 'web', 'q', answer, DialogueState())\n"
        "print(answer_id, flush=True)\n"
        "os._exit(9)\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script], cwd=REPOSITORY_ROOT, capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 9, finished.stderr
    answer_id = finished.stdout.strip()
    assert ConversationStore(url).turn(answer_id) is not None


def test_the_api_runs_on_postgresql(postgres_url: str, tmp_path: Path, fixture_service) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.conftest import make_api_settings

    settings = make_api_settings(tmp_path, database_url=postgres_url)
    with TestClient(create_app(settings, service=fixture_service)) as client:
        body = client.post("/v1/ask", json={"question": "đăng ký khai sinh ở đâu", "session_id": "pg"}).json()
        assert body["procedure"]["code"] == "1.001193"
        feedback = client.post("/v1/feedback", json={"answer_id": body["answer_id"], "useful": True})
        assert feedback.status_code == 201
        assert client.get("/health/ready").json()["checks"]["store"] == "ok"
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT question FROM interactions WHERE id = :id"), {"id": body["answer_id"]})
        assert stored.scalar_one() == "đăng ký khai sinh ở đâu"
    engine.dispose()


def test_platform_ids_survive_masking_and_replay_is_claimed_once(database_url: str) -> None:
    worker_a, worker_b = ConversationStore(database_url), ConversationStore(database_url)
    update_id = str(800_000_000 + uuid.uuid4().int % 99_999_999)  # Telegram-sized: 9 digits
    payload = {"update_id": int(update_id), "message": {"chat": {"id": 123456789}, "text": "sđt 0912345678"}}
    worker_a.claim_update("telegram", update_id, payload)
    assert worker_b.unhandled_updates("telegram", older_than_seconds=3600) == []  # too young: maybe in progress
    stored = dict(worker_b.unhandled_updates("telegram"))[update_id]
    assert stored["message"]["chat"]["id"] == 123456789 and stored["message"]["text"] == "sđt ********78"
    assert [worker_a.claim_replay("telegram", update_id), worker_b.claim_replay("telegram", update_id)] == [True, False]
    assert update_id not in dict(worker_b.unhandled_updates("telegram"))
    worker_a.close()
    worker_b.close()
