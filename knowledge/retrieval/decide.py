"""The decision on a ranked list: answer, clarify between close variants, or abstain.

Abstention looks at evidence that does not depend on how the ranking normalised its channels:
how much of the question's informative vocabulary the best candidate covers and — with dense
retrieval — a learned confidence that also weighs the cosines, the best candidate's score and its
lead (see :func:`confidence`). A question about a field the knowledge base does not cover, or
about the law rather than a procedure, is refused whatever the scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from knowledge.retrieval.candidates import Candidate
from knowledge.retrieval.learned import learned
from knowledge.retrieval.lexical import body_text
from knowledge.retrieval.params import SearchParams
from knowledge.retrieval.query import AnalyzedQuery
from knowledge.retrieval.scope import mentions, uncovered_subjects
from knowledge.retrieval.variants import family_name, is_action_marker, same_family, unrequested_markers
from nlu.aspects import asks_for_procedure, is_definition_question

Decision = Literal["answer", "clarify", "abstain"]


@dataclass(frozen=True)
class UncoveredSubject:
    term: str
    field: str


def uncovered_subject(query: AnalyzedQuery, candidate: Candidate) -> UncoveredSubject | None:
    """A subject of the question from a field the knowledge base lacks, unmentioned by the candidate."""
    procedure_text = candidate.name + " " + body_text(candidate.procedure)
    for field_name, term in uncovered_subjects(query.text):
        if not mentions(procedure_text, term):
            return UncoveredSubject(term, field_name)
    return None


def decide(
    query: AnalyzedQuery, candidates: list[Candidate], params: SearchParams
) -> tuple[Decision, list[Candidate], str]:
    """Answer, clarify between variants the question does not separate, or abstain; with the options and why."""
    p = params
    if not candidates:
        return "abstain", [], "no procedure shares a word with the question"
    best = candidates[0]
    outside = uncovered_subject(query, best)
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


# Inputs of `confidence`; weights, bias and threshold in knowledge/data/learned/confidence.json,
# written from `python -m knowledge tune` (the folds' mean of a logistic regression, in raw units).
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
CONFIDENCE_WEIGHTS: dict[str, float] = learned("confidence").weights
CONFIDENCE_BIAS: float = learned("confidence").bias or 0.0


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
