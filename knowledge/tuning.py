"""`python -m knowledge tune FILE`: choose decision thresholds by grouped cross-validation.

Questions are grouped by their expected procedure (the casual questions come in pairs about
one procedure), so a threshold is never judged on a twin of a question it was chosen on.
Each fold picks the threshold that maximises abstention − 2.5 × false abstention on its
training part, and is scored on its held-out part. The printed curve shows the whole
trade-off; the median of the fold choices is the value to put in SearchParams.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import replace

from knowledge.evaluation import LabelledQuestion
from knowledge.search import Searcher

THRESHOLDS = tuple(round(0.40 + 0.05 * step, 2) for step in range(17))
FALSE_ABSTENTION_COST = 2.5


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


def _decisions(searcher: Searcher, questions: list[LabelledQuestion], threshold: float) -> tuple[float, float]:
    tuned = searcher.with_params(replace(searcher.params, abstain_below_evidence=threshold))
    out = [q for q in questions if not q.in_knowledge_base]
    inside = [q for q in questions if q.in_knowledge_base]
    abstained_out = sum(tuned.search(q.question).decision == "abstain" for q in out)
    abstained_in = sum(tuned.search(q.question).decision == "abstain" for q in inside)
    return abstained_out / max(len(out), 1), abstained_in / max(len(inside), 1)


def tune(searcher: Searcher, questions: list[LabelledQuestion]) -> str:
    lines = ["threshold  abstention  false_abstention   (whole file)"]
    for threshold in THRESHOLDS:
        abstention, false_abstention = _decisions(searcher, questions, threshold)
        lines.append(f"{threshold:>9.2f}  {abstention:>10.3f}  {false_abstention:>16.3f}")
    chosen, held_out = [], []
    buckets = folds(questions)
    for index, test in enumerate(buckets):
        train = [q for other, bucket in enumerate(buckets) if other != index for q in bucket]
        best = max(
            THRESHOLDS,
            key=lambda t: (lambda a, f: a - FALSE_ABSTENTION_COST * f)(*_decisions(searcher, train, t)),
        )
        abstention, false_abstention = _decisions(searcher, test, best)
        chosen.append(best)
        held_out.append((abstention, false_abstention))
        lines.append(
            f"fold {index + 1}: threshold {best:.2f} → held-out abstention {abstention:.3f}, false abstention {false_abstention:.3f}"
        )
    lines.append(
        f"cross-validated: abstention {statistics.mean(a for a, _ in held_out):.3f}, "
        f"false abstention {statistics.mean(f for _, f in held_out):.3f}; median threshold {statistics.median(chosen):.2f} "
        f"(current default {searcher.params.abstain_below_evidence:.2f})"
    )
    return "\n".join(lines)
