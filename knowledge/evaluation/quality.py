"""`python -m knowledge eval FILE`: retrieval and decision quality on labelled questions.

Metrics follow ../shared/eval/README.md. Top-1 counts ``results[0]`` only when the decision is
not abstain (how outside measurement scores it); MRR@10 and top-3 look at the ranking alone.
Every figure is printed overall, by source, and again with each question re-typed without
diacritics, with the gap computed on the questions originally written with diacritics.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from knowledge.retrieval.search import SearchResult
from nlu.aspects import detect_aspect
from nlu.text import fold, has_diacritics


@dataclass(frozen=True)
class LabelledQuestion:
    id: str
    question: str
    source: str
    kind: str
    expected: tuple[str, ...]
    aspect: str

    @property
    def in_knowledge_base(self) -> bool:
        return self.kind == "procedure"


def read_questions(path: Path) -> list[LabelledQuestion]:
    questions = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                questions.append(
                    LabelledQuestion(
                        id=row["id"],
                        question=row["question"],
                        source=row.get("source", ""),
                        kind=row["kind"],
                        expected=tuple(row.get("expected", [])),
                        aspect=row.get("aspect", "general"),
                    )
                )
    return questions


@dataclass(frozen=True)
class Outcome:
    question: LabelledQuestion
    ranking: tuple[str, ...]
    decision: str
    aspect: str

    @property
    def rank(self) -> int | None:
        for position, code in enumerate(self.ranking[:10], start=1):
            if code in self.question.expected:
                return position
        return None


def run(
    questions: Iterable[LabelledQuestion], search: Callable[[str], SearchResult], fold_questions: bool = False
) -> list[Outcome]:
    outcomes = []
    for question in questions:
        text = fold(question.question) if fold_questions else question.question
        result = search(text)
        outcomes.append(
            Outcome(question, tuple(c.code for c in result.candidates), result.decision, detect_aspect(text))
        )
    return outcomes


def metrics(outcomes: list[Outcome]) -> dict[str, float | int]:
    in_kb = [o for o in outcomes if o.question.in_knowledge_base]
    out_kb = [o for o in outcomes if not o.question.in_knowledge_base]
    result: dict[str, float | int] = {
        "questions": len(outcomes),
        "procedure_questions": len(in_kb),
        "other_questions": len(out_kb),
    }
    if in_kb:
        result["top1"] = _share(o.rank == 1 and o.decision != "abstain" for o in in_kb)
        result["top1_ranking"] = _share(o.rank == 1 for o in in_kb)
        result["top3"] = _share(o.rank is not None and o.rank <= 3 for o in in_kb)
        result["mrr10"] = sum(1 / o.rank for o in in_kb if o.rank) / len(in_kb)
        result["false_abstention"] = _share(o.decision == "abstain" for o in in_kb)
        result["clarify_rate"] = _share(o.decision == "clarify" for o in in_kb)
    if out_kb:
        result["abstention"] = _share(o.decision == "abstain" for o in out_kb)
    result["aspect_accuracy"] = _share(o.aspect == o.question.aspect for o in outcomes)
    return result


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else 0.0


def by_source(outcomes: list[Outcome]) -> dict[str, dict[str, float | int]]:
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[outcome.question.source].append(outcome)
    return {source: metrics(group) for source, group in sorted(groups.items())}


METRIC_ORDER = (
    "top1",
    "top1_ranking",
    "top3",
    "mrr10",
    "false_abstention",
    "clarify_rate",
    "abstention",
    "aspect_accuracy",
)


def format_row(label: str, values: dict[str, float | int]) -> str:
    cells = [f"{values[name]:.3f}" if name in values else "   - " for name in METRIC_ORDER]
    return f"{label:<28}" + " ".join(f"{cell:>8}" for cell in cells) + f"   (n={values['questions']})"


def report(questions: list[LabelledQuestion], search: Callable[[str], SearchResult]) -> tuple[str, dict]:
    """The printed evaluation and the figures behind it."""
    original = run(questions, search)
    folded = run(questions, search, fold_questions=True)
    accented_ids = {q.id for q in questions if has_diacritics(q.question)}
    header = f"{'':<28}" + " ".join(f"{name[:8]:>8}" for name in METRIC_ORDER)
    lines = [header, format_row("all", metrics(original))]
    for source, values in by_source(original).items():
        lines.append(format_row(f"  {source}", values))
    lines.append(format_row("all, without diacritics", metrics(folded)))
    for source, values in by_source(folded).items():
        lines.append(format_row(f"  {source}", values))
    with_accents = [o for o in original if o.question.id in accented_ids]
    same_folded = [o for o in folded if o.question.id in accented_ids]
    lines.append(format_row("typed with diacritics", metrics(with_accents)))
    lines.append(format_row("  same, diacritics removed", metrics(same_folded)))
    gap = {
        name: metrics(with_accents).get(name, 0) - metrics(same_folded).get(name, 0)
        for name in ("top1", "top3", "abstention", "false_abstention")
    }
    lines.append("diacritics gap (with − without): " + ", ".join(f"{k} {v:+.3f}" for k, v in gap.items()))
    figures = {
        "all": metrics(original),
        "by_source": by_source(original),
        "without_diacritics": metrics(folded),
        "diacritics_gap": gap,
    }
    return "\n".join(lines), figures
