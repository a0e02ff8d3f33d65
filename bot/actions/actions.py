"""Custom actions of the dialogue: read slots → call the answer service or the guide → dispatch.

Every action is built with the answer service the API already loaded (``make_actions``), so the
FastAPI app can serve them in-process at /rasa/webhook. Each bot message carries a ``custom``
payload (``{"answer": {...}}``, see ``answer_payload``) from which ``converse`` rebuilds the
reply every channel shows: decision, aspect, procedure code, option codes.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge.answer.contract import Answer, CandidateView, ProcedureRef, answer_payload
from knowledge.answer.guide import VNEID_ACCOUNT_CODE, OnlineGuide
from knowledge.answer.life_events import LifeEvents, cached_life_events
from knowledge.dialogue import DialogueState, respond
from knowledge.errors import ProcedureNotFound
from knowledge.ingest.records import Procedure
from knowledge.service import AnswerService
from nlu.aspects import ASPECTS, Aspect, cued_aspects
from nlu.choice import option_number
from nlu.text import folded_syllables

Domain = dict[str, Any]
FORM_SLOTS = ("has_vneid", "guide_login", "guide_documents", "guide_payment")
MAX_REPLY_CHARS = 2000
OFFER_LINE = "Bạn có muốn mình hướng dẫn nộp trực tuyến từng bước không? (trả lời “có”)"
ASK_WHICH_PROCEDURE = (
    "Bạn muốn làm thủ tục nào trực tuyến? Hãy gõ tên thủ tục, ví dụ “đăng ký khai sinh online”, "
    "rồi mình hướng dẫn từng bước."
)
CHOOSE_IN_RANGE = "Bạn hãy chọn một số từ 1 đến {count} trong danh sách trên."
UNKNOWN_LIFE_EVENT = (
    "Bạn đang chuẩn bị cho việc gì? Mình có gợi ý thủ tục cho: sinh con, kết hôn, mở cửa hàng/quán kinh doanh, "
    "người thân qua đời, chuyển nơi ở. Bạn cũng có thể hỏi thẳng tên thủ tục."
)
# Words of a request to be guided that name no procedure ("hướng dẫn tôi làm online với").
_GUIDE_TEXT = (
    "hướng dẫn chỉ giúp dẫn tôi mình em anh chị bạn cho với làm nộp hồ sơ online trực tuyến qua mạng thế nào "
    "như sao cách từng bước lần đầu muốn dịch vụ công dvc quốc gia trên vneid ihanoi app ứng dụng bắt đầu từ "
    "thủ tục này luôn đi ạ nhé nha được không ko chưa biết bao giờ tự ở nhà cổng để cần nhanh giùm hộ"
)
GUIDE_WORDS = frozenset(folded_syllables(_GUIDE_TEXT))


def info_payload(
    reason: str, procedure: Procedure | None = None, aspect: Aspect = "general", handover: bool = False
) -> dict[str, Any]:
    """The payload of a reply that is not a retrieval answer (guide steps, help, handover)."""
    reference = ProcedureRef.of(procedure) if procedure else None
    answer = Answer(decision="answer", aspect=aspect, text="", procedure=reference, reason=reason, handover=handover)
    return answer_payload(answer)


def choice_payload(options: list[Procedure], reason: str) -> dict[str, Any]:
    """The payload of a numbered choice among ``options`` offered outside retrieval."""
    views = [CandidateView.of(procedure) for procedure in options]
    return answer_payload(Answer(decision="clarify", aspect="general", text="", options=views, reason=reason))


def choice_buttons(options: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [
        {"title": f"{index}. {name[:60]}", "payload": f'/choose_option{{"chosen_code": "{code}"}}'}
        for index, (code, name) in enumerate(options, start=1)
    ]


def latest_text(tracker: Tracker) -> str:
    text = (tracker.latest_message or {}).get("text") or ""
    # converse normalised and masked it before it reached Rasa
    return "" if text.startswith("/") else text


def dialogue_state(tracker: Tracker) -> DialogueState:
    return DialogueState.from_dict(
        {"procedure_code": tracker.get_slot("procedure_code"), "options": tracker.get_slot("candidate_codes") or []}
    )


class ServiceAction(Action):
    """An action with the answer service and the online guide at hand."""

    action_name = ""

    def __init__(self, service: AnswerService, life_events: LifeEvents | None = None) -> None:
        self.service = service
        self.guide = OnlineGuide(service.composer)
        self.life_events = life_events or cached_life_events()

    def name(self) -> str:
        return self.action_name

    def current_procedure(self, tracker: Tracker) -> Procedure | None:
        return self.record(tracker.get_slot("procedure_code"))

    def record(self, code: str | None) -> Procedure | None:
        """The full record behind a code (the guide reads its channels and documents)."""
        if not code:
            return None
        try:
            return self.service.procedure(code)
        except ProcedureNotFound:
            return None

    def reply(self, dispatcher: CollectingDispatcher, answer: Answer, state: DialogueState) -> list[EventType]:
        """Send ``answer`` (with buttons for options, and the guide offer) and set the slots."""
        text = answer.text
        offered = (
            answer.decision == "answer"
            and (record := self.record(answer.procedure.code if answer.procedure else None)) is not None
            and self.guide.can_guide(record)
        )
        if offered and "mình có thể hướng dẫn" not in text:  # the online section offers it already
            if len(text) + len(OFFER_LINE) + 1 <= MAX_REPLY_CHARS:
                text = f"{text}\n{OFFER_LINE}"
            else:
                offered = False
        buttons = choice_buttons([(option.code, option.name) for option in answer.options])
        dispatcher.utter_message(text=text, buttons=buttons or None, json_message=answer_payload(answer))
        return [
            SlotSet("procedure_code", state.procedure_code),
            SlotSet("candidate_codes", list(state.options)),
            SlotSet("aspect", answer.aspect),
            SlotSet("guide_offered", offered),
        ]


class ActionAnswerProcedure(ServiceAction):
    """A question: the answer service decides (answer, clarify between candidates, abstain)."""

    action_name = "action_answer_procedure"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list[EventType]:
        answer, state = respond(self.service, dialogue_state(tracker), latest_text(tracker))
        return self.reply(dispatcher, answer, state)


class ActionAnswerAspect(ServiceAction):
    """A follow-up ("thế lệ phí bao nhiêu?") about the current procedure; a new question otherwise."""

    action_name = "action_answer_aspect"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list[EventType]:
        text = latest_text(tracker)
        state = dialogue_state(tracker)
        button = next(tracker.get_latest_entity_values("aspect_button"), None)
        aspect = (
            button if button in ASPECTS else next(iter(cued_aspects(text) or cued_aspects(text, strong=False)), None)
        )
        if state.procedure_code and aspect:
            answer, state = respond(self.service, state, "", state.procedure_code, aspect)
        else:
            answer, state = respond(self.service, state, text)
        return self.reply(dispatcher, answer, state)


class ActionChooseOption(ServiceAction):
    """A pick among the options offered: a button (its code) or a number ("số 2", "cái thứ hai")."""

    action_name = "action_choose_option"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list[EventType]:
        state = dialogue_state(tracker)
        code = next(tracker.get_latest_entity_values("chosen_code"), None)
        button = next(tracker.get_latest_entity_values("aspect_button"), None)
        aspect = button if button in ASPECTS else None
        text = latest_text(tracker)
        if not code and state.options:
            number = option_number(text)
            if number is None or not 1 <= number <= len(state.options):
                return self._ask_again(dispatcher, state)
            code = state.options[number - 1]
        if code:
            answer, state = respond(self.service, state, "", code, aspect)
        else:
            answer, state = respond(self.service, state, text)
        return self.reply(dispatcher, answer, state)

    def _ask_again(self, dispatcher: CollectingDispatcher, state: DialogueState) -> list[EventType]:
        options = [self._known(code) for code in state.options]
        dispatcher.utter_message(
            text=CHOOSE_IN_RANGE.format(count=len(options)),
            buttons=choice_buttons([(option.code, option.name) for option in options]),
            json_message=answer_payload(
                Answer(
                    decision="clarify",
                    aspect="general",
                    text="",
                    options=options,
                    reason="choice_out_of_range",
                )
            ),
        )
        return []

    def _known(self, code: str) -> CandidateView:
        try:
            return CandidateView.of(self.service.procedure(code))
        except ProcedureNotFound:
            return CandidateView(code=code, name=code)


class ActionLifeEvent(ServiceAction):
    """A life event ("tôi vừa sinh con"): the procedures done together, to pick from."""

    action_name = "action_life_event"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list[EventType]:
        event = self.life_events.match(latest_text(tracker))
        procedures = []
        for code in event.codes if event else []:
            try:
                procedures.append(self.service.procedure(code))
            except ProcedureNotFound:
                continue
        if not event or not procedures:
            dispatcher.utter_message(text=UNKNOWN_LIFE_EVENT, json_message=info_payload("life_event_unknown"))
            return [SlotSet("candidate_codes", []), SlotSet("guide_offered", False)]
        lines = [
            f"{event.title}: đây là các thủ tục người dân thường làm, bạn cần thủ tục nào? Trả lời bằng số thứ tự:"
        ]
        lines += [f"{index}. {p.name} (mã {p.code})" for index, p in enumerate(procedures, start=1)]
        codes = [p.code for p in procedures]
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=choice_buttons([(p.code, p.name) for p in procedures]),
            json_message=choice_payload(procedures, f"life_event:{event.key}"),
        )
        return [SlotSet("candidate_codes", codes), SlotSet("guide_offered", False)]


class ActionStartGuide(ServiceAction):
    """Starts the guided online submission when the procedure is known and can be done online."""

    action_name = "action_start_guide"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list[EventType]:
        procedure = self.current_procedure(tracker)
        text = latest_text(tracker)
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        names_procedure = intent == "how_online" and any(word not in GUIDE_WORDS for word in folded_syllables(text))
        if names_procedure:
            answer = self.service.ask(text)
            if answer.decision == "answer":
                procedure = self.record(answer.procedure.code if answer.procedure else None)
            elif answer.decision == "clarify":
                state = DialogueState(None, [option.code for option in answer.options])
                return [*self.reply(dispatcher, answer, state), SlotSet("guide_ready", False)]
        if procedure is None:
            dispatcher.utter_message(text=ASK_WHICH_PROCEDURE, json_message=info_payload("guide_no_procedure"))
            return [SlotSet("guide_ready", False), SlotSet("guide_offered", False)]
        if not self.guide.can_guide(procedure):
            dispatcher.utter_message(
                text=self.guide.not_online(procedure), json_message=info_payload("guide_offline", procedure, "online")
            )
            return [
                SlotSet("guide_ready", False),
                SlotSet("guide_offered", False),
                SlotSet("procedure_code", procedure.code),
            ]
        return [
            SlotSet("guide_ready", True),
            SlotSet("guide_offered", False),
            SlotSet("procedure_code", procedure.code),
            SlotSet("candidate_codes", []),
            *[SlotSet(slot, None) for slot in FORM_SLOTS],
        ]


class GuideStep(ServiceAction):
    """One question of the online guide form: the step's text for the current procedure."""

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list[EventType]:
        procedure = self.current_procedure(tracker)
        if procedure is None:  # the form is only started with a procedure; guard a stale tracker
            dispatcher.utter_message(text=ASK_WHICH_PROCEDURE, json_message=info_payload("guide_no_procedure"))
            return []
        dispatcher.utter_message(
            text=self.step_text(procedure, tracker),
            buttons=self.buttons(),
            json_message=info_payload(self.action_name.removeprefix("action_"), procedure, "online"),
        )
        return []

    def step_text(self, procedure: Procedure, tracker: Tracker) -> str:
        raise NotImplementedError

    def buttons(self) -> list[dict[str, str]]:
        return [{"title": "Tiếp", "payload": "/affirm"}, {"title": "Bị kẹt", "payload": "/stuck"}]


class ActionAskHasVneid(GuideStep):
    action_name = "action_ask_has_vneid"

    def step_text(self, procedure: Procedure, tracker: Tracker) -> str:
        return self.guide.ask_account(procedure)

    def buttons(self) -> list[dict[str, str]]:
        return [{"title": "Đã có", "payload": "/affirm"}, {"title": "Chưa có", "payload": "/deny"}]


class ActionAskGuideLogin(GuideStep):
    action_name = "action_ask_guide_login"

    def step_text(self, procedure: Procedure, tracker: Tracker) -> str:
        has_account = tracker.get_slot("has_vneid") is not False
        try:
            account = self.service.procedure(VNEID_ACCOUNT_CODE)
        except ProcedureNotFound:
            account = None
        return self.guide.login_step(procedure, has_account, account)


class ActionAskGuideDocuments(GuideStep):
    action_name = "action_ask_guide_documents"

    def step_text(self, procedure: Procedure, tracker: Tracker) -> str:
        return self.guide.documents_step(procedure)


class ActionAskGuidePayment(GuideStep):
    action_name = "action_ask_guide_payment"

    def step_text(self, procedure: Procedure, tracker: Tracker) -> str:
        return self.guide.payment_step(procedure)


class ActionGuideFinish(GuideStep):
    """The last step (follow the dossier, get the result); clears the form for the next time."""

    action_name = "action_guide_finish"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list[EventType]:
        procedure = self.current_procedure(tracker)
        if procedure is not None:
            dispatcher.utter_message(
                text=self.guide.result_step(procedure), json_message=info_payload("guide_finish", procedure, "online")
            )
        return [SlotSet("guide_ready", False), *[SlotSet(slot, None) for slot in FORM_SLOTS]]


class ActionStuckHelp(ServiceAction):
    """Stuck: the kinds of help that exist for first-time online users (Hanoi facts, cited)."""

    action_name = "action_stuck_help"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list[EventType]:
        dispatcher.utter_message(text=self.guide.stuck_help(), json_message=info_payload("stuck_help"))
        return []


class ActionHandover(ServiceAction):
    """A human: hotline and feedback channels; ``handover`` in the payload flags the conversation."""

    action_name = "action_handover"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list[EventType]:
        dispatcher.utter_message(text=self.guide.handover(), json_message=info_payload("handover", handover=True))
        return []


class ActionFeedback(ServiceAction):
    """Feedback about the assistant or a complaint: thanks, and where complaints are received."""

    action_name = "action_feedback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list[EventType]:
        dispatcher.utter_message(text=self.guide.feedback(), json_message=info_payload("feedback"))
        return []


ACTION_CLASSES: tuple[type[ServiceAction], ...] = (
    ActionAnswerProcedure,
    ActionAnswerAspect,
    ActionChooseOption,
    ActionLifeEvent,
    ActionStartGuide,
    ActionAskHasVneid,
    ActionAskGuideLogin,
    ActionAskGuideDocuments,
    ActionAskGuidePayment,
    ActionGuideFinish,
    ActionStuckHelp,
    ActionHandover,
    ActionFeedback,
)


def make_actions(service: AnswerService, life_events: LifeEvents | None = None) -> list[ServiceAction]:
    """Every custom action of the domain, sharing ``service``."""
    return [cls(service, life_events) for cls in ACTION_CLASSES]
