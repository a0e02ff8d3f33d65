"""Rerank the first stage's short list with field-aware features, combined linearly.

The first stage (lexical channels fused with dense retrieval, see :mod:`knowledge.retrieval.candidates`)
has the right procedure among its first 30 for every dev question but first for only about
four in five. This stage looks at each of those candidates more closely — which of its fields
hold the question's words (required documents, steps, area), how much of its name (words and
word pairs) the question says, whether it asks for an act the name lacks, whether the numbers
and negations of the two agree ("mức 1", "không phải đánh giá rủi ro") — plus two priors of a
citizens' assistant in a city: procedures for Vietnamese citizens, and procedures a ward or
commune handles.

The score is ``first-stage score + Σ weight × feature``, on the first stage's scale, so the
clarify margins keep their meaning. The weights come from ``python -m knowledge tune-rerank``:
a listwise softmax model fitted in 5 folds grouped by expected procedure; the mean of the
folds' weights (divided by the first-stage weight) is what :data:`RERANK_WEIGHTS` holds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.ingest.records import Procedure
from knowledge.retrieval.learned import learned
from knowledge.retrieval.query import NUMBER_WORDS, AnalyzedQuery, document_terms, is_number, retrieval_token
from knowledge.retrieval.variants import family_name, missing_acts
from nlu.text import fold, syllables

# "một" and "năm" are left out: names use them in "một phần", "một cửa", "hằng năm" more than as counts.
_NUMBER_WORDS = {
    word: str(value) for value, word in enumerate(NUMBER_WORDS, start=1) if word not in ("một", "năm") and value < 10
}

FEATURES = (
    "documents",  # BM25 of the question over the required documents, / the query's best
    "steps",  # the same over the steps
    "field",  # the same over the area ("Hộ tịch", "Đất đai", ...)
    "name_said",  # share of the name's own words that the question contains
    "commune_level",  # a ward or commune office handles it
    "citizens",  # Vietnamese citizens are among the applicants
    "missing_actions",  # acts the question asks for ("cấp lại", "gia hạn", "thành lập") that the name lacks
    "name_pairs_said",  # share of the name's word pairs the question contains ("không phải đánh giá")
    "numbers_agree",  # +1 a number of the question is in the name ("mức 1"), −1 the name has only others
    "negation_agrees",  # +1 both say "không phải ...", −1 one negates what the other affirms
)

# From `python -m knowledge tune-rerank ../shared/eval/dev.jsonl` (5 grouped folds; the README
# has the held-out figures): the folds' mean weights divided by the first-stage weight.
RERANK_WEIGHTS: dict[str, float] = learned("rerank").weights


@dataclass(frozen=True)
class Signals:
    """First-stage evidence for every procedure, for one query (arrays in record order)."""

    first_stage: np.ndarray
    name: np.ndarray
    name_accented: np.ndarray
    body: np.ndarray
    dense: np.ndarray | None  # spread cosines (0 = the mean procedure, 1 = the best)
    cosine: np.ndarray | None  # raw cosines
    fields: dict[str, np.ndarray]  # field channels, see knowledge.retrieval.lexical.FIELD_CHANNELS


class Reranker:
    """Features of candidates and their weighted sum."""

    def __init__(self, procedures: Sequence[Procedure], weights: dict[str, float] | None = None) -> None:
        self.procedures = list(procedures)
        self._name_words, self._name_pairs, self._name_numbers = [], [], []
        for procedure in self.procedures:
            name = family_name(procedure.name)
            folded_terms = document_terms(name)[0]
            self._name_words.append(tuple(dict.fromkeys(t for t in folded_terms if "_" not in t)))
            self._name_pairs.append(frozenset(t for t in folded_terms if "_" in t))
            self._name_numbers.append(numbers_in(name))
        self._name_negations = [negations(procedure.name) for procedure in self.procedures]
        # words some name negates ("không phải", "không cư trú"): only there is a "không" telling twins apart
        self._negatable = frozenset(word for negated, _ in self._name_negations for word in negated)
        chosen = RERANK_WEIGHTS if weights is None else weights
        self.weights = np.array([chosen.get(name, 0.0) for name in FEATURES], dtype=np.float64)

    def features(self, query: AnalyzedQuery, positions: Sequence[int], signals: Signals) -> np.ndarray:
        """One row of :data:`FEATURES` per candidate (given by its position in the records)."""
        asked = set(query.folded_terms)
        query_text = query.asked_text
        asked_numbers = numbers_in(query.retrieval_text, words=False)
        asked_negated = negations(query.text)[0] & self._negatable
        rows = np.zeros((len(positions), len(FEATURES)))
        for row, position in enumerate(positions):
            procedure = self.procedures[position]
            name_words, name_pairs, name_numbers = (
                self._name_words[position],
                self._name_pairs[position],
                self._name_numbers[position],
            )
            rows[row] = (
                signals.fields["documents"][position],
                signals.fields["steps"][position],
                signals.fields["field"][position],
                sum(word in asked for word in name_words) / len(name_words) if name_words else 0.0,
                float("Cấp xã" in procedure.levels),
                float("Công dân Việt Nam" in procedure.applicants),
                missing_acts(query_text, procedure.name),
                len(name_pairs & asked) / len(name_pairs) if name_pairs else 0.0,
                _agreement(asked_numbers, name_numbers),
                _negation_agreement(asked_negated, self._name_negations[position]),
            )
        return rows

    def bonus(self, features: np.ndarray) -> np.ndarray:
        """What the features add to the first-stage score of each candidate."""
        return features @ self.weights


def numbers_in(text: str, words: bool = True) -> frozenset[str]:
    """Small numbers (grades, levels, counts) in ``text`` as digits; ``words``: "hai" counts as 2."""
    found = set()
    for token in syllables(text):
        normal = retrieval_token(token)
        if is_number(normal) and len(normal) <= 2:
            found.add(normal)
        elif words and token in _NUMBER_WORDS:
            found.add(_NUMBER_WORDS[token])
    return frozenset(found)


def _agreement(asked: frozenset[str], named: frozenset[str]) -> float:
    if not asked or not named:
        return 0.0
    return 1.0 if asked & named else -1.0


def negations(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """(words right after "không" within a clause, every other word), folded."""
    negated, plain = set(), set()
    for clause in re.split(r"[^\w\s]+", fold(text)):
        words = clause.split()
        for previous, word in zip(["", *words], words):
            (negated if previous == "khong" else plain).add(word)
    return frozenset(negated), frozenset(plain)


def _negation_agreement(asked_negated: frozenset[str], named: tuple[frozenset[str], frozenset[str]]) -> float:
    """+1 the question and the name negate the same word; −1 the question negates a word the name
    affirms. A question that negates nothing has no opinion: "phải" and "có" are too common to
    read as the opposite of a name's "không phải", "không có"."""
    named_negated, named_plain = named
    if asked_negated & named_negated:
        return 1.0
    return -1.0 if (asked_negated & named_plain) - named_negated else 0.0
