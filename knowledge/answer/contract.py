"""The answer contract: what the answer service returns and every door carries unchanged.

The service builds an :class:`Answer`; the Rasa custom actions send it as the ``custom``
payload of their message (:func:`answer_payload`); the API rebuilds it from there with
:func:`answer_from_payload` and shows it on every channel. One typed value end to end, so no door
parses loose dicts or looks the procedure up again to know what was answered.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from knowledge.ingest.records import Procedure
from knowledge.retrieval.decide import Decision
from nlu.aspects import Aspect

# Rasa keeps every bot message in its tracker: the payload carries the ranking's head only,
# which is all any door shows or stores.
PAYLOAD_CANDIDATES = 5


class ProcedureRef(BaseModel):
    """The procedure an answer is about: enough to name it, cite it and continue the conversation."""

    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    url: str

    @classmethod
    def of(cls, procedure: Procedure) -> ProcedureRef:
        return cls(code=procedure.code, name=procedure.name, url=procedure.url)


class CandidateView(BaseModel):
    """A ranked or offered procedure as doors show it."""

    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    score: float = 0.0

    @classmethod
    def of(cls, procedure: Procedure, score: float = 0.0) -> CandidateView:
        return cls(code=procedure.code, name=procedure.name, score=score)


class Answer(BaseModel):
    """What every channel shows: the reply and the structure behind it."""

    model_config = ConfigDict(frozen=True)

    question: str = ""
    decision: Decision
    # a domain response of the Rasa project may carry only its decision and reason
    aspect: Aspect = "general"
    text: str = ""
    procedure: ProcedureRef | None = None
    candidates: list[CandidateView] = Field(default_factory=list)
    options: list[CandidateView] = Field(default_factory=list)
    reason: str = ""
    # the user asked for a person: staff see the conversation flagged
    handover: bool = False

    @property
    def citation_url(self) -> str | None:
        return self.procedure.url if self.procedure else None


def answer_payload(answer: Answer) -> dict[str, Any]:
    """The ``custom`` part of a bot message that carries ``answer``."""
    head = answer.model_copy(update={"candidates": answer.candidates[:PAYLOAD_CANDIDATES]})
    return {"answer": head.model_dump(mode="json")}


def answer_from_payload(custom: object) -> Answer | None:
    """The answer a bot message carries, or None when it carries none (or not one of ours)."""
    if not isinstance(custom, dict):
        return None
    try:
        return Answer.model_validate(custom.get("answer"))
    except ValidationError:
        return None
