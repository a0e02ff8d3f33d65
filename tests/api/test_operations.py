"""Operations: the offline switch, JSON logs with the request id, per-stage and version metrics."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import offline
from api.app import create_app
from api.logs import JsonFormatter, MaskPiiFilter
from tests.api.test_telegram import SECRET, Chat, FakeBotApi, message, start_app
from tests.conftest import make_api_settings

STAFF = {"Authorization": "Bearer staff-secret"}
PAUSE = "Trợ lý tạm dừng từ 22h đến 23h để nâng cấp. Gọi 1900 1009 nếu cần gấp."


def ask(client: TestClient, question: str, session: str = "ops"):
    return client.post("/v1/ask", json={"question": question, "session_id": session})


@pytest.fixture(autouse=True)
def no_switch_cache(monkeypatch) -> None:
    monkeypatch.setattr(offline, "CACHE_SECONDS", 0.0)  # every read sees the shared switch at once


def test_staff_pause_every_worker_and_questions_are_still_kept(tmp_path: Path, fixture_service) -> None:
    settings = make_api_settings(tmp_path, staff_token="staff-secret")
    with (
        TestClient(create_app(settings, service=fixture_service)) as worker_a,
        TestClient(create_app(settings, service=fixture_service)) as worker_b,
    ):
        assert worker_a.put("/admin/offline", json={"message": PAUSE}).status_code == 401
        paused = worker_a.put("/admin/offline", json={"message": PAUSE}, headers=STAFF).json()
        assert paused == {"offline": True, "message": PAUSE}
        response = ask(worker_b, "đăng ký khai sinh cần giấy tờ gì")
        assert response.status_code == 200
        body = response.json()
        assert body["reply"] == PAUSE and body["decision"] == "abstain" and body["procedure"] is None
        stored = worker_b.app.state.context.store.turn(body["answer_id"])
        assert stored is not None and stored.question == "đăng ký khai sinh cần giấy tờ gì"
        assert "tthc_offline 1.0" in worker_b.get("/metrics").text

        assert worker_b.delete("/admin/offline", headers=STAFF).json() == {"offline": False, "message": ""}
        resumed = ask(worker_a, "đăng ký khai sinh cần giấy tờ gì").json()
        assert resumed["decision"] == "answer" and resumed["procedure"]["code"] == "1.001193"


def test_pause_without_a_message_uses_the_default(tmp_path: Path, fixture_service) -> None:
    settings = make_api_settings(tmp_path, staff_token="staff-secret")
    with TestClient(create_app(settings, service=fixture_service)) as client:
        client.put("/admin/offline", json={}, headers=STAFF)
        assert ask(client, "lam cccd o dau").json()["reply"] == offline.DEFAULT_MESSAGE


def test_configured_pause_holds_until_the_setting_is_removed(tmp_path: Path, fixture_service) -> None:
    settings = make_api_settings(tmp_path, staff_token="staff-secret", offline_message=PAUSE)
    with TestClient(create_app(settings, service=fixture_service)) as client:
        assert ask(client, "lam cccd o dau").json()["reply"] == PAUSE
        assert client.delete("/admin/offline", headers=STAFF).json() == {"offline": True, "message": PAUSE}


def test_telegram_keeps_answering_200_with_the_pause_message(tmp_path: Path, fixture_service) -> None:
    api = FakeBotApi()
    with start_app(tmp_path, fixture_service, api, staff_token="staff-secret") as client:
        client.put("/admin/offline", json={"message": PAUSE}, headers=STAFF)
        chat = Chat(client, api)
        response = chat.post(message(501, "đăng ký khai sinh cần giấy tờ gì"), secret=SECRET)
        assert response.status_code == 200
        assert chat.last_reply()["text"] == PAUSE


def test_log_lines_are_json_with_the_request_id(tmp_path: Path, fixture_service) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(MaskPiiFilter())
    logger = logging.getLogger("api.rasa")
    logger.addHandler(handler)
    try:
        # Rasa configured but not running: the degraded-mode warning is logged while serving the request
        settings = make_api_settings(tmp_path, rasa_url="http://127.0.0.1:9", rasa_timeout_seconds=0.5)
        with TestClient(create_app(settings, service=fixture_service)) as client:
            response = ask(client, "CCCD 001203004005, làm khai sinh ở đâu")
            assert response.status_code == 200 and response.json()["procedure"]["code"] == "1.001193"
            metrics = client.get("/metrics").text
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    warning = next(line for line in lines if line["logger"] == "api.rasa")
    assert warning["level"] == "WARNING" and "degraded" in warning["message"]
    assert warning["request_id"] == response.headers["x-request-id"]
    assert "001203004005" not in stream.getvalue()
    assert "tthc_rasa_up 0.0" in metrics


def test_metrics_per_stage_and_knowledge_version(client) -> None:
    ask(client, "đăng ký khai sinh cần giấy tờ gì")
    metrics = client.get("/metrics").text
    assert re.search(r'tthc_stage_seconds_count\{stage="retrieval"\} [1-9]', metrics)
    assert re.search(r'tthc_stage_seconds_count\{stage="store"\} [1-9]', metrics)
    assert 'stage="rasa"' not in metrics  # no Rasa configured: no Rasa stage to time
    assert 'tthc_knowledge_build_info{build_id="in-memory"} 1.0' in metrics
