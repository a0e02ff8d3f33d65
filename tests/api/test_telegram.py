"""The Telegram channel through the real app: webhook in, replies out to a fake Bot API (no network)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

from api.app import create_app
from api.channels.telegram_bot import WEBHOOK_PATH, TelegramNotConfigured, register_webhook
from api.channels.telegram_handlers import FAILED, ONLY_TEXT, THANKS, UNKNOWN_ANSWER, split_message
from api.store import ConversationStore, channel_updates
from tests.conftest import make_api_settings

TOKEN = "123456:TEST-token"
SECRET = "webhook-secret_42"
CHAT_ID = 4242
DATE = 1_700_000_000


class FakeBotApi(BaseRequest):
    """Telegram's Bot API as far as the channel uses it: canned answers, every call recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.unreachable: set[str] = set()  # methods that fail as if the network were down

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return None

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_timeouts: object
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        if name in self.unreachable:
            raise NetworkError("connection refused")
        self.calls.append((name, params))
        return 200, json.dumps({"ok": True, "result": self._result(name, params)}).encode()

    def _result(self, name: str, params: dict) -> object:
        if name == "getMe":
            return {"id": 1, "is_bot": True, "first_name": "Trợ lý TTHC", "username": "tthc_hanoi_bot"}
        if name == "sendMessage":
            chat = {"id": params["chat_id"], "type": "private"}
            return {"message_id": len(self.calls), "date": DATE, "chat": chat, "text": params["text"]}
        return True  # answerCallbackQuery, setWebhook, deleteWebhook

    def sent(self) -> list[dict]:
        return [params for name, params in self.calls if name == "sendMessage"]

    def acks(self) -> list[dict]:
        return [params for name, params in self.calls if name == "answerCallbackQuery"]


class Chat:
    """A user's side of the conversation: post updates, read what the bot sent back."""

    def __init__(self, client: TestClient, api: FakeBotApi) -> None:
        self.client = client
        self.api = api
        self.store = client.app.state.context.store

    def post(self, payload: object, secret: str | None = SECRET, **kwargs: object):
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        kwargs = kwargs or {"json": payload}
        response = self.client.post(WEBHOOK_PATH, headers=headers, **kwargs)
        self.client.portal.call(self.client.app.state.telegram.flush)  # processing follows the 200
        return response

    def last_reply(self) -> dict:
        return self.api.sent()[-1]


def start_app(tmp_path: Path, service, api: FakeBotApi, **overrides: object) -> TestClient:
    settings = make_api_settings(tmp_path, telegram_bot_token=TOKEN, telegram_webhook_secret=SECRET, **overrides)
    app = create_app(settings, service=service)
    app.state.telegram.request = api
    app.state.telegram.replay_after_seconds = 0  # the "crashed" updates below were stored a moment ago
    return TestClient(app)


@pytest.fixture
def chat(tmp_path: Path, fixture_service) -> Iterator[Chat]:
    api = FakeBotApi()
    with start_app(tmp_path, fixture_service, api) as client:
        yield Chat(client, api)


@pytest.fixture(scope="module")
def twin_service(fixture_procedures, hanoi):
    """The fixture corpus plus "Đổi giấy phép lái xe" (3.000347), the national twin of 3.000348."""
    from knowledge.service import AnswerService

    renewal = fixture_procedures["3.000348"]
    exchange = renewal.model_copy(update={"code": "3.000347", "name": "Đổi giấy phép lái xe"})
    return AnswerService([*fixture_procedures.values(), exchange], hanoi)


def message(update_id: int, text: str | None = None, chat_id: int = CHAT_ID, **content: object) -> dict:
    body: dict = {
        "message_id": update_id,
        "date": DATE,
        "chat": {"id": chat_id, "type": "private"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Lan"},
        **content,
    }
    if text is not None:
        body["text"] = text
        if text.startswith("/"):
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": body}


def press(update_id: int, data: str, chat_id: int = CHAT_ID) -> dict:
    user = {"id": chat_id, "is_bot": False, "first_name": "Lan"}
    shown = {"message_id": 1, "date": DATE, "chat": {"id": chat_id, "type": "private"}, "text": "…"}
    query = {"id": f"q{update_id}", "from": user, "chat_instance": "ci-1", "data": data, "message": shown}
    return {"update_id": update_id, "callback_query": query}


def buttons(reply: dict) -> dict[str, str]:
    """Label → callback data of the reply's inline keyboard."""
    rows = (reply.get("reply_markup") or {}).get("inline_keyboard", [])
    return {button["text"]: button["callback_data"] for row in rows for button in row}


# -- questions and answers ----------------------------------------------------------------------


@pytest.mark.parametrize("question", ["đăng ký khai sinh cần giấy tờ gì", "dang ky khai sinh can giay to gi"])
def test_a_question_is_answered_with_the_procedure_and_buttons(chat: Chat, question: str) -> None:
    assert chat.post(message(1, question)).status_code == 200
    [reply] = chat.api.sent()
    assert reply["chat_id"] == CHAT_ID
    assert "1.001193" in reply["text"] and "khai sinh" in reply["text"]
    keyboard = buttons(reply)
    assert set(keyboard) == {"Hữu ích", "Chưa hữu ích", "Hướng dẫn nộp trực tuyến"}
    assert keyboard["Hướng dẫn nộp trực tuyến"] == "online:1.001193"
    assert all(len(data.encode()) <= 64 for data in keyboard.values())


@pytest.mark.parametrize("command", ["/start", "/help"])
def test_start_and_help_welcome_with_examples(chat: Chat, command: str) -> None:
    chat.post(message(1, command))
    text = chat.last_reply()["text"]
    assert text.startswith("Xin chào") and "Đăng ký khai sinh cần giấy tờ gì?" in text


@pytest.mark.parametrize(
    "content",
    [
        {"photo": [{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}]},
        {
            "sticker": {
                "file_id": "s1",
                "file_unique_id": "u2",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        },
        {"voice": {"file_id": "v1", "file_unique_id": "u3", "duration": 3}},
        {"document": {"file_id": "d1", "file_unique_id": "u4", "file_name": "don.pdf"}},
    ],
    ids=["photo", "sticker", "voice", "document"],
)
def test_non_text_messages_get_the_polite_reply(chat: Chat, content: dict) -> None:
    assert chat.post(message(1, **content)).status_code == 200
    assert [reply["text"] for reply in chat.api.sent()] == [ONLY_TEXT]
    assert chat.store.count("interactions") == 0


def test_the_online_button_answers_how_to_apply_online(chat: Chat) -> None:
    chat.post(message(1, "đăng ký khai sinh cần giấy tờ gì"))
    chat.post(press(2, buttons(chat.last_reply())["Hướng dẫn nộp trực tuyến"]))
    reply = chat.last_reply()
    assert "1.001193" in reply["text"] and "Làm trực tuyến" in reply["text"]
    assert "Hướng dẫn nộp trực tuyến" not in buttons(reply)  # already the online guide
    assert len(chat.api.acks()) == 1


def test_a_clarification_offers_buttons_and_the_pick_answers_that_procedure(tmp_path: Path, twin_service) -> None:
    api = FakeBotApi()
    with start_app(tmp_path, twin_service, api) as client:
        chat = Chat(client, api)
        chat.post(message(1, "giấy phép lái xe"))
        choices = buttons(chat.last_reply())
        assert sorted(choices.values()) == ["pick:3.000347", "pick:3.000348"]
        assert "1. Cấp lại giấy phép lái xe" in choices or "2. Cấp lại giấy phép lái xe" in choices
        chat.post(press(2, "pick:3.000348"))
        reply = chat.last_reply()
    assert reply["text"].startswith("Cấp lại giấy phép lái xe (mã 3.000348")
    assert "Hữu ích" in buttons(reply)
    assert len(api.acks()) == 1


def test_a_feedback_button_stores_the_verdict_and_thanks(chat: Chat) -> None:
    chat.post(message(1, "đăng ký khai sinh cần giấy tờ gì"))
    data = buttons(chat.last_reply())["Chưa hữu ích"]
    answer_id = data.split(":")[1]
    chat.post(press(2, data))
    assert chat.store.feedback_for(answer_id) == [(False, None)]
    assert chat.api.acks()[-1]["text"] == THANKS
    assert len(chat.api.sent()) == 1  # acknowledged on the button, no new message


def test_feedback_on_an_unknown_answer_is_acknowledged_not_stored(chat: Chat) -> None:
    chat.post(press(1, "fb:" + "0" * 32 + ":1"))
    assert chat.api.acks()[-1]["text"] == UNKNOWN_ANSWER
    assert chat.store.count("feedback") == 0


def test_personal_numbers_are_masked_in_what_is_stored(chat: Chat) -> None:
    chat.post(message(1, "CCCD của tôi 001099012345, sđt 0912345678: đăng ký khai sinh cần giấy tờ gì"))
    assert "1.001193" in chat.last_reply()["text"]
    [turn] = chat.store.turns(f"telegram:{CHAT_ID}")
    with chat.store.engine.connect() as connection:
        [payload] = connection.execute(select(channel_updates.c.payload)).scalars()
    for stored in (turn.question, payload):
        assert "001099012345" not in stored and "0912345678" not in stored
        assert "**********45" in stored and "********78" in stored


def test_too_many_questions_get_a_polite_wait(tmp_path: Path, fixture_service) -> None:
    api = FakeBotApi()
    with start_app(tmp_path, fixture_service, api, rate_limit_user_per_minute=2) as client:
        chat = Chat(client, api)
        for update_id in (1, 2, 3):
            chat.post(message(update_id, "đăng ký khai sinh cần giấy tờ gì"))
    texts = [reply["text"] for reply in api.sent()]
    assert "1.001193" in texts[0] and "1.001193" in texts[1]
    assert texts[2].startswith("Bạn đang gửi hơi nhanh")


def test_a_failure_is_logged_masked_and_the_user_gets_an_apology(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(chat.client.app.state.context.conversations, "converse", broken)
    with caplog.at_level(logging.ERROR, logger="api.telegram"):
        assert chat.post(message(1, "sđt 0912345678 hỏi khai sinh")).status_code == 200
    assert chat.last_reply()["text"] == FAILED.format(hotline="1900 1009")
    [record] = [r for r in caplog.records if r.name == "api.telegram"]
    assert record.exc_info and "database unavailable" in caplog.text
    assert "0912345678" not in caplog.text and "********78" in caplog.text


# -- the webhook's guards ------------------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x"])
def test_a_wrong_or_missing_secret_is_403_and_nothing_is_stored(chat: Chat, secret: str | None) -> None:
    response = chat.post(message(1, "đăng ký khai sinh"), secret=secret)
    assert response.status_code == 403
    assert response.json() == {"detail": "Sai mã bí mật của webhook."}
    assert chat.store.count("channel_updates") == 0 and chat.api.sent() == []


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"content": b"{not json"}, "Nội dung không phải JSON hợp lệ."),
        ({"json": [1, 2]}, "Nội dung không phải một update của Telegram."),
        ({"json": {"message": {"text": "hi"}}}, "Nội dung không phải một update của Telegram."),
        ({"json": {"update_id": "7"}}, "Nội dung không phải một update của Telegram."),
        ({"json": {"update_id": 7, "message": "hi"}}, "Nội dung không phải một update của Telegram."),
    ],
    ids=["not-json", "a-list", "no-update-id", "id-not-a-number", "message-not-an-object"],
)
def test_a_body_that_is_not_an_update_is_400_with_a_reason(chat: Chat, body: dict, detail: str) -> None:
    response = chat.post(None, **body)
    assert response.status_code == 400
    assert response.json() == {"detail": detail}
    assert chat.store.count("channel_updates") == 0 and chat.api.sent() == []


def test_a_repeated_update_is_answered_once(chat: Chat) -> None:
    update = message(5, "đăng ký khai sinh cần giấy tờ gì")
    assert [chat.post(update).status_code for _ in range(3)] == [200, 200, 200]
    assert len(chat.api.sent()) == 1
    assert chat.store.count("interactions") == 1
    metrics = chat.client.get("/metrics").text
    assert 'tthc_channel_updates_total{channel="telegram",outcome="duplicate"} 2.0' in metrics
    assert 'tthc_decisions_total{channel="telegram",decision="answer"} 1.0' in metrics


def test_two_workers_sharing_one_store_answer_a_repeat_once(tmp_path: Path, fixture_service) -> None:
    api = FakeBotApi()
    update = message(9, "đăng ký khai sinh cần giấy tờ gì")
    with start_app(tmp_path, fixture_service, api) as first, start_app(tmp_path, fixture_service, api) as second:
        assert Chat(first, api).post(update).status_code == 200
        assert Chat(second, api).post(update).status_code == 200
    assert len(api.sent()) == 1 and "1.001193" in api.sent()[0]["text"]


# -- crashes, outages, start-up ------------------------------------------------------------------


def test_an_update_stored_but_never_answered_is_replayed_at_start_up(tmp_path: Path, fixture_service) -> None:
    settings = make_api_settings(tmp_path)
    crashed = ConversationStore(settings.resolved_database_url)  # a worker that stopped after its 200
    assert crashed.claim_update("telegram", "31", message(31, "đăng ký khai sinh cần giấy tờ gì"))
    crashed.close()
    api = FakeBotApi()
    with start_app(tmp_path, fixture_service, api) as client:
        chat = Chat(client, api)
        client.portal.call(client.app.state.telegram.flush)
        assert chat.store.unhandled_updates("telegram") == []
    [reply] = api.sent()
    assert reply["chat_id"] == CHAT_ID and "1.001193" in reply["text"]


def test_replay_with_telegram_sized_ids(tmp_path: Path, fixture_service) -> None:
    settings = make_api_settings(tmp_path)
    crashed = ConversationStore(settings.resolved_database_url)
    crashed.claim_update("telegram", "871234567", message(871234567, "đăng ký khai sinh", chat_id=123456789))
    crashed.close()
    api = FakeBotApi()
    with start_app(tmp_path, fixture_service, api) as client:
        client.portal.call(client.app.state.telegram.flush)
    assert [reply["chat_id"] for reply in api.sent()] == [123456789]


def test_a_reply_that_cannot_reach_telegram_is_replayed_at_the_next_start(tmp_path: Path, fixture_service) -> None:
    down = FakeBotApi()
    down.unreachable.add("sendMessage")
    with start_app(tmp_path, fixture_service, down) as client:
        assert Chat(client, down).post(message(1, "đăng ký khai sinh cần giấy tờ gì")).status_code == 200
        assert [update_id for update_id, _ in client.app.state.context.store.unhandled_updates("telegram")] == ["1"]
    api = FakeBotApi()
    with start_app(tmp_path, fixture_service, api) as client:
        client.portal.call(client.app.state.telegram.flush)
    assert "1.001193" in api.sent()[0]["text"]


def test_telegram_unreachable_at_start_up_keeps_the_app_up_and_the_webhook_asks_for_a_resend(
    tmp_path: Path, fixture_service
) -> None:
    api = FakeBotApi()
    api.unreachable.add("getMe")
    with start_app(tmp_path, fixture_service, api) as client:
        chat = Chat(client, api)
        assert client.get("/v1/procedures/1.001193").status_code == 200  # the rest of the app works
        response = chat.post(message(1, "đăng ký khai sinh cần giấy tờ gì"))
        assert response.status_code == 503 and chat.store.count("channel_updates") == 0
        api.unreachable.clear()  # Telegram is back and resends the update
        assert chat.post(message(1, "đăng ký khai sinh cần giấy tờ gì")).status_code == 200
    assert "1.001193" in api.sent()[0]["text"]


# -- registration and long replies ------------------------------------------------------------------


def test_register_webhook_points_telegram_at_this_service(tmp_path: Path) -> None:
    api = FakeBotApi()
    settings = make_api_settings(
        tmp_path,
        telegram_bot_token=TOKEN,
        telegram_webhook_secret=SECRET,
        public_base_url="https://tthc.example.vn/",
    )
    url = asyncio.run(register_webhook(settings, request=api))
    assert url == "https://tthc.example.vn/channels/telegram/webhook"
    [params] = [params for name, params in api.calls if name == "setWebhook"]
    assert params["url"] == url and params["secret_token"] == SECRET
    assert params["allowed_updates"] == ["message", "callback_query"]
    assert params["drop_pending_updates"] is False


def test_register_webhook_needs_an_https_address(tmp_path: Path) -> None:
    settings = make_api_settings(tmp_path, telegram_bot_token=TOKEN, telegram_webhook_secret=SECRET)
    with pytest.raises(TelegramNotConfigured, match="PUBLIC_BASE_URL"):
        asyncio.run(register_webhook(settings, request=FakeBotApi()))


def test_a_reply_longer_than_a_telegram_message_is_sent_in_pieces() -> None:
    text = "\n".join(f"{number}. " + "giấy tờ " * 30 for number in range(60))
    pieces = split_message(text)
    assert len(pieces) > 1 and all(0 < len(piece) <= 4096 for piece in pieces)
    assert "\n".join(pieces) == text
    assert split_message("x" * 5000) == ["x" * 4096, "x" * 904]
