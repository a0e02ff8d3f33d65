"""`python -m knowledge tune FILE`: choose the abstention threshold by grouped cross-validation.

Questions are grouped by their expected procedure (the casual questions come in pairs about
one procedure), so a threshold is never judged on a twin of a question it was chosen on.
Each fold picks the threshold that maximises abstention − 2.5 × false abstention on its
training part, and is scored on its held-out part. The printed curve shows the whole
trade-off; the median of the fold choices is the value to put in SearchParams.

Every question is searched once: the rules that abstain regardless of the threshold (a field
outside the knowledge base, a question about the law, nothing found) are recorded with the
best candidate's evidence, and thresholds are then applied to those numbers.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, replace

from knowledge.evaluation import LabelledQuestion
from knowledge.search import Searcher, evidence

THRESHOLDS = tuple(round(0.30 + 0.05 * step, 2) for step in range(27))
FALSE_ABSTENTION_COST = 2.5


@dataclass(frozen=True)
class _Observed:
    question: LabelledQuestion
    abstained_by_rule: bool
    evidence: float


def _group(question: LabelledQuestion) -> str:
    return question.expected[0] if question.expected else question.id


def folds(questions: list[LabelledQuestion], k: int = 5, seed: int = 13) -> list[list[LabelledQuestion]]:
    groups: dict[str, list[LabelledQuestion]] = {}
    for question in questions:
        groups.setdefault(_group(question), []).append(question)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    buckets: list[list[LabelledQuestion]] = [[] for _ in range(k)]
    for index, key in enumerate(keys):
        buckets[index % k].extend(groups[key])
    return buckets


def observe(searcher: Searcher, questions: list[LabelledQuestion]) -> dict[str, _Observed]:
    permissive = searcher.with_params(
        replace(searcher.params, abstain_below_evidence=float("-inf"), abstain_below_lexical_evidence=float("-inf"))
    )
    observed = {}
    for question in questions:
        result = permissive.search(question.question)
        strength = evidence(result.best, searcher.params) if result.best else float("-inf")
        observed[question.id] = _Observed(question, result.decision == "abstain", strength)
    return observed


def rates(observed: list[_Observed], threshold: float) -> tuple[float, float]:
    """(abstention on questions outside the knowledge base, false abstention on procedure questions)."""
    out = [o for o in observed if not o.question.in_knowledge_base]
    inside = [o for o in observed if o.question.in_knowledge_base]

    def abstains(o: _Observed) -> bool:
        return o.abstained_by_rule or o.evidence < threshold

    return sum(map(abstains, out)) / max(len(out), 1), sum(map(abstains, inside)) / max(len(inside), 1)


def tune(searcher: Searcher, questions: list[LabelledQuestion]) -> str:
    observed = observe(searcher, questions)
    lines = ["threshold  abstention  false_abstention   (whole file)"]
    for threshold in THRESHOLDS:
        abstention, false_abstention = rates(list(observed.values()), threshold)
        lines.append(f"{threshold:>9.2f}  {abstention:>10.3f}  {false_abstention:>16.3f}")
    chosen, held_out = [], []
    buckets = folds(questions)
    for index, test in enumerate(buckets):
        train = [observed[q.id] for other, bucket in enumerate(buckets) if other != index for q in bucket]
        best = max(THRESHOLDS, key=lambda t: (lambda a, f: a - FALSE_ABSTENTION_COST * f)(*rates(train, t)))
        abstention, false_abstention = rates([observed[q.id] for q in test], best)
        chosen.append(best)
        held_out.append((abstention, false_abstention))
        lines.append(
            f"fold {index + 1}: threshold {best:.2f} → held-out abstention {abstention:.3f}, "
            f"false abstention {false_abstention:.3f}"
        )
    lines.append(
        f"cross-validated: abstention {statistics.mean(a for a, _ in held_out):.3f}, "
        f"false abstention {statistics.mean(f for _, f in held_out):.3f}; "
        f"median threshold {statistics.median(chosen):.2f} (current default "
        f"{searcher.params.abstain_below_evidence if searcher.dense else searcher.params.abstain_below_lexical_evidence:.2f}, "
        f"{'hybrid' if searcher.dense else 'lexical only'})"
    )
    return "\n".join(lines)
