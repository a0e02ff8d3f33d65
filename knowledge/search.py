"""Retrieval and decision: rank procedures for a question, then answer, clarify or abstain.

Ranking fuses the lexical channels (see :mod:`knowledge.lexical`) after normalising each by
its best score for the query, then demotes candidates carrying variant markers the question
does not mention, then reranks that short list with field-aware features
(:mod:`knowledge.rerank`). The decision uses evidence that does not depend on that
normalisation: how much of the question's informative vocabulary the best candidate actually
covers, and — with dense retrieval — a learned confidence that also weighs the cosines, the
best candidate's score and its lead (see :func:`confidence`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from knowledge.dense import DenseIndex
from knowledge.diacritics import DiacriticRestorer
from knowledge.lexical import LexicalIndex, body_text, indexed_name
from knowledge.query import AnalyzedQuery, analyze, document_terms, is_stopword, terms
from knowledge.records import Procedure
from knowledge.rerank import Reranker, Signals
from knowledge.scope import mentions, uncovered_subjects
from knowledge.variants import family_name, is_action_marker, same_family, unrequested_markers
from nlu.abbreviations import ABBREVIATIONS, ACTION_WORDS
from nlu.aspects import asks_for_procedure, is_definition_question
from nlu.everyday import EVERYDAY_PHRASES
from nlu.text import fold, syllables

Decision = Literal["answer", "clarify", "abstain"]

_ABBREVIATION_KEYS = frozenset(fold(key) for key in {**ABBREVIATIONS, **ACTION_WORDS})


@dataclass(frozen=True)
class SearchParams:
    """Weights and thresholds; defaults chosen by cross-validation on the dev set (see README)."""

    weight_name: float = 1.0
    weight_name_accented: float = 0.5
    weight_body: float = 0.5
    # fused scores are weighted means (best possible ≈ 1); penalties and margins are on that scale
    variant_penalty: float = 0.03
    action_penalty: float = 0.05
    missing_action_penalty: float = 0.03
    central_level_penalty: float = 0.015
    rerank_depth: int = 30
    # rescore the first stage's short list with field-aware features (knowledge.rerank)
    rerank: bool = True
    # lexical only: abstain when evidence (0.5 * coverage + phrase coverage + name coverage, see
    # Candidate) is below this; chosen by `python -m knowledge tune` when lexical was the default
    abstain_below_lexical_evidence: float = 0.70
    # hybrid: abstain when confidence (see `confidence`) is below this; the folds' median
    # threshold from `python -m knowledge tune`
    abstain_below_confidence: float = 0.31
    # a question about a field outside the knowledge base is answered only on a strong name match
    out_of_scope_name_coverage: float = 0.6
    weight_dense: float = 2.0
    # evidence += weight × (cosine − center); e5 cosines of right answers sit around 0.85
    dense_evidence_weight: float = 8.0
    dense_evidence_center: float = 0.85
    clarify_within: float = 0.05
    # when the best candidate is a different act than asked ("cấp đổi" for "làm thẻ"), ask wider
    clarify_action_within: float = 0.125
    max_clarify_options: int = 4


@dataclass(frozen=True)
class Candidate:
    """A ranked procedure with the evidence the decision looks at.

    ``coverage``: IDF-weighted share of the question's words found in the procedure's text;
    ``phrase_coverage``: share of the question's word pairs found there;
    ``name_coverage``: share of the procedure name's words that the question contains;
    ``dense_similarity``: cosine of the question and the procedure's passage (None without dense).
    """

    procedure: Procedure
    score: float
    coverage: float = 0.0
    phrase_coverage: float = 0.0
    name_coverage: float = 0.0
    dense_similarity: float | None = None

    @property
    def code(self) -> str:
        return self.procedure.code

    @property
    def name(self) -> str:
        return self.procedure.name


@dataclass(frozen=True)
class UncoveredSubject:
    term: str
    field: str


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
    """Lexical search with variant awareness and an answer/clarify/abstain decision."""

    def __init__(
        self, procedures: Sequence[Procedure], params: SearchParams | None = None, dense: DenseIndex | None = None
    ) -> None:
        self.procedures = list(procedures)
        self.params = params or SearchParams()
        self.dense = dense
        self.restorer = DiacriticRestorer(restorer_texts(self.procedures))
        self.index = LexicalIndex(self.procedures)
        self.reranker = Reranker(self.procedures)
        self._terms = [
            frozenset(document_terms(indexed_name(p, self.index.acronyms))[0])
            | frozenset(document_terms(body_text(p))[0])
            for p in self.procedures
        ]
        self._name_trigrams = frozenset(trigram for p in self.procedures for trigram in _folded_trigrams(p.name))
        self._name_words = [
            [
                word
                for word in dict.fromkeys(document_terms(family_name(p.name))[0])
                if "_" not in word and not is_stopword(word)
            ]
            for p in self.procedures
        ]
        self._max_idf = max((self.index.idf(term) for term in self.index.name_vocabulary), default=1.0)

    def with_params(self, params: SearchParams) -> Searcher:
        clone = object.__new__(Searcher)
        clone.__dict__.update(self.__dict__)
        clone.params = params
        return clone

    def search(self, question: str, top_k: int = 10) -> SearchResult:
        query = analyze(question)
        if query.is_empty:
            return SearchResult(query, [], "abstain", reason="empty question")
        candidates = self._rank(query)
        decision, options, reason = self._decide(query, candidates)
        return SearchResult(query, candidates[:top_k], decision, options, reason)

    # -- ranking -------------------------------------------------------------------------

    def restored_text(self, query: AnalyzedQuery) -> str:
        """The retrieval words with diacritics restored where the user left them out."""
        return self.restorer.restore(query.retrieval_text)

    def fused_scores(self, query: AnalyzedQuery) -> tuple[np.ndarray, np.ndarray | None]:
        """(fused score per procedure, dense cosine per procedure or None)."""
        signals = self.signals(query)
        return signals.first_stage, signals.cosine

    def signals(self, query: AnalyzedQuery) -> Signals:
        """Every channel's evidence per procedure, and their fusion (before variant penalties)."""
        restored = None
        folded = query.folded_terms
        if not query.typed_with_diacritics and query.retrieval_text:
            restored_tokens = syllables(self.restored_text(query))
            expansion_tokens = [token for expansion in query.expansions for token in syllables(expansion)]
            restored = terms(restored_tokens + expansion_tokens)
            # stopwords recognised on the restored words: "bang lai" keeps "lái", "so ho khau" keeps "sổ"
            folded = terms(restored_tokens + expansion_tokens, fold_output=True)
        folded = folded + self.name_phrase_terms(query)
        channel = self.index.scores(query, restored, folded)
        fields = self.index.field_scores(query, folded)
        p = self.params
        name, name_accented, body = _by_best(channel.name), _by_best(channel.name_accented), _by_best(channel.body)
        fused = p.weight_name * name + p.weight_name_accented * name_accented + p.weight_body * body
        total = p.weight_name + p.weight_name_accented + p.weight_body
        if self.dense is not None and p.weight_dense:
            words = query.retrieval_text if query.typed_with_diacritics else self.restored_text(query)
            dense_text = " ".join([words, *query.expansions]).strip() or query.text
            similarities = self.dense.scores(dense_text)
            spread = _spread(similarities)
            total += p.weight_dense
            fused = (fused + p.weight_dense * spread) / total
            return Signals(fused, name, name_accented, body, spread, similarities, fields)
        return Signals(fused / total, name, name_accented, body, None, None, fields)

    def name_phrase_terms(self, query: AnalyzedQuery) -> list[str]:
        """Word pairs of question phrases that are part of a procedure's name here.

        "lệ phí", "phí", "thời hạn" usually only say what is asked and are removed, but in "lệ phí
        trước bạ" or "đất phi nông nghiệp" they are part of a name: three words in a row that
        join such a phrase to the rest of the question and occur together in a name count again.
        """
        kept = {fold(token) for token in syllables(query.retrieval_text)}
        words = [fold(token) for token in query.spoken_tokens]
        found: list[str] = []
        for window in zip(words, words[1:], words[2:]):
            stripped = [word not in kept for word in window]
            if not any(stripped) or all(stripped) or any(is_stopword(word) for word in window):
                continue
            if " ".join(window) in self._name_trigrams:
                found += [f"{window[0]}_{window[1]}", f"{window[1]}_{window[2]}"]
        return [term for term in dict.fromkeys(found) if term not in query.folded_terms]

    def _rank(self, query: AnalyzedQuery) -> list[Candidate]:
        signals = self.signals(query)
        fused, similarities = signals.first_stage, signals.cosine
        if not fused.any():
            return []
        depth = min(self.params.rerank_depth, len(fused))
        top = [int(position) for position in np.argpartition(-fused, depth - 1)[:depth] if fused[position] > 0]
        scores = self.first_stage_scores(query, top, fused)
        if self.params.rerank and top:
            scores = scores + self.reranker.bonus(self.reranker.features(query, top, signals))
        rescored = [
            Candidate(
                self.procedures[position],
                float(score),
                coverage=self._coverage(query, position),
                phrase_coverage=self._phrase_coverage(query, position),
                name_coverage=self._name_coverage(query, position),
                dense_similarity=None if similarities is None else float(similarities[position]),
            )
            for position, score in zip(top, scores)
        ]
        return sorted(rescored, key=lambda candidate: (-candidate.score, candidate.code))

    def first_stage_scores(self, query: AnalyzedQuery, positions: list[int], fused: np.ndarray) -> np.ndarray:
        """Fused scores of ``positions`` with variants the user did not ask for demoted."""
        query_text = query.asked_text
        says_central = "trung uong" in fold(query_text)
        scores = np.zeros(len(positions))
        for row, position in enumerate(positions):
            procedure = self.procedures[position]
            score = float(fused[position])
            unrequested = unrequested_markers(procedure.name, query_text)
            actions = sum(is_action_marker(marker) for marker in unrequested)
            score -= self.params.action_penalty * actions + self.params.variant_penalty * (len(unrequested) - actions)
            # an act the user asked for ("đổi", "cấp lại", "gia hạn") that this procedure is not
            missing = sum(is_action_marker(marker) for marker in unrequested_markers(query_text, procedure.name))
            score -= self.params.missing_action_penalty * missing
            if not says_central and "trung ương" in procedure.name.lower():
                # Hanoi residents deal with the city or ward, not the central office, unless they say so.
                score -= self.params.central_level_penalty
            scores[row] = score
        return scores

    def _coverage(self, query: AnalyzedQuery, position: int) -> float:
        """IDF-weighted share of the question's informative words found in the procedure's text."""
        covered = total = 0.0
        terms = self._terms[position]
        for term in query.core_folded_terms:
            if "_" in term:
                continue
            weight = self._term_weight(term)
            total += weight
            if term in terms or self._abbreviation_covered(term, query, terms):
                covered += weight
        return covered / total if total else 0.0

    def _phrase_coverage(self, query: AnalyzedQuery, position: int) -> float:
        pairs = [term for term in query.core_folded_terms if "_" in term]
        if not pairs:
            return 1.0 if query.core_folded_terms else 0.0
        terms = self._terms[position]
        return sum(pair in terms for pair in pairs) / len(pairs)

    def _name_coverage(self, query: AnalyzedQuery, position: int) -> float:
        words = self._name_words[position]
        if not words:
            return 0.0
        asked = set(query.folded_terms)
        return sum(word in asked for word in words) / len(words)

    def _term_weight(self, term: str) -> float:
        if term in _ABBREVIATION_KEYS:
            return self._max_idf / 2
        idf = self.index.idf(term)
        if idf == 0.0:
            # A word the knowledge base never uses is strong evidence the topic is elsewhere,
            # unless it is too short to mean anything.
            return self._max_idf if len(term) > 2 and not any(char.isdigit() for char in term) else 0.0
        return idf

    @staticmethod
    def _abbreviation_covered(term: str, query: AnalyzedQuery, terms: frozenset[str]) -> bool:
        if term not in _ABBREVIATION_KEYS:
            return False
        return any(all(fold(word) in terms for word in expansion.split()) for expansion in query.expansions)

    # -- decision ------------------------------------------------------------------------

    @staticmethod
    def uncovered_subject(query: AnalyzedQuery, candidate: Candidate) -> UncoveredSubject | None:
        """A subject of the question from a field the knowledge base lacks, unmentioned by the candidate."""
        procedure_text = candidate.name + " " + body_text(candidate.procedure)
        for field_name, term in uncovered_subjects(query.text):
            if not mentions(procedure_text, term):
                return UncoveredSubject(term, field_name)
        return None

    def _decide(self, query: AnalyzedQuery, candidates: list[Candidate]) -> tuple[Decision, list[Candidate], str]:
        p = self.params
        if not candidates:
            return "abstain", [], "no procedure shares a word with the question"
        best = candidates[0]
        outside = self.uncovered_subject(query, best)
        if outside and best.name_coverage < p.out_of_scope_name_coverage:
            return "abstain", [], f"about {outside.term} ({outside.field}), a field the knowledge base does not cover"
        if is_definition_question(query.text) and not asks_for_procedure(query.text):
            return "abstain", [], "a question about the law, not about doing a procedure"
        if best.dense_similarity is None:
            strength = evidence(best, p)
            if strength < p.abstain_below_lexical_evidence:
                return "abstain", [], f"weak match (evidence {strength:.2f})"
        else:
            strength = confidence(candidates, p)
            if strength < p.abstain_below_confidence:
                return "abstain", [], f"weak match (confidence {strength:.2f})"
        asked = query.asked_text
        best_unrequested = unrequested_markers(best.name, asked)
        if not best_unrequested:
            # the plain procedure fits what was said; its special cases are not worth a question
            return "answer", [], ""
        best_is_other_act = any(is_action_marker(m) for m in best_unrequested)
        margin = p.clarify_action_within if best_is_other_act else p.clarify_within
        options, seen_names = [best], {family_name(best.name)}
        for candidate in candidates[1:]:
            if best.score - candidate.score > margin or len(options) == p.max_clarify_options:
                break
            other_act = any(is_action_marker(m) for m in unrequested_markers(candidate.name, asked))
            if not same_family(candidate.name, best.name) or (other_act and not best_is_other_act):
                continue
            if family_name(candidate.name) in seen_names:
                continue  # the same procedure at another level: one choice is enough
            seen_names.add(family_name(candidate.name))
            options.append(candidate)
        if len(options) > 1:
            return "clarify", options, "variants of one procedure score alike"
        return "answer", [], ""


def restorer_texts(procedures: Sequence[Procedure]) -> list[str]:
    """The vocabulary diacritics are restored from: procedure texts and everyday wording."""
    texts = []
    for p in procedures:
        texts += [p.name, p.field or "", " ".join(d.name for d in p.documents[:20]), (p.conditions or "")[:1000]]
        texts += [p.steps_text[:2000], " ".join(r.name for r in p.results)]
    # how people say it ("sổ đỏ", "bằng lái", "vợ chồng tôi"), weighted so that it wins over rare homographs
    texts += list(ABBREVIATIONS) * 20 + list(ACTION_WORDS) * 20 + list(EVERYDAY_PHRASES) * 20
    return texts


# Inputs of `confidence`; weights from `python -m knowledge tune` (the folds' mean of a
# logistic regression, in raw units), the bias in CONFIDENCE_BIAS.
CONFIDENCE_FEATURES = (
    "coverage",  # of the best candidate (see Candidate)
    "phrase_coverage",
    "name_coverage",
    "cosine",
    "score",  # the best candidate's reranked score
    "margin",  # its lead over the second
    "best_evidence_of_three",  # the strongest `evidence` among the first three
    "best_cosine",  # the highest cosine in the short list
)
CONFIDENCE_WEIGHTS: dict[str, float] = {
    "coverage": 0.329,
    "phrase_coverage": -0.699,
    "name_coverage": -0.008,
    "cosine": 15.229,
    "score": 3.050,
    "margin": 1.733,
    "best_evidence_of_three": 0.664,
    "best_cosine": 21.564,
}
CONFIDENCE_BIAS = -37.399


def confidence_features(candidates: Sequence[Candidate], params: SearchParams | None = None) -> np.ndarray:
    """The values of CONFIDENCE_FEATURES for a ranked list (hybrid search: cosines present)."""
    best = candidates[0]
    second = candidates[1].score if len(candidates) > 1 else 0.0
    return np.array(
        [
            best.coverage,
            best.phrase_coverage,
            best.name_coverage,
            best.dense_similarity or 0.0,
            best.score,
            best.score - second,
            max(evidence(candidate, params) for candidate in candidates[:3]),
            max(candidate.dense_similarity or 0.0 for candidate in candidates),
        ]
    )


def confidence(candidates: Sequence[Candidate], params: SearchParams | None = None) -> float:
    """How likely the best candidate answers the question rather than something outside the knowledge base.

    A linear score (log-odds) over how well the best candidate covers the question, how far it
    leads, and the strongest lexical and dense evidence in the short list.
    """
    weights = np.array([CONFIDENCE_WEIGHTS.get(name, 0.0) for name in CONFIDENCE_FEATURES])
    return float(confidence_features(candidates, params) @ weights + CONFIDENCE_BIAS)


def evidence(candidate: Candidate, params: SearchParams | None = None) -> float:
    """How strongly the question points at this candidate, independent of the other candidates.

    Lexical coverage of the question and of the name, plus — with dense retrieval — how far the
    passage's cosine lies above the typical cosine of a right answer.
    """
    params = params or SearchParams()
    lexical = 0.5 * candidate.coverage + candidate.phrase_coverage + candidate.name_coverage
    if candidate.dense_similarity is None:
        return lexical
    return lexical + params.dense_evidence_weight * (candidate.dense_similarity - params.dense_evidence_center)


def _folded_trigrams(text: str) -> list[str]:
    words = [fold(token) for token in syllables(text)]
    return [" ".join(window) for window in zip(words, words[1:], words[2:])]


def _spread(similarities: np.ndarray) -> np.ndarray:
    """Cosines are compressed (0.75–0.9 for everything); stretch so the mean is 0 and the best 1."""
    best, mean = float(similarities.max()), float(similarities.mean())
    if best <= mean:
        return np.zeros_like(similarities)
    return np.clip((similarities - mean) / (best - mean), 0.0, 1.0)


def _by_best(scores: np.ndarray) -> np.ndarray:
    best = float(scores.max()) if scores.size else 0.0
    return scores / best if best > 0 else scores
