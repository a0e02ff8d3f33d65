"""Choose what the decision and the reranker learn, by cross-validation grouped by procedure.

Questions are grouped by their expected procedure (the casual questions come in pairs about
one procedure), so nothing is judged on a twin of a question it was learned from. Every
question is used as typed and without diacritics, both in the question's fold.

`python -m knowledge tune FILE` — when to abstain. Hybrid search: a logistic regression of
"the question is in the knowledge base" on `knowledge.retrieval.candidates.CONFIDENCE_FEATURES` (false
abstention weighted 2.5 times), fitted on four folds; the threshold on its log-odds is the one
maximising abstention − 2.5 × false abstention on those four folds; both are scored on the
fifth. The folds' mean weights and median threshold go into knowledge/data/learned/confidence.json. Lexical only: the
threshold on `evidence` alone, chosen the same way. Every question is searched once: the rules
that abstain whatever the threshold (a field outside the knowledge base, a question about the
law, nothing found) are recorded with the features, and thresholds are applied to those numbers.

`python -m knowledge tune-rerank FILE` — the reranker's weights: a listwise softmax model over
each procedure question's short list, its regularisation chosen by an inner grouped CV, scored
on the held-out fold; the folds' mean weights go into knowledge/data/learned/rerank.json.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from knowledge.evaluation.quality import LabelledQuestion
from knowledge.retrieval.decide import CONFIDENCE_FEATURES, confidence_features, evidence
from knowledge.retrieval.query import analyze
from knowledge.retrieval.rerank import FEATURES
from knowledge.retrieval.search import Searcher
from nlu.text import fold

THRESHOLDS = tuple(round(0.30 + 0.05 * step, 2) for step in range(27))
FALSE_ABSTENTION_COST = 2.5
# The operating point: the most abstention whose false abstention on the fitting folds stays
# within this budget (issue 12: at most 3 % of procedure questions refused).
FALSE_ABSTENTION_BUDGET = 0.03
CONFIDENCE_REGULARISATION = 0.01


@dataclass(frozen=True)
class _Observed:
    question: LabelledQuestion
    folded: bool
    abstained_by_rule: bool
    evidence: float
    features: np.ndarray | None  # confidence features (hybrid search), None without a candidate


def _group(question: LabelledQuestion) -> str:
    return question.expected[0] if question.expected else question.id


def folds(questions: list[LabelledQuestion], k: int = 5, seed: int = 13) -> list[list[LabelledQuestion]]:
    """``questions`` in ``k`` folds, all questions of one expected procedure in the same fold.

    scikit-learn's GroupKFold with its groups shuffled by ``seed``: the groups are dealt into ``k``
    folds of (nearly) equal group counts; the questions keep their order within a fold.
    """
    from sklearn.model_selection import GroupKFold

    groups = [_group(question) for question in questions]
    splitter = GroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return [[questions[row] for row in test] for _, test in splitter.split(questions, groups=groups)]


def observe(searcher: Searcher, questions: list[LabelledQuestion], both_forms: bool = True) -> list[_Observed]:
    permissive = searcher.with_params(
        replace(searcher.params, abstain_below_confidence=float("-inf"), abstain_below_lexical_evidence=float("-inf"))
    )
    observed = []
    for folded in (False, True) if both_forms else (False,):
        for question in questions:
            result = permissive.search(fold(question.question) if folded else question.question, top_k=10**6)
            best = result.best
            strength = evidence(best, searcher.params) if best else float("-inf")
            features = None
            if best is not None and best.dense_similarity is not None:
                features = confidence_features(result.candidates, searcher.params)
            observed.append(_Observed(question, folded, result.decision == "abstain", strength, features))
    return observed


def rates(observed: list[_Observed], scores: list[float], threshold: float) -> tuple[float, float]:
    """(abstention on questions outside the knowledge base, false abstention on procedure questions)."""
    out = [o.abstained_by_rule or s < threshold for o, s in zip(observed, scores) if not o.question.in_knowledge_base]
    inside = [o.abstained_by_rule or s < threshold for o, s in zip(observed, scores) if o.question.in_knowledge_base]
    return sum(out) / max(len(out), 1), sum(inside) / max(len(inside), 1)


def _best_threshold(observed: list[_Observed], scores: list[float], thresholds: Iterable[float]) -> float:
    """The threshold with the most abstention whose false abstention stays within the budget."""

    def gain(threshold: float) -> tuple[bool, float, float]:
        abstention, false_abstention = rates(observed, scores, threshold)
        if false_abstention <= FALSE_ABSTENTION_BUDGET:
            return True, abstention, -false_abstention
        return False, -false_abstention, abstention  # none within the budget: the fewest refused

    return max(thresholds, key=gain)


def _split(observed: list[_Observed], k: int = 5) -> list[list[_Observed]]:
    buckets = folds(list({o.question.id: o.question for o in observed}.values()), k)
    where = {question.id: index for index, bucket in enumerate(buckets) for question in bucket}
    return [[o for o in observed if where[o.question.id] == index] for index in range(k)]


def fit_confidence(observed: list[_Observed]) -> tuple[np.ndarray, float]:
    """(weights in raw units, bias) of a logistic regression: in the knowledge base or not.

    scikit-learn's LogisticRegression on standardised features, a question inside the knowledge base
    weighing ``FALSE_ABSTENTION_COST`` (``sample_weight``). The model minimises the mean weighted
    log-loss plus ``CONFIDENCE_REGULARISATION`` × ‖w‖² (the bias unpenalised); scikit-learn's objective
    is C × the summed weighted log-loss + ½‖w‖², the same minimum when C = 1 / (2 ×
    ``CONFIDENCE_REGULARISATION`` × n). Its lbfgs solver is scipy's L-BFGS-B, which the hand-written
    version called with scipy's default tolerance; this one stops later (tol 1e-8), so on the dev set
    the weights differ from the hand-written fit's by under 0.1 % (enough to move one fold's
    threshold by one 0.01 step).
    """
    from sklearn.linear_model import LogisticRegression

    usable = [o for o in observed if o.features is not None and not o.abstained_by_rule]
    matrix = np.array([o.features for o in usable])
    inside = np.array([o.question.in_knowledge_base for o in usable])
    mean, scale = matrix.mean(axis=0), matrix.std(axis=0) + 1e-9
    standard = (matrix - mean) / scale
    cost = np.where(inside, FALSE_ABSTENTION_COST, 1.0)
    model = LogisticRegression(C=1 / (2 * CONFIDENCE_REGULARISATION * len(usable)), tol=1e-8, max_iter=10_000)
    model.fit(standard, inside, sample_weight=cost)
    weights = model.coef_[0] / scale
    return weights, float(model.intercept_[0] - mean @ weights)


def _scores(observed: list[_Observed], weights: np.ndarray, bias: float) -> list[float]:
    return [float(o.features @ weights + bias) if o.features is not None else float("-inf") for o in observed]


def tune(searcher: Searcher, questions: list[LabelledQuestion]) -> str:
    """The report of :func:`fit_abstention` (lexical only: of the evidence threshold)."""
    if searcher.dense is None:
        return tune_lexical_threshold(searcher, questions)
    return fit_abstention(searcher, questions)[0]


def fit_abstention(searcher: Searcher, questions: list[LabelledQuestion]) -> tuple[str, dict]:
    """Grouped 5-fold CV of the confidence and its threshold: (report, the values for confidence.json)."""
    observed = observe(searcher, questions)
    lines, fold_weights, fold_bias, chosen = [], [], [], []
    held_out: dict[bool, list[tuple[float, float, int, int]]] = {False: [], True: []}
    summary: dict[str, tuple[float, float]] = {}
    for index, test in enumerate(buckets := _split(observed)):
        train = [o for other, bucket in enumerate(buckets) if other != index for o in bucket]
        weights, bias = fit_confidence(train)
        train_scores = _scores(train, weights, bias)
        candidates = sorted({round(s, 2) for s in train_scores if s != float("-inf")})
        threshold = _best_threshold(train, train_scores, candidates)
        fold_weights.append(weights)
        fold_bias.append(bias)
        chosen.append(threshold)
        for folded in (False, True):
            part = [o for o in test if o.folded == folded]
            abstention, false_abstention = rates(part, _scores(part, weights, bias), threshold)
            outside = sum(not o.question.in_knowledge_base for o in part)
            held_out[folded].append((abstention, false_abstention, outside, len(part) - outside))
        lines.append(f"fold {index + 1}: threshold {threshold:+.2f}")
    for folded in (False, True):
        rows = held_out[folded]
        abstention = sum(a * n for a, _, n, _ in rows) / sum(n for *_, n, _ in rows)
        false_abstention = sum(f * m for _, f, _, m in rows) / sum(m for *_, m in rows)
        label = "without diacritics" if folded else "as typed"
        lines.append(f"{label:>18}: held-out abstention {abstention:.3f}, false abstention {false_abstention:.3f}")
        summary[label] = (abstention, false_abstention)
    weights, bias, threshold = np.mean(fold_weights, axis=0), float(np.mean(fold_bias)), statistics.median(chosen)
    lines.append("knowledge/data/learned/confidence.json: weights (folds' mean, ± sd), bias, threshold:")
    for name, value, sd in zip(CONFIDENCE_FEATURES, weights, np.std(fold_weights, axis=0)):
        lines.append(f"    {name!r}: {value:.3f},  # ± {sd:.3f}")
    lines.append(f"    bias {bias:.3f}, median threshold {threshold:.2f}")
    current = [confidence_from(o, searcher) for o in observed]
    lines.append("threshold  abstention  false_abstention   (whole file, as typed, current weights)")
    typed = [(o, s) for o, s in zip(observed, current) if not o.folded]
    for step in range(-8, 9):
        t = searcher.params.abstain_below_confidence + 0.25 * step
        abstention, false_abstention = rates([o for o, _ in typed], [s for _, s in typed], t)
        lines.append(f"{t:>9.2f}  {abstention:>10.3f}  {false_abstention:>16.3f}")
    learned = {
        "held_out": {
            "abstention": round(summary["as typed"][0], 3),
            "false_abstention": round(summary["as typed"][1], 3),
            "abstention_without_diacritics": round(summary["without diacritics"][0], 3),
            "false_abstention_without_diacritics": round(summary["without diacritics"][1], 3),
        },
        "weights": {name: round(float(value), 3) for name, value in zip(CONFIDENCE_FEATURES, weights)},
        "bias": round(bias, 3),
        "threshold": round(float(threshold), 2),
    }
    return "\n".join(lines), learned


def confidence_from(observed: _Observed, searcher: Searcher) -> float:
    """The current `confidence` of an observation (its features under the weights in knowledge.retrieval.candidates)."""
    if observed.features is None:
        return float("-inf")
    from knowledge.retrieval.decide import CONFIDENCE_BIAS, CONFIDENCE_WEIGHTS

    weights = np.array([CONFIDENCE_WEIGHTS.get(name, 0.0) for name in CONFIDENCE_FEATURES])
    return float(observed.features @ weights + CONFIDENCE_BIAS)


def tune_lexical_threshold(searcher: Searcher, questions: list[LabelledQuestion]) -> str:
    """Lexical-only search: the threshold on `evidence`, questions as typed."""
    observed = observe(searcher, questions, both_forms=False)
    strengths = [o.evidence for o in observed]
    lines = ["threshold  abstention  false_abstention   (whole file)"]
    for threshold in THRESHOLDS:
        abstention, false_abstention = rates(observed, strengths, threshold)
        lines.append(f"{threshold:>9.2f}  {abstention:>10.3f}  {false_abstention:>16.3f}")
    chosen, held_out = [], []
    for index, test in enumerate(buckets := _split(observed)):
        train = [o for other, bucket in enumerate(buckets) if other != index for o in bucket]
        best = _best_threshold(train, [o.evidence for o in train], THRESHOLDS)
        abstention, false_abstention = rates(test, [o.evidence for o in test], best)
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
        f"{searcher.params.abstain_below_lexical_evidence:.2f}, lexical only)"
    )
    return "\n".join(lines)


# -- reranker weights ----------------------------------------------------------------------

REGULARISATION = (0.001, 0.01, 0.1)


@dataclass(frozen=True)
class _ShortList:
    """One question (as typed or folded): first-stage scores, features and labels of its short list."""

    question: LabelledQuestion
    folded: bool
    first_stage: np.ndarray
    features: np.ndarray
    right: np.ndarray  # bool per candidate

    @property
    def matrix(self) -> np.ndarray:
        return np.column_stack([self.first_stage, self.features])


def short_lists(searcher: Searcher, questions: list[LabelledQuestion]) -> list[_ShortList]:
    """The first stage's short list of every procedure question, as typed and without diacritics."""
    lists = []
    for question in questions:
        if not question.in_knowledge_base:
            continue
        for folded in (False, True):
            query = analyze(fold(question.question) if folded else question.question)
            if query.is_empty:
                continue
            signals = searcher.ranker.signals(query)
            fused = signals.first_stage
            depth = min(searcher.params.rerank_depth, len(fused))
            top = [int(p) for p in np.argpartition(-fused, depth - 1)[:depth] if fused[p] > 0]
            if not top:
                continue
            right = np.array([searcher.procedures[p].code in question.expected for p in top])
            lists.append(
                _ShortList(
                    question,
                    folded,
                    searcher.ranker.first_stage_scores(query, top, fused),
                    searcher.ranker.reranker.features(query, top, signals),
                    right,
                )
            )
    return lists


def fit_listwise(lists: list[_ShortList], regularisation: float) -> np.ndarray:
    """Weights (first stage first) maximising the softmax probability of the right candidates."""
    from scipy.optimize import minimize

    trainable = [item for item in lists if item.right.any()]
    stacked = np.vstack([item.matrix for item in trainable])
    mean, scale = stacked.mean(axis=0), stacked.std(axis=0) + 1e-9
    matrices = [(item.matrix - mean) / scale for item in trainable]

    def loss(weights: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = regularisation * weights @ weights, 2 * regularisation * weights
        for matrix, item in zip(matrices, trainable):
            scores = matrix @ weights
            exp = np.exp(scores - scores.max())
            right = exp[item.right]
            value -= np.log(right.sum()) - np.log(exp.sum())
            gradient -= matrix[item.right].T @ right / right.sum() - matrix.T @ exp / exp.sum()
        return value / len(matrices), gradient / len(matrices)

    weights = minimize(loss, np.zeros(stacked.shape[1]), jac=True, method="L-BFGS-B").x
    return weights / scale


def ranks(lists: list[_ShortList], weights: np.ndarray | None) -> np.ndarray:
    """Rank of the first right candidate per list (99 when none), by ``weights`` or the first stage."""
    found = []
    for item in lists:
        scores = item.first_stage if weights is None else item.matrix @ weights
        order = np.argsort(-scores, kind="stable")
        hits = np.flatnonzero(item.right[order])
        found.append(int(hits[0]) + 1 if hits.size else 99)
    return np.array(found)


def _summary(found: np.ndarray) -> str:
    mrr = float(np.mean(np.where(found <= 10, 1 / found, 0.0)))
    return f"top-1 {np.mean(found == 1):.3f}  top-3 {np.mean(found <= 3):.3f}  MRR@10 {mrr:.3f}"


def _by_group(lists: list[_ShortList], k: int = 5, seed: int = 13) -> list[list[_ShortList]]:
    buckets = folds(list({item.question.id: item.question for item in lists}.values()), k, seed)
    where = {question.id: index for index, bucket in enumerate(buckets) for question in bucket}
    return [[item for item in lists if where[item.question.id] == index] for index in range(k)]


def _choose_regularisation(train: list[_ShortList]) -> float:
    """The regularisation with the best inner grouped-CV MRR on ``train``."""

    def inner_mrr(regularisation: float) -> float:
        inner = _by_group(train, seed=7)
        total = 0.0
        for index, test in enumerate(inner):
            rest = [item for other, bucket in enumerate(inner) if other != index for item in bucket]
            total += float(np.sum(1 / ranks(test, fit_listwise(rest, regularisation))))
        return total

    return max(REGULARISATION, key=inner_mrr)


def tune_rerank(searcher: Searcher, questions: list[LabelledQuestion]) -> str:
    """Grouped 5-fold CV of the reranker's weights; prints held-out figures and the weights to use."""
    return fit_rerank(searcher, questions)[0]


def fit_rerank(searcher: Searcher, questions: list[LabelledQuestion]) -> tuple[str, dict]:
    """Grouped 5-fold CV of the reranker: (report, the values for rerank.json)."""
    lists = short_lists(searcher, questions)
    buckets = _by_group(lists)
    held_out, fold_weights = [], []
    lines = []
    for index, test in enumerate(buckets):
        train = [item for other, bucket in enumerate(buckets) if other != index for item in bucket]
        regularisation = _choose_regularisation(train)
        weights = fit_listwise(train, regularisation)
        fold_weights.append(weights / weights[0])
        held_out += [(item, rank) for item, rank in zip(test, ranks(test, weights))]
        lines.append(f"fold {index + 1}: regularisation {regularisation}, first-stage weight {weights[0]:.2f}")
    for folded in (False, True):
        label = "without diacritics" if folded else "as typed"
        mine = [rank for item, rank in held_out if item.folded == folded]
        first = ranks([item for item, _ in held_out if item.folded == folded], None)
        lines.append(f"{label:>18}: held-out {_summary(np.array(mine))}   | first stage {_summary(first)}")
        if not folded:
            found = np.array(mine)
            typed_figures = {
                "top1": round(float(np.mean(found == 1)), 3),
                "top3": round(float(np.mean(found <= 3)), 3),
                "mrr10": round(float(np.mean(np.where(found <= 10, 1 / found, 0.0))), 3),
            }
    mean, spread = np.mean(fold_weights, axis=0), np.std(fold_weights, axis=0)
    lines.append("weights (÷ first-stage weight; mean ± sd over folds) for knowledge/data/learned/rerank.json:")
    for name, value, sd in zip(FEATURES, mean[1:], spread[1:]):
        lines.append(f"    {name!r}: {value:.3f},  # ± {sd:.3f}")
    learned = {
        "held_out": typed_figures,
        "weights": {name: round(float(value), 3) for name, value in zip(FEATURES, mean[1:])},
    }
    return "\n".join(lines), learned
