"""``converse``: the one function every chat door calls (web widget, Telegram, Zalo, console).

It loads the session's state from the shared store, lets the dialogue answer, and stores the
masked question, the reply and the new state in one transaction before anything is sent back, so
any worker can continue the conversation and nothing acknowledged is lost. The Rasa dialogue
layer slots in here without touching the adapters.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.store import ConversationStore
from knowledge.dialogue import respond
from knowledge.service import Answer, AnswerService
from nlu.aspects import Aspect
from nlu.text import normalize

CHANNELS = ("web", "console", "api", "telegram", "zalo")


@dataclass(frozen=True)
class ChatReply:
    answer_id: str
    session_key: str
    answer: Answer

    @property
    def text(self) -> str:
        return self.answer.text

    @property
    def options(self) -> list[tuple[str, str]]:
        """(code, name) of the procedures offered to choose from, in the numbered order of the text."""
        return [(option.code, option.name) for option in self.answer.options]


class Conversations:
    def __init__(self, service: AnswerService, store: ConversationStore, max_chars: int = 2000) -> None:
        self.service = service
        self.store = store
        self.max_chars = max_chars

    def converse(
        self,
        channel: str,
        user_id: str,
        text: str,
        *,
        procedure_code: str | None = None,
        aspect: Aspect | None = None,
    ) -> ChatReply:
        """Answer one message (or one button: ``procedure_code``/``aspect``) of ``user_id`` on ``channel``."""
        session_key = f"{channel}:{user_id}"
        text = normalize(text or "")[: self.max_chars]
        state = self.store.load_state(session_key)
        answer, state = respond(self.service, state, text, procedure_code, aspect)
        logged = text or f"[nút] {procedure_code or ''} {aspect or ''}".strip()
        answer_id = self.store.record_turn(session_key, channel, logged, answer, state)
        return ChatReply(answer_id, session_key, answer)
