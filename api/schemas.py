"""Request and response bodies of the public API (what the OpenAPI document describes)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from knowledge.answer.aspects import ASPECT_REGISTRY
from knowledge.answer.contract import Answer, CandidateView
from knowledge.ingest.records import Procedure
from knowledge.service import AnswerService
from nlu.aspects import Aspect

AspectName = Aspect  # declared once, in nlu.aspects; titles and order in knowledge.answer.aspects
Decision = Literal["answer", "clarify", "abstain"]
SESSION_PATTERN = r"^[A-Za-z0-9_.:\-]{1,100}$"
CODE_PATTERN = r"^[0-9A-Za-z.\-_]{1,40}$"


class AskRequest(BaseModel):
    question: str = Field("", max_length=2000, description="The user's message; may be empty when a button is sent.")
    session_id: str = Field(..., pattern=SESSION_PATTERN, description="Chosen by the client; one per conversation.")
    channel: Literal["web", "console", "api"] = "web"
    procedure_code: str | None = Field(None, pattern=CODE_PATTERN, description="A candidate button: answer about it.")
    aspect: AspectName | None = Field(None, description="With a button: the part asked (documents, fee, ...).")


class Candidate(BaseModel):
    code: str
    name: str
    score: float

    @classmethod
    def of(cls, view: CandidateView) -> Candidate:
        return cls(code=view.code, name=view.name, score=view.score)


class Citation(BaseModel):
    code: str
    url: str
    decision: str = Field(description="The decision that published the procedure.")
    source: str = Field(description="The data source and the date it was collected.")


class CardSection(BaseModel):
    aspect: AspectName
    title: str
    lines: list[str]


class ProcedureCard(BaseModel):
    code: str
    name: str
    url: str
    levels: list[str]
    field: str | None
    online_level: str
    online_level_source: str
    sections: list[CardSection]
    short_answer: str = Field(description="A short summary an agent can read out or paste.")
    citation: Citation


class AspectButton(BaseModel):
    aspect: AspectName
    label: str


class AspectInfo(BaseModel):
    aspect: AspectName
    title: str = Field(description="The section's title on the card and in replies.")
    button: str | None = Field(description="The label of its follow-up button after an answer; null when not offered.")


class AskResponse(BaseModel):
    answer_id: str
    session_id: str
    decision: Decision
    aspect: AspectName
    reply: str
    procedure: ProcedureCard | None
    options: list[Candidate] = Field(description="Procedures to choose from (clarify): the numbered ones in the reply.")
    candidates: list[Candidate] = Field(description="The retrieval ranking behind the decision.")
    citation: Citation | None
    follow_ups: list[AspectButton] = Field(
        description="After an answer about a procedure: the aspects to ask next, as buttons (label, aspect)."
    )


class SearchResponse(BaseModel):
    query: str
    decision: Decision
    aspect: AspectName
    results: list[Candidate]


class FeedbackRequest(BaseModel):
    answer_id: str = Field(..., pattern=r"^[0-9a-f]{32}$")
    useful: bool
    comment: str | None = Field(None, max_length=2000)


class FeedbackResponse(BaseModel):
    feedback_id: int
    answer_id: str


class Health(BaseModel):
    status: Literal["ok", "not_ready"]
    checks: dict[str, str] = {}


class ErrorBody(BaseModel):
    detail: str


def citation_of(service: AnswerService, procedure: Procedure) -> Citation:
    source = service.hanoi.national_source
    return Citation(
        code=procedure.code,
        url=procedure.url,
        decision=procedure.decision,
        source=f"{source.name}, dữ liệu thu thập {source.collected}",
    )


def card_of(service: AnswerService, procedure: Procedure) -> ProcedureCard:
    composer = service.composer
    level, level_source = service.hanoi.online_level(procedure)
    sections = [
        CardSection(aspect=spec.id, title=spec.title, lines=composer.section(procedure, spec.id))
        for spec in ASPECT_REGISTRY
    ]
    return ProcedureCard(
        code=procedure.code,
        name=procedure.name,
        url=procedure.url,
        levels=list(procedure.levels),
        field=procedure.field,
        online_level=level,
        online_level_source=level_source,
        sections=sections,
        short_answer=composer.short_answer(procedure),
        citation=citation_of(service, procedure),
    )


def ask_response(service: AnswerService, answer_id: str, session_id: str, answer: Answer) -> AskResponse:
    # the card is the hotline's view of the whole record, rendered from it at the edge
    procedure = service.procedure(answer.procedure.code) if answer.procedure else None
    return AskResponse(
        answer_id=answer_id,
        session_id=session_id,
        decision=answer.decision,
        aspect=answer.aspect,
        reply=answer.text,
        procedure=card_of(service, procedure) if procedure else None,
        options=[Candidate.of(option) for option in answer.options],
        candidates=[Candidate.of(candidate) for candidate in answer.candidates[:5]],
        citation=citation_of(service, procedure) if procedure else None,
        follow_ups=follow_up_buttons() if answer.decision == "answer" and procedure else [],
    )


def follow_up_buttons() -> list[AspectButton]:
    return [AspectButton(aspect=spec.id, label=spec.button) for spec in ASPECT_REGISTRY.buttons if spec.button]


def aspect_infos() -> list[AspectInfo]:
    return [AspectInfo(aspect=spec.id, title=spec.title, button=spec.button) for spec in ASPECT_REGISTRY]
