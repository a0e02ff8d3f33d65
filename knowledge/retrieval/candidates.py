"""Candidates: every procedure scored for a question, and the short list reranked.

Ranking fuses the lexical channels (see :mod:`knowledge.retrieval.lexical`) after normalising
each by its best score for the query, adds the dense cosines when there is a dense index, then
demotes candidates carrying variant markers the question does not mention, then reranks that
short list with field-aware features (:mod:`knowledge.retrieval.rerank`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.ingest.records import Procedure
from knowledge.retrieval.dense import DenseIndex
from knowledge.retrieval.diacritics import DiacriticRestorer
from knowledge.retrieval.lexical import LexicalIndex, body_text, indexed_name
from knowledge.retrieval.params import SearchParams
from knowledge.retrieval.query import AnalyzedQuery, document_terms, is_stopword, terms
from knowledge.retrieval.rerank import Reranker, Signals
from knowledge.retrieval.variants import family_name, is_action_marker, unrequested_markers
from nlu.abbreviations import ABBREVIATIONS, ACTION_WORDS
from nlu.everyday import EVERYDAY_PHRASES
from nlu.text import fold, syllables

_ABBREVIATION_KEYS = frozenset(fold(key) for key in {**ABBREVIATIONS, **ACTION_WORDS})


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


class Ranker:
    """Scores every procedure for a question and reranks the short list (no decision)."""

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

    def with_params(self, params: SearchParams) -> Ranker:
        clone = object.__new__(Ranker)
        clone.__dict__.update(self.__dict__)
        clone.params = params
        return clone

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

    def rank(self, query: AnalyzedQuery) -> list[Candidate]:
        """The short list, best first, each candidate with the evidence the decision looks at."""
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


def restorer_texts(procedures: Sequence[Procedure]) -> list[str]:
    """The vocabulary diacritics are restored from: procedure texts and everyday wording."""
    texts = []
    for p in procedures:
        texts += [p.name, p.field or "", " ".join(d.name for d in p.documents[:20]), (p.conditions or "")[:1000]]
        texts += [p.steps_text[:2000], " ".join(r.name for r in p.results)]
    # how people say it ("sổ đỏ", "bằng lái", "vợ chồng tôi"), weighted so that it wins over rare homographs
    texts += list(ABBREVIATIONS) * 20 + list(ACTION_WORDS) * 20 + list(EVERYDAY_PHRASES) * 20
    return texts


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
