"""Custom actions with tracker fixtures: exact events and exact messages (fixture corpus, fast)."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.actions import (
    ASK_WHICH_PROCEDURE,
    FORM_SLOTS,
    OFFER_LINE,
    UNKNOWN_LIFE_EVENT,
    ActionAnswerAspect,
    ActionAnswerProcedure,
    ActionAskGuideDocuments,
    ActionAskGuideLogin,
    ActionAskGuidePayment,
    ActionAskHasVneid,
    ActionChooseOption,
    ActionFeedback,
    ActionGuideFinish,
    ActionHandover,
    ActionLifeEvent,
    ActionStartGuide,
    ActionStuckHelp,
    make_actions,
)
from knowledge.answer.contract import Answer, CandidateView, ProcedureRef, answer_payload
from knowledge.answer.guide import OnlineGuide
from knowledge.ingest.importer import parse_record, read_raw_records
from knowledge.service import WHICH_PROCEDURE_REPLY
from tests.conftest import FIXTURE_RECORDS

DOMAIN: dict[str, Any] = {}
GUIDE_BUTTONS = [{"title": "Tiếp", "payload": "/affirm"}, {"title": "Bị kẹt", "payload": "/stuck"}]


FIXTURE_PROCEDURES = {p.code: p for p in map(parse_record, read_raw_records(FIXTURE_RECORDS))}


def make_tracker(
    text: str = "",
    intent: str = "ask_procedure",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
) -> Tracker:
    """A tracker as Rasa sends it to the action server, after the user's latest message."""
    values = {
        "procedure_code": None,
        "aspect": None,
        "candidate_codes": None,
        "guide_offered": False,
        "guide_ready": False,
        **dict.fromkeys(FORM_SLOTS),
        **(slots or {}),
    }
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    return Tracker(
        sender_id="web:test",
        slots=values,
        latest_message=latest,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def run(action, tracker: Tracker) -> tuple[list[dict], list[dict]]:  # an Action
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker, DOMAIN)
    return events, dispatcher.messages


def message(text: str, custom: dict, buttons: list[dict] | None = None) -> dict:
    """A message exactly as CollectingDispatcher records it."""
    return {
        "text": text,
        "buttons": buttons or [],
        "elements": [],
        "custom": custom,
        "template": None,
        "response": None,
        "image": None,
        "attachment": None,
    }


def info(reason: str, code: str | None = None, aspect: str = "general", handover: bool = False) -> dict:
    """The payload expected of a reply that is not a retrieval answer."""
    procedure = ProcedureRef.of(FIXTURE_PROCEDURES[code]) if code else None
    answer = Answer(decision="answer", aspect=aspect, text="", procedure=procedure, reason=reason, handover=handover)
    return answer_payload(answer)


def choice(reason: str) -> dict:
    """The payload expected of a choice between the birth-registration records of the fixture corpus."""
    options = [CandidateView.of(FIXTURE_PROCEDURES[code]) for code in ("2.000986", "1.001193")]
    return answer_payload(Answer(decision="clarify", aspect="general", text="", options=options, reason=reason))


def answer_slots(code: str | None, aspect: str, offered: bool, options: list[str] | None = None) -> list[dict]:
    return [
        SlotSet("procedure_code", code),
        SlotSet("candidate_codes", options or []),
        SlotSet("aspect", aspect),
        SlotSet("guide_offered", offered),
    ]


@pytest.fixture(scope="module")
def guide(fixture_service) -> OnlineGuide:
    return OnlineGuide(fixture_service.composer)


# -- questions and follow-ups ---------------------------------------------------------------


def test_a_question_is_answered_with_the_offer_to_guide(fixture_service) -> None:
    question = "đăng ký khai sinh cần giấy tờ gì"
    events, messages = run(ActionAnswerProcedure(fixture_service), make_tracker(question))
    expected = fixture_service.ask(question)
    assert expected.procedure.code == "1.001193" and expected.aspect == "documents"
    assert events == answer_slots("1.001193", "documents", True)
    assert messages == [message(f"{expected.text}\n{OFFER_LINE}", answer_payload(expected))]


def test_an_unanswerable_question_abstains_with_hotline_and_portal(fixture_service) -> None:
    events, messages = run(ActionAnswerProcedure(fixture_service), make_tracker("xin giấy phép nuôi chim cảnh"))
    assert events == answer_slots(None, "general", False)
    [sent] = messages
    assert sent["custom"]["answer"]["decision"] == "abstain" and sent["custom"]["answer"]["procedure"] is None
    assert "1900 1009" in sent["text"] and "https://dichvucong.gov.vn" in sent["text"]
    assert OFFER_LINE not in sent["text"]


def test_a_procedure_that_cannot_be_done_online_is_not_offered_a_guide(fixture_service) -> None:
    events, messages = run(ActionAnswerProcedure(fixture_service), make_tracker("liên thông khai sinh"))
    assert events == answer_slots("2.000986", "general", False)
    assert messages == [message(fixture_service.answer_about("2.000986", "general").text, messages[0]["custom"])]


@pytest.mark.parametrize(
    ("text", "aspect"),
    [("thế lệ phí bao nhiêu?", "fee"), ("nộp ở đâu", "where"), ("the can giay to gi", "documents")],
)
def test_a_follow_up_answers_the_current_procedure(fixture_service, text: str, aspect: str) -> None:
    tracker = make_tracker(text, "ask_aspect", {"procedure_code": "1.001193"})
    events, messages = run(ActionAnswerAspect(fixture_service), tracker)
    expected = fixture_service.answer_about("1.001193", aspect)
    assert events == answer_slots("1.001193", aspect, True)
    assert messages == [message(f"{expected.text}\n{OFFER_LINE}", answer_payload(expected))]


def test_an_aspect_button_answers_the_current_procedure(fixture_service) -> None:
    entities = [{"entity": "aspect_button", "value": "time"}]
    tracker = make_tracker("", "ask_aspect", {"procedure_code": "1.004194"}, entities)
    events, messages = run(ActionAnswerAspect(fixture_service), tracker)
    assert events == answer_slots("1.004194", "time", True)
    assert messages[0]["custom"]["answer"]["aspect"] == "time"


def test_a_follow_up_with_no_procedure_asks_which_procedure(fixture_service) -> None:
    events, messages = run(ActionAnswerAspect(fixture_service), make_tracker("lệ phí bao nhiêu", "ask_aspect"))
    assert events == answer_slots(None, "fee", False)
    assert messages[0]["text"] == WHICH_PROCEDURE_REPLY.format(aspect="phí, lệ phí")
    assert messages[0]["custom"]["answer"]["decision"] == "abstain"


# -- choices --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["số 2", "cái thứ hai", "2", "chon so 2"])
def test_a_number_picks_among_the_options(fixture_service, text: str) -> None:
    tracker = make_tracker(text, "choose_option", {"candidate_codes": ["2.000986", "1.001193"]})
    events, messages = run(ActionChooseOption(fixture_service), tracker)
    expected = fixture_service.answer_about("1.001193", "general")
    assert events == answer_slots("1.001193", "general", True)
    assert messages == [message(f"{expected.text}\n{OFFER_LINE}", answer_payload(expected))]


def test_a_button_picks_its_code_and_aspect(fixture_service) -> None:
    entities = [{"entity": "chosen_code", "value": "1.004194"}, {"entity": "aspect_button", "value": "fee"}]
    tracker = make_tracker("/choose_option", "choose_option", {"candidate_codes": ["2.000986"]}, entities)
    events, messages = run(ActionChooseOption(fixture_service), tracker)
    assert events == answer_slots("1.004194", "fee", True)
    assert messages[0]["custom"]["answer"]["procedure"]["code"] == "1.004194"


def test_a_number_out_of_range_asks_again_with_the_same_options(fixture_service) -> None:
    tracker = make_tracker("số 5", "choose_option", {"candidate_codes": ["2.000986", "1.001193"]})
    events, messages = run(ActionChooseOption(fixture_service), tracker)
    names = {code: fixture_service.procedure(code).name for code in ("2.000986", "1.001193")}
    assert events == []
    assert messages == [
        message(
            "Bạn hãy chọn một số từ 1 đến 2 trong danh sách trên.",
            choice("choice_out_of_range"),
            [
                {"title": f"1. {names['2.000986'][:60]}", "payload": '/choose_option{"chosen_code": "2.000986"}'},
                {"title": f"2. {names['1.001193'][:60]}", "payload": '/choose_option{"chosen_code": "1.001193"}'},
            ],
        )
    ]


# -- life events ------------------------------------------------------------------------------


def test_a_life_event_offers_the_procedures_done_together(fixture_service) -> None:
    events, messages = run(ActionLifeEvent(fixture_service), make_tracker("tôi vừa sinh con", "life_event"))
    # of the birth chain, the fixture corpus holds the combined record and the birth registration
    first, second = (fixture_service.procedure(code) for code in ("2.000986", "1.001193"))
    assert events == [SlotSet("candidate_codes", ["2.000986", "1.001193"]), SlotSet("guide_offered", False)]
    text = (
        "Sinh con: đây là các thủ tục người dân thường làm, bạn cần thủ tục nào? Trả lời bằng số thứ tự:\n"
        f"1. {first.name} (mã 2.000986)\n2. {second.name} (mã 1.001193)"
    )
    assert messages == [
        message(
            text,
            choice("life_event:birth"),
            [
                {"title": f"1. {first.name[:60]}", "payload": '/choose_option{"chosen_code": "2.000986"}'},
                {"title": f"2. {second.name[:60]}", "payload": '/choose_option{"chosen_code": "1.001193"}'},
            ],
        )
    ]


def test_an_unknown_life_event_lists_the_events_known(fixture_service) -> None:
    events, messages = run(ActionLifeEvent(fixture_service), make_tracker("nhà tôi có việc", "life_event"))
    assert events == [SlotSet("candidate_codes", []), SlotSet("guide_offered", False)]
    assert messages == [message(UNKNOWN_LIFE_EVENT, info("life_event_unknown"))]


# -- the guided online submission -----------------------------------------------------------


def test_accepting_the_offer_starts_the_guide_for_the_current_procedure(fixture_service) -> None:
    tracker = make_tracker("có", "affirm", {"procedure_code": "1.001193", "guide_offered": True, "has_vneid": True})
    events, messages = run(ActionStartGuide(fixture_service), tracker)
    assert messages == []
    assert events == [
        SlotSet("guide_ready", True),
        SlotSet("guide_offered", False),
        SlotSet("procedure_code", "1.001193"),
        SlotSet("candidate_codes", []),
        *[SlotSet(slot, None) for slot in FORM_SLOTS],
    ]


def test_a_request_to_be_guided_that_names_a_procedure_uses_it(fixture_service) -> None:
    tracker = make_tracker("hướng dẫn đăng ký tạm trú online", "how_online", {"procedure_code": "1.001193"})
    events, _ = run(ActionStartGuide(fixture_service), tracker)
    assert events[:3] == [
        SlotSet("guide_ready", True),
        SlotSet("guide_offered", False),
        SlotSet("procedure_code", "1.004194"),
    ]


def test_a_request_to_be_guided_with_no_procedure_asks_which(fixture_service) -> None:
    events, messages = run(ActionStartGuide(fixture_service), make_tracker("hướng dẫn tôi làm online", "how_online"))
    assert events == [SlotSet("guide_ready", False), SlotSet("guide_offered", False)]
    assert messages == [message(ASK_WHICH_PROCEDURE, info("guide_no_procedure"))]


def test_a_procedure_that_cannot_be_done_online_is_said_so(fixture_service, guide: OnlineGuide) -> None:
    tracker = make_tracker("làm online thế nào", "how_online", {"procedure_code": "2.000986"})
    events, messages = run(ActionStartGuide(fixture_service), tracker)
    procedure = fixture_service.procedure("2.000986")
    assert events == [
        SlotSet("guide_ready", False),
        SlotSet("guide_offered", False),
        SlotSet("procedure_code", "2.000986"),
    ]
    assert messages == [message(guide.not_online(procedure), info("guide_offline", "2.000986", "online"))]
    assert "chưa có hình thức nộp trực tuyến" in messages[0]["text"]


def test_the_guide_asks_for_a_vneid_account(fixture_service) -> None:
    tracker = make_tracker("có", "affirm", {"procedure_code": "1.001193"}, active_loop="online_guide_form")
    events, messages = run(ActionAskHasVneid(fixture_service), tracker)
    assert events == []
    assert messages == [
        message(
            "Mình hướng dẫn bạn nộp trực tuyến thủ tục “Thủ tục đăng ký khai sinh” (mã 1.001193) từng bước.\n"
            "Để nộp trực tuyến, bạn đăng nhập bằng tài khoản định danh điện tử VNeID. "
            "Bạn đã có tài khoản VNeID mức độ 2 chưa?",
            info("ask_has_vneid", "1.001193", "online"),
            [{"title": "Đã có", "payload": "/affirm"}, {"title": "Chưa có", "payload": "/deny"}],
        )
    ]


def test_the_login_step_names_the_portals_and_this_procedure_s_page(fixture_service) -> None:
    tracker = make_tracker("có", "affirm", {"procedure_code": "1.001193", "has_vneid": True})
    _, [sent] = run(ActionAskGuideLogin(fixture_service), tracker)
    procedure = fixture_service.procedure("1.001193")
    assert sent["text"].startswith(
        "Bước 1 — Đăng nhập và mở đúng thủ tục:\n• Cổng Dịch vụ công quốc gia (https://dichvucong.gov.vn)"
    )
    assert "Ứng dụng iHanoi (Công dân Thủ đô số) (nguồn: 004_6d6cf46d26a1f0d3.txt)" in sent["text"]
    assert f"• Trang của thủ tục này (mã 1.001193): {procedure.url}" in sent["text"]
    assert "tài khoản định danh điện tử mức độ 2" not in sent["text"]
    assert sent["buttons"] == GUIDE_BUTTONS and sent["custom"] == info("ask_guide_login", "1.001193", "online")


def test_without_an_account_the_login_step_starts_with_how_to_get_one(fixture_service) -> None:
    tracker = make_tracker("chưa", "deny", {"procedure_code": "1.001193", "has_vneid": False})
    _, [sent] = run(ActionAskGuideLogin(fixture_service), tracker)
    # the fixture corpus lacks the account record (3.000228): the step says how to ask for it
    assert sent["text"].startswith("Bạn cần có tài khoản định danh điện tử mức độ 2 trước khi nộp trực tuyến.")
    assert "\n\nBước 1 — Đăng nhập" in sent["text"]


def test_the_documents_step_quotes_what_the_record_says_need_not_be_submitted(fixture_service) -> None:
    tracker = make_tracker("tiếp", "affirm", {"procedure_code": "1.001193"})
    _, [sent] = run(ActionAskGuideDocuments(fixture_service), tracker)
    assert sent["text"].startswith("Bước 2 — Khai thông tin và tải lên giấy tờ")
    assert "• Giấy chứng sinh; trường hợp không có Giấy chứng sinh" in sent["text"]
    assert "Không phải nộp lại trong các trường hợp Cổng ghi:" in sent["text"]
    assert "thì không phải nộp bản giấy.”" in sent["text"]
    assert "được hệ thống điền tự động thì không phải tải lên (theo hình thức trực tuyến)”" in sent["text"]


def test_a_record_that_exempts_nothing_says_nothing_about_exemptions(fixture_service) -> None:
    tracker = make_tracker("tiếp", "affirm", {"procedure_code": "1.004194"})
    _, [sent] = run(ActionAskGuideDocuments(fixture_service), tracker)
    exempt = OnlineGuide(fixture_service.composer).exemptions(fixture_service.procedure("1.004194"))
    assert ("Không phải nộp lại" in sent["text"]) == bool(exempt)


def test_the_payment_step_of_a_free_procedure(fixture_service) -> None:
    tracker = make_tracker("tiếp", "affirm", {"procedure_code": "1.001193"})
    _, [sent] = run(ActionAskGuidePayment(fixture_service), tracker)
    assert sent["text"] == (
        "Bước 3 — Phí, lệ phí và thanh toán:\n"
        "• Khi nộp trực tuyến: Miễn phí.\n"
        "• Thủ tục này không mất phí khi nộp trực tuyến, bạn không phải thanh toán.\n"
        "Làm xong bước này bạn nhắn “tiếp”; nếu bị vướng, nhắn “bị kẹt”."
    )


def test_the_payment_step_of_a_paid_procedure_cites_cashless_payment(fixture_service) -> None:
    tracker = make_tracker("tiếp", "affirm", {"procedure_code": "3.000348"})  # driving licence: 135.000 đồng
    _, [sent] = run(ActionAskGuidePayment(fixture_service), tracker)
    assert "135.000 đồng" in sent["text"]
    assert "mã QR động. (nguồn: 004_6d6cf46d26a1f0d3.txt, quý I/2025)" in sent["text"]
    assert "không phải thanh toán" not in sent["text"]


def test_the_guide_ends_with_tracking_and_the_result_and_clears_the_form(fixture_service) -> None:
    tracker = make_tracker("xong", "affirm", {"procedure_code": "1.001193", "has_vneid": True, "guide_ready": True})
    events, [sent] = run(ActionGuideFinish(fixture_service), tracker)
    assert events == [SlotSet("guide_ready", False), *[SlotSet(slot, None) for slot in FORM_SLOTS]]
    assert sent["text"].startswith("Bước 4 — Theo dõi hồ sơ và nhận kết quả:")
    assert (
        "thông báo tiến độ và kết quả xử lý hồ sơ" in sent["text"] and "001_220c3e769767ef49.txt, 2026" in sent["text"]
    )
    assert "• Kết quả bạn nhận được: Giấy khai sinh." in sent["text"]
    assert sent["custom"] == info("guide_finish", "1.001193", "online")


# -- help, handover, feedback -------------------------------------------------------------------


def test_stuck_lists_the_kinds_of_help_with_sources(fixture_service, hanoi) -> None:
    events, [sent] = run(ActionStuckHelp(fixture_service), make_tracker("tôi bị kẹt", "stuck"))
    lines = sent["text"].split("\n")
    assert events == [] and lines[0] == "Nếu bạn bị vướng khi làm trực tuyến, có những nơi hỗ trợ:"
    assert lines[1:] == [f"• {hanoi.fact(f).text} {hanoi.citation(hanoi.fact(f))}" for f in hanoi.first_time_support]
    assert "Điểm hỗ trợ Dịch vụ công số" in sent["text"] and "1900 1009" in sent["text"]
    assert sent["custom"] == info("stuck_help")


def test_handover_gives_the_hotline_and_feedback_channels_and_flags(fixture_service) -> None:
    events, [sent] = run(ActionHandover(fixture_service), make_tracker("gặp tổng đài viên", "human_handover"))
    assert events == []
    assert "1900 1009" in sent["text"] and "kiemsoatthutuchanhchinh@hanoi.gov.vn" in sent["text"]
    assert sent["custom"] == info("handover", handover=True)


def test_feedback_thanks_and_says_where_complaints_go(fixture_service) -> None:
    events, [sent] = run(ActionFeedback(fixture_service), make_tracker("trả lời sai rồi", "feedback"))
    assert events == [] and sent["text"].startswith("Cảm ơn bạn đã góp ý")
    assert "kiemsoatthutuchanhchinh@hanoi.gov.vn" in sent["text"] and sent["custom"] == info("feedback")


def test_every_custom_action_of_the_domain_is_made(fixture_service) -> None:
    import yaml

    from knowledge.settings import REPOSITORY_ROOT

    domain = yaml.safe_load((REPOSITORY_ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
    assert sorted(action.name() for action in make_actions(fixture_service)) == sorted(domain["actions"])
