"""Three days of conversations on two channels, for the staff dashboard tests.

Turns go through the store's own ``record_turn`` (so questions are masked as in production) and
then get the seeded timestamps. The expected figures below are counted by hand from ``SEED``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import update

from api.settings import ApiSettings
from api.store import ConversationStore, interactions
from knowledge.answer.contract import Answer, ProcedureRef
from knowledge.dialogue import DialogueState
from knowledge.service import AnswerService

FIRST_DAY = date(2025, 3, 3)
LAST_DAY = date(2025, 3, 5)
BIRTH = "1.001193"  # Thủ tục đăng ký khai sinh
RESIDENCE = "1.004194"  # Đăng ký tạm trú
FIREWORKS = "xin giấy phép bắn pháo hoa đám cưới"
FIREWORKS_AGAIN = "muốn bắn pháo hoa trong đám cưới thì xin phép ở đâu"
PETS = "thủ tục nhận nuôi chó mèo bị bỏ rơi"
HANDOVER_USER = "telegram:t2"


@dataclass(frozen=True)
class Turn:
    day: int  # days after FIRST_DAY (-1 and 3 fall just outside the period)
    clock: str  # HH:MM:SS, UTC
    session: str  # channel:user
    question: str
    decision: str
    code: str | None = None
    useful: bool | None = None

    @property
    def channel(self) -> str:
        return self.session.split(":", 1)[0]

    @property
    def at(self) -> datetime:
        hour, minute, second = (int(part) for part in self.clock.split(":"))
        moment = datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, hour, minute, second, tzinfo=UTC)
        return moment + timedelta(days=self.day)


SEED = [
    Turn(-1, "23:59:59", "web:early", FIREWORKS, "abstain"),  # the evening before: outside
    Turn(0, "10:00:00", "web:u1", "đăng ký khai sinh cần giấy tờ gì", "answer", BIRTH, True),
    Turn(0, "10:01:00", "web:u1", "lệ phí bao nhiêu", "answer", BIRTH, False),
    Turn(0, "11:00:00", "web:u2", "khai sinh", "clarify"),
    Turn(0, "12:00:00", "telegram:t1", "đăng ký tạm trú ở đâu", "answer", RESIDENCE, True),
    Turn(1, "00:00:00", "web:u3", FIREWORKS, "abstain"),
    Turn(1, "09:02:00", "web:u3", FIREWORKS_AGAIN, "abstain"),
    Turn(1, "15:00:00", "web:u4", "đăng ký khai sinh cho con", "answer", BIRTH),
    Turn(2, "08:00:00", "telegram:t2", PETS, "abstain"),
    Turn(2, "08:05:00", "telegram:t2", "cho tôi gặp nhân viên", "answer"),
    Turn(2, "10:00:00", "web:u5", "đăng ký tạm trú cần gì", "answer", RESIDENCE, True),
    Turn(2, "10:02:00", "web:u5", f"[nút] {RESIDENCE} fee", "answer", RESIDENCE),
    Turn(2, "23:59:59", "telegram:t3", "gọi 0912345678 hỏi khai sinh", "answer", BIRTH, False),
    Turn(3, "00:00:00", "telegram:late", "đăng ký khai sinh", "answer", BIRTH, True),  # the next day: outside
]

# Counted by hand from SEED for FIRST_DAY..LAST_DAY, all channels.
PER_DAY = {"telegram": [1, 0, 3], "web": [3, 3, 2]}
TOTALS = {
    "questions": 12,
    "conversations": 8,
    "answered": 8,
    "clarified": 1,
    "abstained": 3,
    "handover_conversations": 1,
    "handover_turns": 2,
    "feedback": 5,
    "useful": 3,
    "useful_rate": 0.6,
}
# code: (questions, feedback, useful)
PROCEDURES = {BIRTH: (4, 3, 1), RESIDENCE: (3, 2, 2)}
MASKED_PHONE_QUESTION = "gọi ********78 hỏi khai sinh"


def seed(store: ConversationStore, service: AnswerService, turns: list[Turn] = SEED) -> dict[Turn, str]:
    """Store ``turns`` with their timestamps and feedback, flag the handover; returns the answer ids."""
    ids: dict[Turn, str] = {}
    for turn in turns:
        procedure = service.procedure(turn.code) if turn.code else None
        answer = Answer(
            question=turn.question,
            decision=turn.decision,
            aspect="general",
            text=f"Trả lời cho: {turn.question}",
            procedure=ProcedureRef.of(procedure) if procedure else None,
        )
        answer_id = store.record_turn(turn.session, turn.channel, turn.question, answer, DialogueState())
        with store.engine.begin() as connection:
            connection.execute(update(interactions).where(interactions.c.id == answer_id).values(created_at=turn.at))
        if turn.useful is not None:
            store.add_feedback(answer_id, turn.useful, None if turn.useful else "chưa đúng ý tôi")
        ids[turn] = answer_id
    store.flag_handover(HANDOVER_USER)
    return ids


def staff_app(settings: ApiSettings, service: AnswerService, store: ConversationStore | None = None) -> FastAPI:
    """The API with the staff router, whether or not api/app.py includes it yet."""
    from api.app import create_app
    from api.routes import staff

    app = create_app(settings, service=service, store=store)
    if not any(getattr(route, "path", None) == "/staff" for route in app.routes):
        app.include_router(staff.router)
    return app
