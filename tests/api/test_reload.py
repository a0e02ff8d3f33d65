"""A refreshed knowledge base is served without restarting the API; a bad one never replaces the old."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from knowledge.refresh import refresh
from knowledge.service import AnswerService
from knowledge.settings import KnowledgeSettings
from tests.conftest import FIXTURE_RECORDS, make_api_settings

STAFF = {"Authorization": "Bearer staff-secret"}


def write_source(path: Path, new_direct_fee: str | None = None) -> Path:
    lines = []
    for line in FIXTURE_RECORDS.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if new_direct_fee and record["ma_thu_tuc"] == "1.001193":
            record["cach_thuc_thuc_hien"] = record["cach_thuc_thuc_hien"].replace(
                "Trực tiếp1Miễn phí", f"Trực tiếp1{new_direct_fee}"
            )
        lines.append(json.dumps(record, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def knowledge(tmp_path: Path) -> KnowledgeSettings:
    from knowledge.build import build

    settings = KnowledgeSettings(
        source_path=write_source(tmp_path / "v1.jsonl"),
        data_dir=tmp_path / "data",
        query_encoder="none",
        document_encoder="none",
    )
    build(settings, progress=False)
    return settings


def fee_reply(client: TestClient) -> str:
    body = client.post(
        "/v1/ask", json={"question": "", "session_id": "fee", "procedure_code": "1.001193", "aspect": "fee"}
    ).json()
    return body["reply"]


def test_reload_endpoint_serves_the_refreshed_fee_without_restart(tmp_path: Path, knowledge) -> None:
    settings = make_api_settings(tmp_path, staff_token="staff-secret", reload_interval_seconds=0)
    with TestClient(create_app(settings, knowledge=knowledge)) as client:
        assert "8.000 đồng" not in fee_reply(client)
        before = client.get("/admin/knowledge", headers=STAFF).json()["build_id"]
        refresh(knowledge, write_source(tmp_path / "v2.jsonl", "8,000 Việt Nam Đồng"), progress=False)
        assert "8.000 đồng" not in fee_reply(client)  # nothing changes until the worker loads it
        reloaded = client.post("/admin/reload", headers=STAFF).json()
        assert reloaded["changed"] is True and reloaded["build_id"] != before and reloaded["procedures"] == 47
        assert "8.000 đồng" in fee_reply(client)
        assert client.post("/admin/reload", headers=STAFF).json()["changed"] is False


def test_workers_notice_a_refresh_by_themselves(tmp_path: Path, knowledge) -> None:
    settings = make_api_settings(tmp_path, reload_interval_seconds=0.2)
    with TestClient(create_app(settings, knowledge=knowledge)) as client:
        refresh(knowledge, write_source(tmp_path / "v2.jsonl", "8,000 Việt Nam Đồng"), progress=False)
        deadline = time.monotonic() + 30
        while "8.000 đồng" not in fee_reply(client):
            assert time.monotonic() < deadline, "the refreshed build was not picked up"
            time.sleep(0.2)


def test_a_build_that_fails_to_load_leaves_the_old_one_serving(tmp_path: Path, knowledge, monkeypatch) -> None:
    settings = make_api_settings(tmp_path, staff_token="staff-secret", reload_interval_seconds=0)
    with TestClient(create_app(settings, knowledge=knowledge)) as client:
        serving = client.get("/admin/knowledge", headers=STAFF).json()["build_id"]
        refresh(knowledge, write_source(tmp_path / "v2.jsonl", "8,000 Việt Nam Đồng"), progress=False)

        def broken(*_args, **_kwargs):
            raise ValueError("procedures.jsonl truncated")

        monkeypatch.setattr(AnswerService, "from_current_build", broken)
        refused = client.post("/admin/reload", headers=STAFF)
        assert refused.status_code == 409 and "procedures.jsonl truncated" in refused.json()["detail"]
        assert client.get("/admin/knowledge", headers=STAFF).json()["build_id"] == serving
        assert "8.000 đồng" not in fee_reply(client)
        assert client.get("/health/ready").status_code == 200


def test_admin_needs_staff_credentials(tmp_path: Path, knowledge) -> None:
    settings = make_api_settings(tmp_path, staff_token="staff-secret", reload_interval_seconds=0)
    with TestClient(create_app(settings, knowledge=knowledge)) as client:
        assert client.post("/admin/reload").status_code == 401
        assert client.post("/admin/reload", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_request_in_flight_finishes_on_the_service_it_started_with(tmp_path: Path, knowledge) -> None:
    settings = make_api_settings(tmp_path, reload_interval_seconds=0)
    with TestClient(create_app(settings, knowledge=knowledge)) as client:
        context = client.app.state.context
        old_service = context.service
        held = context.conversations.service  # what a running converse() holds
        refresh(knowledge, write_source(tmp_path / "v2.jsonl", "8,000 Việt Nam Đồng"), progress=False)
        assert client.app.state.reloader.reload_if_changed(context).changed
        assert held is old_service and context.service is not old_service
        assert "8.000 đồng" not in held.answer_about("1.001193", "fee").text
        assert "8.000 đồng" in context.service.answer_about("1.001193", "fee").text
