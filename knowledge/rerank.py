"""Rerank the first stage's short list with field-aware features, combined linearly.

The first stage (lexical channels fused with dense retrieval, see :mod:`knowledge.search`)
has the right procedure among its first 30 for every dev question but first for only about
four in five. This stage looks at each of those candidates more closely — which of its fields
hold the question's words (required documents, steps, area), how much of its name the question
says, whether it asks for an act the name lacks — plus two priors of a citizens' assistant in
a city: procedures for Vietnamese citizens, and procedures a ward or commune handles.

The score is ``first-stage score + Σ weight × feature``, on the first stage's scale, so the
clarify margins keep their meaning. The weights come from ``python -m knowledge tune-rerank``:
a listwise softmax model fitted in 5 folds grouped by expected procedure; the mean of the
folds' weights (divided by the first-stage weight) is what :data:`RERANK_WEIGHTS` holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.query import AnalyzedQuery, document_terms
from knowledge.records import Procedure
from knowledge.variants import family_name, is_action_marker, unrequested_markers

FEATURES = (
    "documents",  # BM25 of the question over the required documents, / the query's best
    "steps",  # the same over the steps
    "field",  # the same over the area ("Hộ tịch", "Đất đai", ...)
    "name_said",  # share of the name's own words that the question contains
    "commune_level",  # a ward or commune office handles it
    "citizens",  # Vietnamese citizens are among the applicants
    "missing_actions",  # acts the question asks for ("cấp lại", "gia hạn") that the name lacks
)

# From `python -m knowledge tune-rerank ../shared/eval/dev.jsonl` (5 grouped folds; the README
# has the held-out figures): the folds' mean weights divided by the first-stage weight.
RERANK_WEIGHTS: dict[str, float] = {
    "documents": 0.282,
    "steps": 0.304,
    "field": 0.286,
    "name_said": 0.218,
    "commune_level": 0.152,
    "citizens": 0.174,
    "missing_actions": -0.261,
}


@dataclass(frozen=True)
class Signals:
    """First-stage evidence for every procedure, for one query (arrays in record order)."""

    first_stage: np.ndarray
    name: np.ndarray
    name_accented: np.ndarray
    body: np.ndarray
    dense: np.ndarray | None  # spread cosines (0 = the mean procedure, 1 = the best)
    cosine: np.ndarray | None  # raw cosines
    fields: dict[str, np.ndarray]  # field channels, see knowledge.lexical.FIELD_CHANNELS


class Reranker:
    """Features of candidates and their weighted sum."""

    def __init__(self, procedures: Sequence[Procedure], weights: dict[str, float] | None = None) -> None:
        self.procedures = list(procedures)
        self._name_words = [
            tuple(dict.fromkeys(t for t in document_terms(family_name(p.name))[0] if "_" not in t))
            for p in self.procedures
        ]
        chosen = RERANK_WEIGHTS if weights is None else weights
        self.weights = np.array([chosen.get(name, 0.0) for name in FEATURES], dtype=np.float64)

    def features(self, query: AnalyzedQuery, positions: Sequence[int], signals: Signals) -> np.ndarray:
        """One row of :data:`FEATURES` per candidate (given by its position in the records)."""
        asked = set(query.folded_terms)
        query_text = " ".join([query.text, *query.expansions])
        rows = np.zeros((len(positions), len(FEATURES)))
        for row, position in enumerate(positions):
            procedure = self.procedures[position]
            name_words = self._name_words[position]
            rows[row] = (
                signals.fields["documents"][position],
                signals.fields["steps"][position],
                signals.fields["field"][position],
                sum(word in asked for word in name_words) / len(name_words) if name_words else 0.0,
                float("Cấp xã" in procedure.levels),
                float("Công dân Việt Nam" in procedure.applicants),
                sum(is_action_marker(m) for m in unrequested_markers(query_text, procedure.name)),
            )
        return rows

    def bonus(self, features: np.ndarray) -> np.ndarray:
        """What the features add to the first-stage score of each candidate."""
        return features @ self.weights
