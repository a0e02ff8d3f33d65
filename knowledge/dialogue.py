"""One turn of a conversation without Rasa: choices after a clarification and follow-ups.

The state is a small value the caller keeps (in memory for the terminal chat, in the store for
the API so that any worker can continue a conversation). ``respond`` never raises on user input.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from knowledge.answer.contract import Answer
from knowledge.errors import ProcedureNotFound
from knowledge.service import AnswerService
from nlu.aspects import ASPECTS, Aspect, cued_aspects

# A follow-up ("thế lệ phí bao nhiêu?", "nộp ở đâu") is short; a longer question with an aspect
# cue is more likely a new question about another procedure.
FOLLOW_UP_MAX_WORDS = 6

UNKNOWN_CODE_REPLY = "Mình không tìm thấy thủ tục có mã {code} trong cơ sở dữ liệu. Bạn hãy gõ câu hỏi bằng lời."


@dataclass(frozen=True)
class DialogueState:
    """What the conversation is about: the current procedure and any numbered options offered."""

    procedure_code: str | None = None
    options: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"procedure_code": self.procedure_code, "options": list(self.options)}

    @classmethod
    def from_dict(cls, data: dict | None) -> DialogueState:
        data = data or {}
        options = [str(code) for code in data.get("options") or [] if isinstance(code, str)]
        code = data.get("procedure_code")
        return cls(code if isinstance(code, str) else None, options)


def respond(
    service: AnswerService,
    state: DialogueState,
    text: str,
    procedure_code: str | None = None,
    aspect: Aspect | None = None,
) -> tuple[Answer, DialogueState]:
    """The answer to ``text`` (normalised by the caller: ``nlu.text.normalize``) or to a button, and the next state."""
    if aspect is not None and aspect not in ASPECTS:
        aspect = None
    if procedure_code:
        return _about(service, state, procedure_code.strip(), aspect or "general")
    # the door (converse, the terminal chat) normalised the text once already
    text = (text or "").strip()
    # isdecimal, not isdigit: "²" is a digit that int() refuses; "２" (full width) is a choice too
    if state.options and text.isdecimal() and 1 <= int(text) <= len(state.options):
        return _about(service, state, state.options[int(text) - 1], aspect or "general")
    if state.procedure_code and aspect and not text:
        return _about(service, state, state.procedure_code, aspect)
    cued = cued_aspects(text)
    if state.procedure_code and cued and len(text.split()) <= FOLLOW_UP_MAX_WORDS:
        return _about(service, state, state.procedure_code, cued[0])
    answer = service.ask(text)
    options = [option.code for option in answer.options]
    code = answer.procedure.code if answer.procedure else state.procedure_code
    return answer, DialogueState(code, options)


def _about(service: AnswerService, state: DialogueState, code: str, aspect: Aspect) -> tuple[Answer, DialogueState]:
    try:
        answer = service.answer_about(code, aspect)
    except ProcedureNotFound:
        text = UNKNOWN_CODE_REPLY.format(code=code[:40])
        answer = Answer(question=code, decision="abstain", aspect=aspect, text=text, reason="unknown_code")
        return answer, replace(state, options=[])
    return answer, DialogueState(code, [])
