"""The answer service: one entry point for every channel (CLI, API, chat adapters, Rasa actions).

``ask`` understands a question, retrieves, decides (answer / clarify / abstain) and composes
the Vietnamese reply with its citation. ``answer_about`` answers an aspect of a known procedure
(follow-ups, a choice after a clarification). Nothing here raises on bad user input.
"""

from __future__ import annotations

from knowledge.answer.aspects import ASPECT_REGISTRY
from knowledge.answer.compose import ReplyComposer
from knowledge.answer.contract import Answer, CandidateView, ProcedureRef
from knowledge.answer.hanoi import HanoiData, cached_hanoi_data
from knowledge.build import ensure_built
from knowledge.errors import ProcedureNotFound
from knowledge.ingest.records import Procedure
from knowledge.retrieval.decide import Decision, uncovered_subject
from knowledge.retrieval.dense import DenseIndex
from knowledge.retrieval.embedding.encoder import Encoder
from knowledge.retrieval.embedding.factory import query_encoder
from knowledge.retrieval.params import SearchParams
from knowledge.retrieval.search import Searcher, SearchResult
from knowledge.settings import KnowledgeSettings, get_settings
from knowledge.store import KnowledgeStore
from nlu.aspects import Aspect

EMPTY_QUESTION_REPLY = (
    "Bạn hãy gõ câu hỏi về thủ tục hành chính, ví dụ: “làm căn cước ở đâu”, "
    "“đăng ký khai sinh cần giấy tờ gì”, “xin lý lịch tư pháp online được không”."
)


WHICH_PROCEDURE_REPLY = (
    "Bạn muốn hỏi {aspect} của thủ tục nào? Hãy gõ tên thủ tục, ví dụ: “lệ phí cấp lại căn cước”, "
    "“đăng ký khai sinh nộp ở đâu”."
)


class AnswerService:
    def __init__(
        self,
        procedures: list[Procedure],
        hanoi: HanoiData,
        params: SearchParams | None = None,
        dense: DenseIndex | None = None,
        build_id: str = "",
    ) -> None:
        self.searcher = Searcher(procedures, params, dense)
        self.build_id = build_id  # the build this service was loaded from ("" for an in-memory corpus)
        self.composer = ReplyComposer(hanoi)
        self.hanoi = hanoi
        self._by_code = {procedure.code: procedure for procedure in procedures}

    @classmethod
    def from_settings(cls, settings: KnowledgeSettings | None = None, progress: bool = True) -> AnswerService:
        """Load the current build (building it first if missing or stale, unless ``build_on_start`` is off:
        a worker serving a copied, read-only index needs neither the source file nor a build)."""
        settings = settings or get_settings()
        if not settings.build_on_start:
            return cls.from_current_build(settings)[0]
        store = ensure_built(settings, progress=progress)
        procedures = store.load_procedures()
        dense = None
        if settings.dense_enabled:
            encoder = query_encoder(settings)
            dense = DenseIndex(store.current_build(), encoder, [p.code for p in procedures])
        hanoi = cached_hanoi_data(settings.hanoi_data_path)
        return cls(procedures, hanoi, dense=dense, build_id=store.current_build().name)

    @classmethod
    def from_current_build(
        cls, settings: KnowledgeSettings, encoder: Encoder | None = None
    ) -> tuple[AnswerService, str]:
        """Load whatever build is current, never building (hot reload); returns (service, build id).

        ``encoder`` reuses a query encoder already in memory (same model: the index refuses others).
        """
        store = KnowledgeStore(settings.index_dir)
        build_dir = store.current_build()
        procedures = store.load_procedures()
        dense = None
        if settings.dense_enabled:
            dense = DenseIndex(build_dir, encoder or query_encoder(settings), [p.code for p in procedures])
        hanoi = cached_hanoi_data(settings.hanoi_data_path)
        return cls(procedures, hanoi, dense=dense, build_id=build_dir.name), build_dir.name

    # -- questions -----------------------------------------------------------------------

    def search(self, question: str, top_k: int = 10) -> SearchResult:
        return self.searcher.search(question or "", top_k=top_k)

    def ask(self, question: str) -> Answer:
        result = self.search(question)
        query = result.query
        candidates = [CandidateView.of(c.procedure, round(c.score, 4)) for c in result.candidates]

        def reply(decision: Decision, text: str, **details: object) -> Answer:
            return Answer.model_validate(
                {
                    "question": question,
                    "decision": decision,
                    "aspect": query.aspect,
                    "text": text,
                    "candidates": candidates,
                    "reason": result.reason,
                    **details,
                }
            )

        if query.is_empty:
            # "lệ phí bao nhiêu?" with no procedure named: ask which one rather than show examples.
            text = EMPTY_QUESTION_REPLY
            if query.aspect != "general":
                text = WHICH_PROCEDURE_REPLY.format(aspect=ASPECT_REGISTRY[query.aspect].title.lower())
            return reply("abstain", text)
        if result.decision == "abstain":
            subject = uncovered_subject(query, result.best) if result.best else None
            return reply("abstain", self.composer.abstain(subject.field if subject else None))
        if result.decision == "clarify":
            options = [CandidateView.of(c.procedure, round(c.score, 4)) for c in result.options]
            return reply("clarify", self.composer.clarify([c.procedure for c in result.options]), options=options)
        best = result.best.procedure
        return reply("answer", self.composer.answer(best, query.aspect), procedure=ProcedureRef.of(best))

    def answer_about(self, code: str, aspect: Aspect) -> Answer:
        """The reply about ``aspect`` of the procedure ``code`` (after a choice or a follow-up)."""
        procedure = self.procedure(code)
        text = self.composer.answer(procedure, aspect)
        return Answer(
            question=f"{code} {aspect}",
            decision="answer",
            aspect=aspect,
            text=text,
            procedure=ProcedureRef.of(procedure),
        )

    def procedure(self, code: str) -> Procedure:
        try:
            return self._by_code[code.strip()]
        except KeyError:
            raise ProcedureNotFound(code) from None

    def card(self, code: str) -> str:
        """The full procedure card: every aspect, for `show` and the hotline console."""
        procedure = self.procedure(code)
        parts = [f"{procedure.name} (mã {procedure.code})"]
        for spec in ASPECT_REGISTRY:
            parts.append(f"\n== {spec.title} ==")
            parts.extend(self.composer.section(procedure, spec.id))
        parts.append("\n" + self.composer.citation(procedure))
        return "\n".join(parts)
