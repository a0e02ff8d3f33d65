"""The dialogue layer with the real Rasa 3.6 (its own environment, .venv-rasa): validate, train, test.

Slow: the model is trained once per test run (about a minute on two cores; an unchanged model is
reused from artifacts/rasa/models, named by the hash of its training files), then the story tests,
the held-out intent F1, a conversation through POST /v1/ask with a live Rasa server calling the
app's actions, and the same API with Rasa stopped (degraded mode).
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select

from bot import server
from bot.actions.actions import OFFER_LINE
from knowledge.settings import REPOSITORY_ROOT
from tests.live_stack import live_stack

pytestmark = pytest.mark.slow

HELD_OUT = REPOSITORY_ROOT / "bot" / "tests" / "nlu_heldout.yml"
MIN_MACRO_F1 = 0.90


def rasa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        server.rasa_command(*args),
        cwd=REPOSITORY_ROOT,
        env=server.rasa_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_training_data_validates(rasa_installed) -> None:
    result = rasa("data", "validate", "--config", "config.yml", "--domain", "bot/domain.yml", "--data", "bot/data")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_stories_pass_without_prediction_errors(rasa_model: Path, tmp_path: Path) -> None:
    result = rasa(
        "test", "core",
        "--stories", "bot/tests",
        "--model", str(rasa_model),
        "--out", str(tmp_path),
        "--fail-on-prediction-errors",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    report = json.loads((tmp_path / "story_report.json").read_text(encoding="utf-8"))
    assert report["conversation_accuracy"]["accuracy"] == 1.0
    assert report["conversation_accuracy"]["total"] >= 25


def macro_f1(pairs: list[tuple[str, str]]) -> tuple[float, dict[str, float]]:
    """Macro-F1 over the gold intents of (gold, predicted) pairs; nlu_fallback counts as wrong."""
    labels = sorted({gold for gold, _ in pairs})
    scores = {}
    for label in labels:
        tp = sum(1 for gold, predicted in pairs if gold == label and predicted == label)
        fp = sum(1 for gold, predicted in pairs if gold != label and predicted == label)
        fn = sum(1 for gold, predicted in pairs if gold == label and predicted != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores[label] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return sum(scores.values()) / len(scores), scores


def test_macro_f1_of_the_held_out_messages(rasa_model: Path, tmp_path: Path) -> None:
    result = rasa(
        "test", "nlu", "--nlu", str(HELD_OUT), "--model", str(rasa_model), "--out", str(tmp_path), "--successes"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    predictions = []
    for name in ("intent_successes.json", "intent_errors.json"):
        path = tmp_path / name
        if path.exists():
            predictions += json.loads(path.read_text(encoding="utf-8"))
    pairs = [(item["intent"], (item["intent_prediction"] or {}).get("name") or "") for item in predictions]
    held_out = yaml.safe_load(HELD_OUT.read_text(encoding="utf-8"))["nlu"]
    assert len(pairs) == sum(len([x for x in item["examples"].splitlines() if x.strip()]) for item in held_out)
    score, by_intent = macro_f1(pairs)
    errors = Counter((gold, predicted) for gold, predicted in pairs if gold != predicted)
    print(f"\nheld-out intent macro-F1 {score:.3f} over {len(pairs)} messages; errors: {dict(errors)}")
    assert score >= MIN_MACRO_F1, by_intent


# -- the API with a live Rasa server ----------------------------------------------------------


@pytest.fixture(scope="module")
def stack(rasa_model: Path, fixture_service, tmp_path_factory):
    with live_stack(fixture_service, rasa_model, tmp_path_factory.mktemp("live")) as live:
        yield live


@pytest.fixture(scope="module")
def api(stack):
    with httpx.Client(base_url=stack.api_url, timeout=60) as client:
        yield client


def say(api: httpx.Client, session: str, question: str) -> dict:
    response = api.post("/v1/ask", json={"question": question, "session_id": session})
    assert response.status_code == 200, response.text
    return response.json()


def test_readiness_reports_rasa(api) -> None:
    body = api.get("/health/ready").json()
    assert body["status"] == "ok" and body["checks"]["rasa"] == "ok"


def test_a_conversation_through_the_api_and_rasa(api, stack) -> None:
    first = say(api, "e2e", "đăng ký khai sinh cần giấy tờ gì")
    assert first["decision"] == "answer" and first["procedure"]["code"] == "1.001193"
    assert first["aspect"] == "documents" and OFFER_LINE in first["reply"]  # written by the custom action
    fee = say(api, "e2e", "thế lệ phí bao nhiêu?")
    assert fee["aspect"] == "fee" and fee["procedure"]["code"] == "1.001193" and "Miễn phí" in fee["reply"]
    account = say(api, "e2e", "có")
    assert "VNeID mức độ 2" in account["reply"] and account["procedure"]["code"] == "1.001193"
    login = say(api, "e2e", "chưa có")
    assert "tài khoản định danh điện tử mức độ 2" in login["reply"] and "Bước 1 — Đăng nhập" in login["reply"]
    documents = say(api, "e2e", "tiếp")
    assert documents["reply"].startswith("Bước 2") and "không phải nộp bản giấy" in documents["reply"]
    stuck = say(api, "e2e", "tôi bị kẹt rồi")
    assert "Điểm hỗ trợ Dịch vụ công số" in stuck["reply"] and "Bước 2" in stuck["reply"]  # help, then the step again
    payment = say(api, "e2e", "xong rồi")
    assert payment["reply"].startswith("Bước 3") and "Miễn phí" in payment["reply"]
    result = say(api, "e2e", "ok xong")
    assert result["reply"].startswith("Bước 4") and "Giấy khai sinh" in result["reply"]
    handover = say(api, "e2e", "cho tôi gặp tổng đài viên")
    assert "1900 1009" in handover["reply"] and "kiemsoatthutuchanhchinh@hanoi.gov.vn" in handover["reply"]
    store = stack.app.state.context.store
    from api.store import sessions

    with store.engine.connect() as connection:
        flagged = connection.execute(select(sessions.c.handover).where(sessions.c.session_key == "web:e2e")).scalar()
    assert flagged is True
    assert len(store.turns("web:e2e")) == 9


def test_a_life_event_then_a_pick(api) -> None:
    event = say(api, "life", "tôi vừa sinh con")
    assert event["decision"] == "clarify" and [o["code"] for o in event["options"]] == ["2.000986", "1.001193"]
    pick = say(api, "life", "số 2")
    assert pick["decision"] == "answer" and pick["procedure"]["code"] == "1.001193"


def test_small_talk_and_out_of_scope(api) -> None:
    assert say(api, "talk", "xin chào")["reply"].startswith("Xin chào!")
    refused = say(api, "talk", "giá vàng hôm nay bao nhiêu")
    assert refused["decision"] == "abstain" and "chỉ hỗ trợ về thủ tục hành chính" in refused["reply"]


def test_degraded_mode_with_rasa_stopped(api, stack) -> None:
    server.stop(stack.rasa)
    body = say(api, "degraded", "đăng ký khai sinh cần giấy tờ gì")
    assert body["decision"] == "answer" and body["procedure"]["code"] == "1.001193"
    assert OFFER_LINE not in body["reply"]  # answered directly by the answer service
    follow_up = say(api, "degraded", "thế lệ phí bao nhiêu?")
    assert follow_up["aspect"] == "fee" and follow_up["procedure"]["code"] == "1.001193"
    ready = api.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["checks"]["rasa"] == "unreachable"
