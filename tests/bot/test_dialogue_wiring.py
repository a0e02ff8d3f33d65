"""converse through Rasa's REST channel (a fake Rasa here), degraded mode, readiness, the action webhook."""

from __future__ import annotations

import json
import unicodedata

import httpx
import pytest
from sqlalchemy import select

from api.conversation import Conversations, rasa_message
from api.rasa_client import RasaClient
from api.store import ConversationStore, sessions
from knowledge.answer.contract import Answer, CandidateView, ProcedureRef, answer_payload
from knowledge.dialogue import DialogueState, respond
from tests.conftest import make_api_settings

RASA = "http://rasa.test"


class FakeRasa:
    """Rasa's REST channel: records what it is sent, answers with the messages queued."""

    def __init__(self, *replies: list[dict] | int) -> None:
        self.replies = list(replies)
        self.sent: list[dict] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, text="Hello from Rasa: 3.6.21")
        self.sent.append(json.loads(request.content))
        reply = self.replies.pop(0)
        if isinstance(reply, int):
            return httpx.Response(reply, json={"error": "boom"})
        return httpx.Response(200, json=reply)

    def client(self) -> RasaClient:
        return RasaClient(RASA, transport=httpx.MockTransport(self.handler))


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.fixture
def store(tmp_path) -> ConversationStore:
    store = ConversationStore(f"sqlite:///{tmp_path / 'conversations.sqlite3'}")
    yield store
    store.close()


def handover_flag(store: ConversationStore, session_key: str) -> bool:
    with store.engine.connect() as connection:
        return bool(
            connection.execute(select(sessions.c.handover).where(sessions.c.session_key == session_key)).scalar()
        )


def bot_messages(sender: str, text: str, custom: dict | None = None, buttons: list[dict] | None = None) -> list[dict]:
    """What Rasa's REST channel returns for one action's message: the text, then the custom part."""
    first = {"recipient_id": sender, "text": text, **({"buttons": buttons} if buttons else {})}
    return [first] + ([{"recipient_id": sender, "custom": custom}] if custom else [])


def test_an_answer_through_rasa_keeps_the_reply_contract(fixture_service, store) -> None:
    answer = fixture_service.ask("đăng ký khai sinh cần giấy tờ gì")
    rasa = FakeRasa(bot_messages("web:u1", answer.text, answer_payload(answer)))
    reply = Conversations(fixture_service, store, rasa=rasa.client()).converse(
        "web", "u1", "đăng ký khai sinh cần giấy tờ gì"
    )
    assert rasa.sent == [{"sender": "web:u1", "message": "đăng ký khai sinh cần giấy tờ gì"}]
    assert reply.text == answer.text and reply.answer.decision == "answer" and reply.answer.aspect == "documents"
    assert reply.answer.procedure.code == "1.001193" and reply.options == []
    assert [c.code for c in reply.answer.candidates] == [c.code for c in answer.candidates[:5]]
    assert store.turn(reply.answer_id).procedure_code == "1.001193"
    assert store.load_state("web:u1") == DialogueState("1.001193", [])


def test_a_clarification_through_rasa_gives_the_options_with_names(fixture_service, store) -> None:
    options = [CandidateView.of(fixture_service.procedure(code)) for code in ("2.000986", "1.001193")]
    custom = answer_payload(
        Answer(decision="clarify", aspect="general", text="", options=options, reason="life_event:birth")
    )
    rasa = FakeRasa(
        bot_messages("telegram:42", "Sinh con: ...\n1. ...\n2. ...", custom, [{"title": "1", "payload": "/x"}])
    )
    reply = Conversations(fixture_service, store, rasa=rasa.client()).converse("telegram", "42", "tôi vừa sinh con")
    names = {code: fixture_service.procedure(code).name for code in ("2.000986", "1.001193")}
    assert reply.answer.decision == "clarify"
    assert reply.options == [("2.000986", names["2.000986"]), ("1.001193", names["1.001193"])]
    assert store.load_state("telegram:42") == DialogueState(None, ["2.000986", "1.001193"])


def test_several_bot_messages_are_joined_and_the_last_metadata_counts(fixture_service, store) -> None:
    help_meta = answer_payload(Answer(decision="answer", aspect="general", text="", reason="stuck_help"))
    step = ProcedureRef.of(fixture_service.procedure("1.001193"))
    step_meta = answer_payload(
        Answer(decision="answer", aspect="online", text="", procedure=step, reason="ask_guide_login")
    )
    rasa = FakeRasa(bot_messages("web:u", "Nếu bạn bị vướng", help_meta) + bot_messages("web:u", "Bước 1", step_meta))
    reply = Conversations(fixture_service, store, rasa=rasa.client()).converse("web", "u", "tôi bị kẹt")
    assert reply.text == "Nếu bạn bị vướng\n\nBước 1"
    assert reply.answer.aspect == "online" and reply.answer.procedure.code == "1.001193"
    assert reply.answer.reason == "ask_guide_login"


def test_a_response_without_metadata_is_a_plain_answer_and_keeps_the_procedure(fixture_service, store) -> None:
    store.record_turn(
        "web:u", "web", "q", fixture_service.answer_about("1.001193", "general"), DialogueState("1.001193")
    )
    rasa = FakeRasa([{"recipient_id": "web:u", "text": "Không có gì ạ!"}])
    reply = Conversations(fixture_service, store, rasa=rasa.client()).converse("web", "u", "cảm ơn")
    assert reply.text == "Không có gì ạ!" and reply.answer.decision == "answer" and reply.answer.procedure is None
    assert reply.answer.reason == "dialogue"
    assert store.load_state("web:u").procedure_code == "1.001193"


def test_handover_flags_the_conversation_for_staff(fixture_service, store) -> None:
    meta = answer_payload(Answer(decision="answer", aspect="general", text="", reason="handover", handover=True))
    rasa = FakeRasa(bot_messages("zalo:9", "Mình đã ghi nhận", meta))
    Conversations(fixture_service, store, rasa=rasa.client()).converse("zalo", "9", "gặp tổng đài viên")
    assert handover_flag(store, "zalo:9") is True


def test_personal_numbers_are_masked_and_text_nfc_before_rasa(fixture_service, store) -> None:
    rasa = FakeRasa([{"recipient_id": "web:u", "text": "ok"}])
    typed = unicodedata.normalize("NFD", "Cấp lại căn cước số 001234567890, gọi 0912345678")
    Conversations(fixture_service, store, rasa=rasa.client()).converse("web", "u", typed)
    sent = rasa.sent[0]["message"]
    assert sent == "Cấp lại căn cước số **********90, gọi ********78"
    assert unicodedata.is_normalized("NFC", sent)
    assert "001234567890" not in store.turns("web:u")[0].question


@pytest.mark.parametrize(
    ("text", "code", "aspect", "expected"),
    [
        ("", "1.001193", None, '/choose_option{"chosen_code": "1.001193"}'),
        ("", "1.001193", "fee", '/choose_option{"chosen_code": "1.001193", "aspect_button": "fee"}'),
        ("", None, "where", '/ask_aspect{"aspect_button": "where"}'),
        ("/restart", None, None, "restart"),
        ("", None, None, ""),
    ],
)
def test_buttons_become_intent_payloads(text: str, code: str | None, aspect: str | None, expected: str) -> None:
    assert rasa_message(text, code, aspect) == expected


def test_rasa_unreachable_answers_directly_and_pauses(fixture_service, store) -> None:
    calls = []

    def counting_refusal(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return refused(request)

    rasa = RasaClient(RASA, transport=httpx.MockTransport(counting_refusal))
    conversations = Conversations(fixture_service, store, rasa=rasa)
    reply = conversations.converse("web", "u", "đăng ký khai sinh cần giấy tờ gì")
    direct, _ = respond(fixture_service, DialogueState(), "đăng ký khai sinh cần giấy tờ gì")
    assert reply.text == direct.text and reply.answer.procedure.code == "1.001193"
    follow_up = conversations.converse("web", "u", "thế lệ phí bao nhiêu?")
    assert follow_up.answer.aspect == "fee" and follow_up.answer.procedure.code == "1.001193"
    assert len(calls) == 1  # paused after the first failure
    assert conversations.rasa_state() == "unreachable"


@pytest.mark.parametrize("failure", [500, 404])
def test_a_rasa_error_status_answers_directly(fixture_service, store, failure: int) -> None:
    rasa = FakeRasa(failure)
    reply = Conversations(fixture_service, store, rasa=rasa.client()).converse("web", "u", "đăng ký tạm trú")
    assert reply.answer.decision == "answer" and reply.answer.procedure.code == "1.004194"


def test_an_empty_rasa_reply_answers_directly(fixture_service, store) -> None:
    rasa = FakeRasa([])
    reply = Conversations(fixture_service, store, rasa=rasa.client()).converse("web", "u", "đăng ký tạm trú")
    assert reply.answer.procedure.code == "1.004194"


# -- the API -----------------------------------------------------------------------------------


def test_readiness_reports_rasa_and_stays_ready(tmp_path, fixture_service) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    settings = make_api_settings(tmp_path, rasa_url="http://127.0.0.1:9")  # nothing listens on port 9
    with TestClient(create_app(settings, service=fixture_service)) as client:
        response = client.get("/health/ready")
        assert response.status_code == 200
        assert response.json()["status"] == "ok" and response.json()["checks"]["rasa"] == "unreachable"
        body = client.post("/v1/ask", json={"question": "đăng ký khai sinh", "session_id": "s"}).json()
        assert body["decision"] == "answer" and body["procedure"]["code"] == "1.001193"


def test_readiness_without_rasa_says_off(client) -> None:
    assert client.get("/health/ready").json()["checks"]["rasa"] == "off"


def test_ask_goes_through_rasa_when_configured(client, fixture_service) -> None:
    answer = fixture_service.answer_about("1.004194", "fee")
    rasa = FakeRasa(bot_messages("web:s9", answer.text, answer_payload(answer)))
    client.app.state.context.conversations.rasa = rasa.client()
    body = client.post("/v1/ask", json={"question": "le phi tam tru", "session_id": "s9"}).json()
    assert rasa.sent == [{"sender": "web:s9", "message": "le phi tam tru"}]
    assert body["decision"] == "answer" and body["aspect"] == "fee" and body["procedure"]["code"] == "1.004194"
    assert body["reply"] == answer.text and body["citation"]["code"] == "1.004194"


def action_call(action: str, text: str, intent: str, slots: dict | None = None) -> dict:
    """A request body as Rasa 3.6 sends it to the action endpoint."""
    return {
        "next_action": action,
        "sender_id": "web:s1",
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": "web:s1",
            "slots": {"procedure_code": None, "candidate_codes": None, **(slots or {})},
            "latest_message": {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def test_the_action_webhook_runs_an_action_with_the_app_s_service(client) -> None:
    response = client.post(
        "/rasa/webhook", json=action_call("action_answer_procedure", "đăng ký tạm trú", "ask_procedure")
    )
    assert response.status_code == 200
    body = response.json()
    slots = {event["name"]: event["value"] for event in body["events"]}
    assert slots["procedure_code"] == "1.004194" and slots["guide_offered"] is True
    [sent] = body["responses"]
    assert "1.004194" in sent["text"] and sent["custom"]["answer"]["procedure"]["code"] == "1.004194"


def test_the_action_webhook_refuses_unknown_actions_and_bad_bodies(client) -> None:
    unknown = client.post("/rasa/webhook", json=action_call("action_nope", "x", "greet"))
    assert unknown.status_code == 404 and unknown.json()["action_name"] == "action_nope"
    assert (
        client.post("/rasa/webhook", content=b"not json", headers={"content-type": "application/json"}).status_code
        == 400
    )
    assert client.post("/rasa/webhook", json=[1, 2]).status_code == 400


def test_the_action_webhook_checks_its_token_when_set(tmp_path, fixture_service) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    settings = make_api_settings(tmp_path, rasa_action_token="s3cret")
    with TestClient(create_app(settings, service=fixture_service)) as client:
        call = action_call("action_stuck_help", "bị kẹt", "stuck")
        assert client.post("/rasa/webhook", json=call).status_code == 401
        assert client.post("/rasa/webhook?token=wrong", json=call).status_code == 401
        assert client.post("/rasa/webhook?token=s3cret", json=call).status_code == 200


# -- retention ---------------------------------------------------------------------------------


def _age_everything(store: ConversationStore, days: int) -> None:
    from datetime import UTC, datetime, timedelta

    from api.store import interactions

    old = datetime.now(UTC) - timedelta(days=days)
    with store.engine.begin() as connection:
        connection.execute(interactions.update().values(created_at=old))
        connection.execute(sessions.update().values(updated_at=old))


def test_retention_deletes_old_turns_feedback_and_sessions(fixture_service, store) -> None:
    from datetime import UTC, datetime, timedelta

    answer = fixture_service.answer_about("1.001193", "general")
    old_id = store.record_turn("web:old", "web", "q", answer, DialogueState("1.001193"))
    store.add_feedback(old_id, True, "ok")
    _age_everything(store, 40)
    store.record_turn("web:new", "web", "q", answer, DialogueState("1.001193"))
    assert store.delete_before(datetime.now(UTC) - timedelta(days=30)) == 1
    assert store.turn(old_id) is None and store.count("feedback") == 0
    assert store.load_state("web:old") == DialogueState() and store.load_state("web:new").procedure_code == "1.001193"
    assert len(store.turns("web:new")) == 1


def test_the_app_applies_retention_at_start_up(tmp_path, fixture_service) -> None:
    import time

    from fastapi.testclient import TestClient

    from api.app import create_app

    settings = make_api_settings(tmp_path, retention_days=30)
    seeded = ConversationStore(settings.resolved_database_url)
    seeded.record_turn("web:old", "web", "q", fixture_service.answer_about("1.001193", "fee"), DialogueState())
    _age_everything(seeded, 31)
    seeded.close()
    with TestClient(create_app(settings, service=fixture_service)) as client:
        store = client.app.state.context.store
        deadline = time.monotonic() + 5
        while store.count("interactions") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.count("interactions") == 0


@pytest.mark.parametrize(("typed", "chosen"), [("2", "1.001193"), ("２", "1.001193"), ("²", None)])
def test_a_choice_by_number_takes_any_decimal_digit_and_never_crashes(fixture_service, typed, chosen) -> None:
    # "²" is a digit to str.isdigit but int() refuses it: it is read as a question, not a choice
    answer, state = respond(fixture_service, DialogueState(None, ["2.000986", "1.001193"]), typed)
    if chosen:
        assert answer.procedure.code == chosen and state.procedure_code == chosen
    else:
        assert answer.text and answer.question == "²"
