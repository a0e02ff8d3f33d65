"""What the people who run the service see: questions, decisions, feedback and knowledge gaps over a period.

Everything is read from the conversation store with SQL that runs on SQLite and PostgreSQL alike
(aggregates in the database, never a year of rows in Python). Periods are whole UTC days, both ends
included. Questions in the store are already PII-masked, so they are shown as stored.

Knowledge gaps are the questions the assistant could not answer (abstained) and the questions whose
answer a user rated not useful, grouped by meaning: each question is embedded (the answer service's
dense encoder when it has one, else a lexical hashing encoder) and the vectors are clustered by
average-linkage agglomeration on cosine similarity (scipy.cluster.hierarchy), merging while two groups
are closer than a threshold chosen for the encoder (see ``DENSE_THRESHOLD`` and ``LEXICAL_THRESHOLD``).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sqlalchemy import String, and_, case, desc, distinct, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from api.store import ConversationStore, feedback, interactions, sessions
from knowledge.errors import ProcedureNotFound
from knowledge.retrieval.embedding.encoder import Encoder, FakeEncoder
from knowledge.service import AnswerService
from nlu.text import normalize

MAX_PERIOD_DAYS = 366
TOP_PROCEDURES = 20
# The most recent gap questions that are grouped: clustering is quadratic and each new text costs an encoder call.
MAX_GAP_QUESTIONS = 400
MAX_HANDOVERS = 50
MAX_HANDOVER_TURNS = 200
EXAMPLES_PER_GROUP = 3
# Cosine above which two groups of questions are merged. multilingual-e5-small packs every Vietnamese
# question into a narrow band: paraphrases of one question measured 0.96-0.98, different questions on a
# related subject (two pet questions, building vs repairing a house) 0.88-0.90, unrelated ones 0.80-0.87.
DENSE_THRESHOLD = 0.93
# The lexical fallback (hashed syllables and syllable pairs): paraphrases 0.5-0.86, unrelated below 0.35.
LEXICAL_THRESHOLD = 0.45
# Typed by a user pressing a button, not a question: nothing to learn from its wording.
BUTTON_PREFIX = "[nút]"
DECISION_LABELS = {"answer": "trả lời", "clarify": "hỏi lại", "abstain": "chưa trả lời được"}


class utc_day(FunctionElement):  # a SQL function, named like one
    """The UTC calendar day of a timestamp as 'YYYY-MM-DD', on every database the store supports."""

    type = String()
    inherit_cache = True


@compiles(utc_day)
def _utc_day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps the store's timestamps as UTC text: date() cuts the day off it.
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    # timestamptz: without AT TIME ZONE the day would follow the server's session time zone.
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


@dataclass(frozen=True)
class Period:
    """Whole UTC days from ``first`` to ``last`` (both included), optionally one channel only."""

    first: date
    last: date
    channel: str | None = None

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise ValueError("a period cannot end before it starts")
        if self.length > MAX_PERIOD_DAYS:
            raise ValueError(f"a period is at most {MAX_PERIOD_DAYS} days")

    @property
    def length(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period (the bound is exclusive)."""
        return datetime.combine(self.last + timedelta(days=1), time(), UTC)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=offset) for offset in range(self.length)]

    def turns(self) -> ColumnElement[bool]:
        """The SQL condition selecting the turns of this period (and channel)."""
        conditions = [interactions.c.created_at >= self.start, interactions.c.created_at < self.end]
        if self.channel:
            conditions.append(interactions.c.channel == self.channel)
        return and_(*conditions)


def useful_rate(useful: int, feedback: int) -> float | None:
    """Share of feedback that said useful; None without feedback (not 0: nobody said anything)."""
    return round(useful / feedback, 4) if feedback else None


@dataclass(frozen=True)
class Totals:
    questions: int
    conversations: int
    answered: int
    clarified: int
    abstained: int
    # Conversations flagged for a human (counted once each, not per turn) with a turn in the period.
    handover_conversations: int
    handover_turns: int
    feedback: int
    useful: int

    @property
    def useful_rate(self) -> float | None:
        return useful_rate(self.useful, self.feedback)


@dataclass(frozen=True)
class ProcedureStat:
    code: str
    name: str
    questions: int
    feedback: int
    useful: int

    @property
    def useful_rate(self) -> float | None:
        return useful_rate(self.useful, self.feedback)


@dataclass(frozen=True)
class GapQuestion:
    question: str
    channel: str
    created_at: datetime
    abstained: bool
    not_useful: bool


@dataclass
class GapGroup:
    """Questions that mean the same thing, most frequent wording first."""

    questions: list[GapQuestion] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def abstained(self) -> int:
        return sum(question.abstained for question in self.questions)

    @property
    def not_useful(self) -> int:
        return sum(question.not_useful for question in self.questions)

    @property
    def last_date(self) -> date:
        return max(question.created_at for question in self.questions).date()

    @property
    def examples(self) -> list[str]:
        """Up to three different wordings, the most asked first (then the most recent), each as last asked."""
        by_wording: dict[str, list[GapQuestion]] = {}
        for question in self.questions:
            by_wording.setdefault(_wording(question.question), []).append(question)
        ranked = sorted(by_wording.values(), key=lambda same: (-len(same), -_latest(same).created_at.timestamp()))
        return [_latest(same).question for same in ranked[:EXAMPLES_PER_GROUP]]


def _latest(questions: Sequence[GapQuestion]) -> GapQuestion:
    return max(questions, key=lambda question: question.created_at)


@dataclass(frozen=True)
class HandoverTurn:
    at: datetime
    question: str
    reply: str
    decision: str


@dataclass(frozen=True)
class Handover:
    # A short digest of the session key: the key holds the user's chat id, which staff do not need.
    conversation: str
    channel: str
    last_at: datetime
    turns: list[HandoverTurn]


@dataclass(frozen=True)
class Summary:
    period: Period
    totals: Totals
    channels: list[str]
    # per_day[channel][i]: the questions asked on that channel on period.days()[i]
    per_day: dict[str, list[int]]
    procedures: list[ProcedureStat]
    rated_procedures: list[ProcedureStat]
    gaps: list[GapGroup]
    gap_method: str
    gap_threshold: float
    handovers: list[Handover]


def _utc(moment: datetime) -> datetime:
    # SQLite hands timestamps back without a zone (the store writes UTC); PostgreSQL with one.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _wording(question: str) -> str:
    """Questions that differ only in case, spacing or Unicode form count as one wording."""
    return " ".join(normalize(question).casefold().split())


def conversation_id(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()[:10]


# -- grouping ----------------------------------------------------------------------------------


def cluster(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Average-linkage agglomerative clustering on cosine similarity (scipy's hierarchy).

    Groups merge, closest first, while their similarity (the mean cosine over their pairs) is at
    least ``threshold``. Average linkage, unlike single linkage, does not chain a question to a
    different one through a run of near neighbours. scipy works on distances: the cosine distance
    1 − similarity, so the dendrogram is cut at 1 − ``threshold`` (``fcluster`` keeps merges at
    most that far apart, and average linkage never merges closer than an earlier merge, so the cut
    equals stopping at the first merge below the threshold). A zero vector is similar to nothing
    (cosine 0). Returns the groups as row indices, each in ascending order, groups ordered by
    their first row.
    """
    count = len(vectors)
    if count < 2:
        return [[row] for row in range(count)]  # scipy's linkage needs two observations
    unit = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(unit, axis=1, keepdims=True)
    unit = unit / np.where(norms == 0, 1.0, norms)
    # The condensed distance matrix from the unit vectors (not pdist's "cosine", which is NaN for a zero
    # vector); rounding leaves about -1e-16 between identical vectors, which linkage refuses: floored at 0.
    distances = squareform(np.maximum(1.0 - unit @ unit.T, 0.0), checks=False)
    labels = fcluster(linkage(distances, method="average"), t=1.0 - threshold, criterion="distance")
    groups: dict[int, list[int]] = {}
    for row, label in enumerate(labels):
        groups.setdefault(int(label), []).append(row)
    return sorted(groups.values(), key=lambda group: group[0])


class VectorCache:
    """Vectors of texts already embedded, per encoder model (the same gap questions come back on every visit)."""

    def __init__(self, capacity: int = 5000) -> None:
        self.capacity = capacity
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
        keys = [(encoder.model_id, text) for text in texts]
        with self._lock:
            missing = list(dict.fromkeys(key for key in keys if key not in self._vectors))
        if missing:
            fresh = encoder.encode_query([text for _, text in missing])
            with self._lock:
                for key, vector in zip(missing, fresh, strict=True):
                    self._vectors[key] = np.asarray(vector, dtype=np.float32)
                while len(self._vectors) > self.capacity:
                    self._vectors.popitem(last=False)
        with self._lock:
            vectors = [self._vectors.get(key) for key in keys]
        if any(vector is None for vector in vectors):  # evicted meanwhile by a larger request: encode directly
            return np.asarray(encoder.encode_query(list(texts)), dtype=np.float32)
        return np.stack(vectors) if vectors else np.zeros((0, encoder.dimension), np.float32)


VECTORS = VectorCache()


class LexicalEncoder(FakeEncoder):
    """Hashed syllables and syllable pairs: groups questions worded alike when no dense encoder is loaded."""

    def __init__(self, dimension: int = 512) -> None:
        super().__init__(dimension)
        self.model_id = f"lexical-hash-{dimension}"
        self.name = f"lexical:{self.model_id}"


def gap_encoder(service: AnswerService) -> tuple[Encoder, float]:
    """The answer service's dense encoder with its threshold, else the lexical fallback with its own."""
    dense = getattr(service.searcher, "dense", None)
    if dense is not None:
        return dense.encoder, DENSE_THRESHOLD
    return LexicalEncoder(), LEXICAL_THRESHOLD


def group_questions(
    questions: Sequence[GapQuestion], encoder: Encoder, threshold: float, cache: VectorCache | None = None
) -> list[GapGroup]:
    """Group questions by meaning; largest group first, then the most recently asked."""
    by_wording: dict[str, list[GapQuestion]] = {}
    for question in questions:
        by_wording.setdefault(_wording(question.question), []).append(question)
    wordings = list(by_wording)
    if not wordings:
        return []
    vectors = (cache or VECTORS).encode(encoder, wordings)
    groups = [
        GapGroup([question for row in rows for question in by_wording[wordings[row]]])
        for rows in cluster(vectors, threshold)
    ]
    groups.sort(key=lambda group: (-group.count, -max(q.created_at for q in group.questions).timestamp()))
    return groups


# -- the report --------------------------------------------------------------------------------


def _useful_count() -> ColumnElement[int]:
    return func.coalesce(func.sum(case((feedback.c.useful.is_(True), 1), else_=0)), 0)


class StaffReport:
    """The dashboard's figures over one store; ``encoder``/``threshold`` override the gap grouping's."""

    def __init__(
        self,
        store: ConversationStore,
        service: AnswerService,
        encoder: Encoder | None = None,
        threshold: float | None = None,
    ) -> None:
        self.store = store
        self.service = service
        default_encoder, default_threshold = gap_encoder(service)
        self.encoder = encoder or default_encoder
        self.threshold = threshold if threshold is not None else default_threshold

    def procedure_name(self, code: str | None) -> str:
        if not code:
            return ""
        try:
            return self.service.procedure(code).name
        except ProcedureNotFound:
            return ""  # removed from the knowledge base since it was answered

    def summary(self, period: Period) -> Summary:
        procedures = self.procedure_stats(period)
        rated = sorted((p for p in procedures if p.feedback), key=lambda p: (-p.feedback, p.code))
        channels, per_day = self.questions_per_day(period)
        return Summary(
            period=period,
            totals=self.totals(period),
            channels=channels,
            per_day=per_day,
            procedures=procedures[:TOP_PROCEDURES],
            rated_procedures=rated[:TOP_PROCEDURES],
            gaps=self.gaps(period),
            gap_method=self.encoder.name,
            gap_threshold=self.threshold,
            handovers=self.handovers(period),
        )

    def totals(self, period: Period) -> Totals:
        in_period = period.turns()
        flagged = select(sessions.c.session_key).where(sessions.c.handover.is_(True))
        with self.store.engine.connect() as connection:
            decisions = dict(
                connection.execute(
                    select(interactions.c.decision, func.count()).where(in_period).group_by(interactions.c.decision)
                ).all()
            )
            conversations = connection.execute(
                select(func.count(distinct(interactions.c.session_key))).where(in_period)
            ).scalar_one()
            handover = connection.execute(
                select(func.count(distinct(interactions.c.session_key)), func.count()).where(
                    in_period, interactions.c.session_key.in_(flagged)
                )
            ).one()
            rated = connection.execute(
                select(func.count(), _useful_count())
                .select_from(feedback.join(interactions, feedback.c.answer_id == interactions.c.id))
                .where(in_period)
            ).one()
        return Totals(
            questions=sum(decisions.values()),
            conversations=int(conversations),
            answered=decisions.get("answer", 0),
            clarified=decisions.get("clarify", 0),
            abstained=decisions.get("abstain", 0),
            handover_conversations=int(handover[0]),
            handover_turns=int(handover[1]),
            feedback=int(rated[0]),
            useful=int(rated[1]),
        )

    def questions_per_day(self, period: Period) -> tuple[list[str], dict[str, list[int]]]:
        """Channels with questions in the period and, per channel, the questions of every day (zeros kept)."""
        day = utc_day(interactions.c.created_at).label("day")
        query = (
            select(day, interactions.c.channel, func.count().label("questions"))
            .where(period.turns())
            .group_by(day, interactions.c.channel)
        )
        position = {moment.isoformat(): index for index, moment in enumerate(period.days())}
        per_day: dict[str, list[int]] = {}
        with self.store.engine.connect() as connection:
            for row in connection.execute(query):
                series = per_day.setdefault(row.channel, [0] * period.length)
                series[position[row.day]] += int(row.questions)
        channels = sorted(per_day)
        return channels, {channel: per_day[channel] for channel in channels}

    def procedure_stats(self, period: Period) -> list[ProcedureStat]:
        """Every procedure answered in the period with its questions and the feedback on those answers."""
        rated = (
            select(feedback.c.answer_id, func.count().label("feedback"), _useful_count().label("useful"))
            .group_by(feedback.c.answer_id)
            .subquery()
        )
        questions = func.count().label("questions")
        query = (
            select(
                interactions.c.procedure_code,
                questions,
                func.coalesce(func.sum(rated.c.feedback), 0),
                func.coalesce(func.sum(rated.c.useful), 0),
            )
            .select_from(interactions.outerjoin(rated, rated.c.answer_id == interactions.c.id))
            .where(period.turns(), interactions.c.procedure_code.is_not(None))
            .group_by(interactions.c.procedure_code)
            .order_by(desc(questions), interactions.c.procedure_code)
        )
        with self.store.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            ProcedureStat(code, self.procedure_name(code), int(asked), int(total), int(useful))
            for code, asked, total, useful in rows
        ]

    def gap_questions(self, period: Period, limit: int = MAX_GAP_QUESTIONS) -> list[GapQuestion]:
        """The most recent abstained or negatively rated questions (typed ones: buttons say nothing)."""
        negative = select(feedback.c.answer_id).where(feedback.c.useful.is_(False))
        query = (
            select(
                interactions.c.question,
                interactions.c.channel,
                interactions.c.created_at,
                interactions.c.decision,
                interactions.c.id.in_(negative).label("not_useful"),
            )
            .where(
                period.turns(),
                or_(interactions.c.decision == "abstain", interactions.c.id.in_(negative)),
                interactions.c.question.not_like(f"{BUTTON_PREFIX}%"),
            )
            .order_by(interactions.c.created_at.desc(), interactions.c.id)
            .limit(limit)
        )
        with self.store.engine.connect() as connection:
            return [
                GapQuestion(
                    row.question, row.channel, _utc(row.created_at), row.decision == "abstain", bool(row.not_useful)
                )
                for row in connection.execute(query)
                if row.question.strip()
            ]

    def gaps(self, period: Period) -> list[GapGroup]:
        return group_questions(self.gap_questions(period), self.encoder, self.threshold)

    def handovers(self, period: Period, limit: int = MAX_HANDOVERS) -> list[Handover]:
        """Conversations handed to a human with a turn in the period, latest first, with all their turns."""
        flagged = select(sessions.c.session_key).where(sessions.c.handover.is_(True))
        last_at = func.max(interactions.c.created_at).label("last_at")
        recent = (
            select(interactions.c.session_key, func.min(interactions.c.channel).label("channel"), last_at)
            .where(period.turns(), interactions.c.session_key.in_(flagged))
            .group_by(interactions.c.session_key)
            .order_by(desc(last_at), interactions.c.session_key)
            .limit(limit)
        )
        with self.store.engine.connect() as connection:
            latest = connection.execute(recent).all()
            turns: dict[str, list[HandoverTurn]] = {row.session_key: [] for row in latest}
            query = (
                select(interactions)
                .where(interactions.c.session_key.in_(list(turns)))
                .order_by(interactions.c.session_key, interactions.c.created_at, interactions.c.id)
            )
            for row in connection.execute(query):
                kept = turns[row.session_key]
                if len(kept) < MAX_HANDOVER_TURNS:
                    kept.append(HandoverTurn(_utc(row.created_at), row.question, row.reply, row.decision))
        return [
            Handover(conversation_id(row.session_key), row.channel, _utc(row.last_at), turns[row.session_key])
            for row in latest
        ]

    # -- rows for the CSV exports -------------------------------------------------------------

    def question_rows(self, period: Period) -> Iterator[list[object]]:
        """Every turn of the period, oldest first, with the feedback it got (streamed, not held in memory)."""
        rated = (
            select(feedback.c.answer_id, func.count().label("feedback"), _useful_count().label("useful"))
            .group_by(feedback.c.answer_id)
            .subquery()
        )
        query = (
            select(
                interactions.c.created_at,
                interactions.c.channel,
                interactions.c.decision,
                interactions.c.procedure_code,
                interactions.c.question,
                func.coalesce(rated.c.feedback, 0).label("feedback"),
                func.coalesce(rated.c.useful, 0).label("useful"),
            )
            .select_from(interactions.outerjoin(rated, rated.c.answer_id == interactions.c.id))
            .where(period.turns())
            .order_by(interactions.c.created_at, interactions.c.id)
        )
        with self.store.engine.connect() as connection:
            for row in connection.execution_options(yield_per=500).execute(query):
                yield [
                    _utc(row.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                    row.channel,
                    DECISION_LABELS.get(row.decision, row.decision),
                    row.procedure_code or "",
                    self.procedure_name(row.procedure_code),
                    row.question,
                    int(row.useful),
                    int(row.feedback) - int(row.useful),
                ]

    def feedback_rows(self, period: Period) -> Iterator[list[object]]:
        """Every feedback on a turn of the period, oldest turn first."""
        query = (
            select(
                interactions.c.created_at,
                interactions.c.channel,
                interactions.c.procedure_code,
                interactions.c.question,
                feedback.c.useful,
                feedback.c.comment,
            )
            .select_from(feedback.join(interactions, feedback.c.answer_id == interactions.c.id))
            .where(period.turns())
            .order_by(interactions.c.created_at, feedback.c.id)
        )
        with self.store.engine.connect() as connection:
            for row in connection.execution_options(yield_per=500).execute(query):
                yield [
                    _utc(row.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                    row.channel,
                    row.procedure_code or "",
                    self.procedure_name(row.procedure_code),
                    row.question,
                    bool(row.useful),
                    row.comment or "",
                ]

    def gap_rows(self, period: Period) -> Iterator[list[object]]:
        """One row per gap question, with its group's number and size."""
        for number, group in enumerate(self.gaps(period), start=1):
            for question in sorted(group.questions, key=lambda q: q.created_at, reverse=True):
                yield [
                    number,
                    group.count,
                    question.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    question.channel,
                    question.abstained,
                    question.not_useful,
                    question.question,
                ]
