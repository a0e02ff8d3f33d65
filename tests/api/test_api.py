"""The public API as a widget, a console or an API client uses it (fixture corpus, SQLite store)."""

from __future__ import annotations

import re

from api.store import ConversationStore


def ask(client, question: str = "", session: str = "s1", **extra):
    return client.post("/v1/ask", json={"question": question, "session_id": session, **extra})


def store_of(client) -> ConversationStore:
    return client.app.state.context.store


def test_ask_answers_with_code_card_and_citation(client) -> None:
    response = ask(client, "đăng ký khai sinh cần giấy tờ gì")
    assert response.status_code == 200
    body = response.json()
    assert body["decision"] == "answer" and body["aspect"] == "documents"
    assert body["procedure"]["code"] == "1.001193"
    assert "1.001193" in body["reply"] and "Hồ sơ cần chuẩn bị" in body["reply"]
    assert body["citation"]["url"].startswith("https://dichvucong.gov.vn/")
    assert body["citation"]["decision"] == "163/QĐ-BTP"
    assert re.fullmatch(r"[0-9a-f]{32}", body["answer_id"])
    sections = {section["aspect"]: section for section in body["procedure"]["sections"]}
    assert any("Giấy chứng sinh" in line for line in sections["documents"]["lines"])
    assert "1.001193" in body["procedure"]["short_answer"]
    assert [(b["aspect"], b["label"]) for b in body["follow_ups"]][:2] == [("documents", "Hồ sơ"), ("fee", "Lệ phí")]


def test_question_without_diacritics_finds_the_same_procedure(client) -> None:
    body = ask(client, "dang ky khai sinh can giay to gi").json()
    assert body["decision"] == "answer" and body["procedure"]["code"] == "1.001193"


def test_follow_up_in_the_same_session_is_about_the_same_procedure(client) -> None:
    ask(client, "đăng ký khai sinh cần giấy tờ gì", session="family")
    body = ask(client, "thế lệ phí bao nhiêu?", session="family").json()
    assert body["procedure"]["code"] == "1.001193" and body["aspect"] == "fee"
    assert "Miễn" in body["reply"]
    # another session has no procedure under discussion: the same words are a new question
    other = ask(client, "thế lệ phí bao nhiêu?", session="stranger").json()
    assert other["procedure"] is None or other["procedure"]["code"] != "1.001193" or other["decision"] != "answer"


def test_candidate_button_answers_about_that_procedure(client) -> None:
    body = ask(client, "", procedure_code="1.001193", aspect="online").json()
    assert body["decision"] == "answer" and body["aspect"] == "online"
    assert body["procedure"]["code"] == "1.001193" and "trực tuyến" in body["reply"]


def test_unknown_code_button_gets_a_reply_not_an_error(client) -> None:
    response = ask(client, "", procedure_code="9.999999")
    assert response.status_code == 200
    assert response.json()["decision"] == "abstain" and "9.999999" in response.json()["reply"]


def test_out_of_scope_question_is_refused_with_the_hotline(client) -> None:
    body = ask(client, "giá vàng hôm nay bao nhiêu").json()
    assert body["decision"] == "abstain" and body["procedure"] is None and body["follow_ups"] == []
    assert "1900 1009" in body["reply"]


def test_the_aspects_one_can_ask_about_are_listed_in_card_order(client) -> None:
    aspects = client.get("/v1/aspects").json()
    assert aspects[0] == {"aspect": "general", "title": "Tóm tắt", "button": None}
    assert {"aspect": "fee", "title": "Phí, lệ phí", "button": "Lệ phí"} in aspects
    assert len(aspects) == 10


def test_every_turn_is_stored_with_personal_numbers_masked(client) -> None:
    body = ask(client, "CCCD 001203004005 của tôi, sđt 0912345678, làm khai sinh ở đâu", session="pii").json()
    turn = store_of(client).turn(body["answer_id"])
    assert turn is not None and turn.session_key == "web:pii" and turn.decision == body["decision"]
    assert "001203004005" not in turn.question and "0912345678" not in turn.question
    assert "**********05" in turn.question


def test_unanswered_questions_are_kept_for_staff(client) -> None:
    ask(client, "giá vàng hôm nay bao nhiêu", session="gap")
    assert any("giá vàng" in turn.question for turn in store_of(client).unanswered())


def test_feedback_is_tied_to_the_answer(client) -> None:
    answer_id = ask(client, "đăng ký khai sinh cần giấy tờ gì").json()["answer_id"]
    response = client.post("/v1/feedback", json={"answer_id": answer_id, "useful": False, "comment": "gọi 0987654321"})
    assert response.status_code == 201 and response.json()["answer_id"] == answer_id
    assert store_of(client).feedback_for(answer_id) == [(False, "gọi ********21")]


def test_feedback_for_an_unknown_answer_is_404(client) -> None:
    response = client.post("/v1/feedback", json={"answer_id": "0" * 32, "useful": True})
    assert response.status_code == 404 and response.json() == {"detail": "Không tìm thấy câu trả lời này."}


def test_search_returns_the_ranking(client) -> None:
    body = client.get("/v1/search", params={"q": "khai sinh"}).json()
    assert body["results"][0]["code"] == "1.001193"
    assert all(set(result) == {"code", "name", "score"} for result in body["results"])


def test_procedure_card_and_unknown_code(client) -> None:
    card = client.get("/v1/procedures/1.001193").json()
    assert card["name"] == "Thủ tục đăng ký khai sinh" and card["online_level"] in {"online", "toan_trinh", "offline"}
    assert [section["aspect"] for section in card["sections"]][:3] == ["general", "documents", "fee"]
    missing = client.get("/v1/procedures/9.999999")
    assert missing.status_code == 404 and missing.json() == {"detail": "Không có thủ tục mã 9.999999."}


def test_bad_input_gets_4xx_with_a_reason_not_a_500(client) -> None:
    assert ask(client, "x" * 2001).status_code == 422
    assert client.post("/v1/ask", json={"question": "hi", "session_id": "bad id with spaces"}).status_code == 422
    assert client.post("/v1/ask", content=b"{not json", headers={"content-type": "application/json"}).status_code == 422
    assert ask(client, "hi", aspect="weather").status_code == 422
    assert client.get("/v1/search").status_code == 422


def test_validation_errors_do_not_echo_what_the_user_typed(client) -> None:
    response = client.post("/v1/ask", json={"question": "CCCD 001203004005", "session_id": "bad id"})
    assert response.status_code == 422 and "001203004005" not in response.text


def test_empty_question_gets_examples(client) -> None:
    body = ask(client, "   ").json()
    assert body["decision"] == "abstain" and "ví dụ" in body["reply"]


def test_oversized_body_is_413(client) -> None:
    big = b'{"question": "' + b"a" * 70_000 + b'", "session_id": "s"}'
    response = client.post("/v1/ask", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json() == {"detail": "Nội dung gửi lên quá lớn."}


def test_chunked_oversized_body_is_413(client) -> None:
    def chunks():
        yield b'{"question": "'
        for _ in range(100):
            yield b"a" * 1000
        yield b'", "session_id": "s"}'

    response = client.post("/v1/ask", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_health_and_metrics(client) -> None:
    assert client.get("/health/live").json() == {"status": "ok", "checks": {}}
    ready = client.get("/health/ready").json()
    assert ready["status"] == "ok" and ready["checks"]["store"] == "ok"
    ask(client, "đăng ký khai sinh cần giấy tờ gì")
    metrics = client.get("/metrics").text
    assert 'tthc_decisions_total{channel="web",decision="answer"}' in metrics
    assert 'route="/v1/ask",status="200"' in metrics
    assert "tthc_procedures 47.0" in metrics


def test_pages_carry_security_headers(client) -> None:
    response = client.get("/widget/demo")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/widget/evil.js").status_code == 404


def test_console_needs_the_token(client) -> None:
    assert client.get("/console").status_code == 401
    assert client.get("/console", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/console", headers={"Authorization": "Bearer console-secret"}).status_code == 200
    response = client.get("/console", params={"token": "console-secret"}, follow_redirects=False)
    assert response.status_code == 303 and "httponly" in response.headers["set-cookie"].lower()
    assert client.get("/console/console.js").status_code == 200  # the cookie now authorises


def test_console_basic_auth(tmp_path, fixture_service) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.conftest import make_api_settings

    settings = make_api_settings(tmp_path, console_token=None, console_user="agent", console_password="pw")
    with TestClient(create_app(settings, service=fixture_service)) as basic_client:
        refused = basic_client.get("/console")
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
        assert basic_client.get("/console", auth=("agent", "wrong")).status_code == 401
        assert basic_client.get("/console", auth=("agent", "pw")).status_code == 200


def test_console_closed_until_configured(tmp_path, fixture_service) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.conftest import make_api_settings

    with TestClient(create_app(make_api_settings(tmp_path, console_token=None), service=fixture_service)) as closed:
        response = closed.get("/console")
        assert response.status_code == 503 and "ASSISTANT_CONSOLE_TOKEN" in response.json()["detail"]


def test_cors_only_for_configured_origins(tmp_path, fixture_service) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.conftest import make_api_settings

    settings = make_api_settings(tmp_path, cors_origins=["https://dichvucong.hanoi.gov.vn"])
    with TestClient(create_app(settings, service=fixture_service)) as cors_client:
        allowed = cors_client.get("/health/live", headers={"Origin": "https://dichvucong.hanoi.gov.vn"})
        assert allowed.headers["access-control-allow-origin"] == "https://dichvucong.hanoi.gov.vn"
        other = cors_client.get("/health/live", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_openapi_documents_the_routes(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/ask", "/v1/search", "/v1/procedures/{code}", "/v1/feedback", "/health/ready"} <= set(paths)


def test_api_docs_page_is_not_blocked_by_the_page_policy(client) -> None:
    response = client.get("/docs")
    assert response.status_code == 200 and "content-security-policy" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


def test_an_aspect_without_a_procedure_asks_which_procedure(client) -> None:
    body = ask(client, "thế lệ phí bao nhiêu?", session="nothing-yet").json()
    assert body["decision"] == "abstain" and body["aspect"] == "fee"
    assert body["reply"].startswith("Bạn muốn hỏi phí, lệ phí của thủ tục nào?")
