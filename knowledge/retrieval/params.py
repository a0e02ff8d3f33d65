"""The settings of ranking and deciding, in one value (see :class:`SearchParams`)."""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.retrieval.learned import learned


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
    # rescore the first stage's short list with field-aware features (knowledge.retrieval.rerank)
    rerank: bool = True
    # lexical only: abstain when evidence (0.5 * coverage + phrase coverage + name coverage, see
    # Candidate) is below this; chosen by `python -m knowledge tune` when lexical was the default
    abstain_below_lexical_evidence: float = 0.70
    # hybrid: abstain when confidence (see `confidence`) is below this; learned with the
    # confidence's weights (knowledge/data/learned/confidence.json)
    abstain_below_confidence: float = learned("confidence").threshold or 0.0
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
