"""``converse``: the one function every chat door calls (web widget, Telegram, Zalo, console).

With a Rasa server configured (``ASSISTANT_RASA_URL``) the message goes through Rasa's REST
channel (sender ``channel:user``), already NFC-normalised and with personal numbers masked, so
neither Rasa nor its tracker store ever sees them. The custom actions (served by this app at
/rasa/webhook) attach the answer's metadata to each bot message; from it the reply every door
shows is rebuilt. When Rasa is not configured, unreachable or slow, the answer service replies
directly (knowledge.dialogue: same replies minus the multi-turn dialogue) and the user sees no
error. Either way the masked question, the reply and the state are stored in one transaction
before anything is sent back, so any worker can continue the conversation.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from api.metrics import Metrics
from api.offline import OfflineSwitch
from api.rasa_client import RasaClient
from api.store import ConversationStore
from knowledge.answer.contract import Answer, answer_from_payload
from knowledge.dialogue import DialogueState, respond
from knowledge.service import AnswerService
from nlu.aspects import ASPECTS, Aspect
from nlu.pii import mask_pii
from nlu.text import normalize

log = logging.getLogger("api.conversation")

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


@dataclass(frozen=True)
class DialogueTurn:
    """What the dialogue layer made of one message."""

    answer: Answer
    state: DialogueState
    handover: bool = False


class Conversations:
    def __init__(
        self,
        service: AnswerService,
        store: ConversationStore,
        max_chars: int = 2000,
        rasa: RasaClient | None = None,
        switch: OfflineSwitch | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.service = service
        self.store = store
        self.max_chars = max_chars
        self.rasa = rasa
        self.switch = switch
        self.metrics = metrics

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
        logged = text or f"[nút] {procedure_code or ''} {aspect or ''}".strip()
        with self._stage("store"):
            state = self.store.load_state(session_key)
        paused = self.switch.message() if self.switch is not None else ""
        if paused:
            # Staff switched the assistant off: the user gets the message, the question is kept.
            paused_answer = Answer(question=text, decision="abstain", aspect="general", text=paused, reason="offline")
            turn = DialogueTurn(paused_answer, state)
        else:
            with self._stage("rasa"):
                turn = self._through_rasa(session_key, text, state, procedure_code, aspect)
            if turn is None:
                with self._stage("retrieval"):
                    answer, new_state = respond(self.service, state, text, procedure_code, aspect)
                turn = DialogueTurn(answer, new_state)
        with self._stage("store"):
            answer_id = self.store.record_turn(session_key, channel, logged, turn.answer, turn.state)
            if turn.handover:
                self.store.flag_handover(session_key)
        return ChatReply(answer_id, session_key, turn.answer)

    @contextmanager
    def _stage(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            if self.metrics is not None and (stage != "rasa" or self.rasa is not None):
                self.metrics.stages.labels(stage).observe(time.perf_counter() - started)

    def rasa_state(self) -> str:
        """For readiness: 'off' (not configured), 'ok', or 'unreachable' (degraded mode)."""
        return "off" if self.rasa is None else self.rasa.state()

    # -- the Rasa path ----------------------------------------------------------------------

    def _through_rasa(
        self,
        session_key: str,
        text: str,
        state: DialogueState,
        procedure_code: str | None,
        aspect: Aspect | None,
    ) -> DialogueTurn | None:
        if self.rasa is None:
            return None
        message = rasa_message(text, procedure_code, aspect)
        if not message:
            return None
        messages = self.rasa.send(session_key, message)
        if self.metrics is not None:
            self.metrics.rasa_up.set(0 if messages is None else 1)
        if not messages:
            return None
        return self._turn_from_messages(text, messages, state)

    def _turn_from_messages(self, question: str, messages: list[dict], state: DialogueState) -> DialogueTurn:
        """The reply from the bot messages: their texts joined, the answer the last one carries."""
        texts = [str(message["text"]) for message in messages if message.get("text")]
        carried = [answer for message in messages if (answer := answer_from_payload(message.get("custom")))]
        plain = Answer(question=question, decision="answer", aspect="general", text="")
        answer = (carried[-1] if carried else plain).model_copy(
            update={"question": question, "text": "\n\n".join(texts)}
        )
        if not answer.reason:
            answer = answer.model_copy(update={"reason": "dialogue"})
        new_state = DialogueState(
            answer.procedure.code if answer.procedure else state.procedure_code,
            [option.code for option in answer.options],
        )
        return DialogueTurn(answer, new_state, handover=any(item.handover for item in carried))


def rasa_message(text: str, procedure_code: str | None = None, aspect: Aspect | None = None) -> str:
    """What is sent to Rasa: the masked text, or a button as an intent payload with its entities."""
    if aspect is not None and aspect not in ASPECTS:
        aspect = None
    if procedure_code:
        entities = {"chosen_code": procedure_code.strip()[:40]}
        if aspect:
            entities["aspect_button"] = aspect
        return "/choose_option" + json.dumps(entities, ensure_ascii=False)
    if aspect and not text:
        return "/ask_aspect" + json.dumps({"aspect_button": aspect})
    # A typed message starting with "/" would be read by Rasa as an intent payload.
    return mask_pii(text).lstrip("/").strip()
