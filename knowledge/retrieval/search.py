"""Search: rank the procedures for a question (:mod:`.candidates`), then decide what to do (:mod:`.decide`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from knowledge.ingest.records import Procedure
from knowledge.retrieval.candidates import Candidate, Ranker
from knowledge.retrieval.decide import Decision, decide
from knowledge.retrieval.dense import DenseIndex
from knowledge.retrieval.params import SearchParams
from knowledge.retrieval.query import AnalyzedQuery, analyze


@dataclass(frozen=True)
class SearchResult:
    query: AnalyzedQuery
    candidates: list[Candidate]
    decision: Decision
    options: list[Candidate] = field(default_factory=list)
    reason: str = ""

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


class Searcher:
    """Ranking with variant awareness, then an answer/clarify/abstain decision."""

    def __init__(
        self, procedures: Sequence[Procedure], params: SearchParams | None = None, dense: DenseIndex | None = None
    ) -> None:
        self.ranker = Ranker(procedures, params, dense)

    @property
    def procedures(self) -> list[Procedure]:
        return self.ranker.procedures

    @property
    def params(self) -> SearchParams:
        return self.ranker.params

    @property
    def dense(self) -> DenseIndex | None:
        return self.ranker.dense

    def with_params(self, params: SearchParams) -> Searcher:
        clone = object.__new__(Searcher)
        clone.ranker = self.ranker.with_params(params)
        return clone

    def search(self, question: str, top_k: int = 10) -> SearchResult:
        query = analyze(question)
        if query.is_empty:
            return SearchResult(query, [], "abstain", reason="empty question")
        candidates = self.ranker.rank(query)
        decision, options, reason = decide(query, candidates, self.params)
        return SearchResult(query, candidates[:top_k], decision, options, reason)
