"""The training set: what ranking and refusal learn from. Never the dev set, which only measures.

Three sources, joined into questions of the evaluation schema (so that ``eval``, ``tune`` and
``tune-rerank`` read them like any labelled file):

- the portal's real questions (``../shared/train/portal_questions.jsonl``) with the labels we
  checked against the records (``knowledge/data/training/portal_labels_*.jsonl``: one procedure,
  or a refusal, with why the portal's own links were kept, dropped or replaced);
- questions we wrote ourselves (``own_questions.jsonl``): off-topic chat, fields outside the
  knowledge base, general legal questions;
- questions generated from the records the way people ask in chat (:mod:`.generated`), added by
  ``python -m knowledge training-set``, which has the records at hand.

The label files hold ids and labels only; the question text is read from the shared file at load
time, so the project keeps no copy of it.
"""

from __future__ import annotations

import json
from pathlib import Path

from knowledge.evaluation.quality import LabelledQuestion
from knowledge.settings import REPOSITORY_ROOT

TRAINING_DIR = REPOSITORY_ROOT / "knowledge" / "data" / "training"
PORTAL_QUESTIONS = REPOSITORY_ROOT.parent / "shared" / "train" / "portal_questions.jsonl"
PORTAL_LABEL_FILES = ("portal_labels_in_kb.jsonl", "portal_labels_outside_kb.jsonl")
OWN_QUESTIONS = "own_questions.jsonl"
KINDS = ("procedure", "out_of_kb", "policy")


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _question(row: dict, text: str, source: str) -> LabelledQuestion:
    if row["kind"] not in KINDS:
        raise ValueError(f"{row['id']}: unknown kind {row['kind']!r}")
    expected = tuple(row.get("expected") or ())
    if (row["kind"] == "procedure") != bool(expected):
        raise ValueError(f"{row['id']}: a procedure question needs expected codes, a refusal none")
    return LabelledQuestion(
        id=row["id"],
        question=text,
        source=source,
        kind=row["kind"],
        expected=expected,
        aspect=row.get("aspect") or "general",
    )


def portal_questions(
    questions_path: Path = PORTAL_QUESTIONS, labels_dir: Path = TRAINING_DIR
) -> list[LabelledQuestion]:
    """The portal's questions with our checked labels (those not labelled yet are left out)."""
    texts = {row["id"]: row["question"] for row in _rows(questions_path)}
    labelled = []
    for name in PORTAL_LABEL_FILES:
        path = labels_dir / name
        if path.exists():
            labelled += [_question(row, texts[row["id"]], "portal") for row in _rows(path) if row["id"] in texts]
    return labelled


def own_questions(labels_dir: Path = TRAINING_DIR) -> list[LabelledQuestion]:
    return [_question(row, row["question"], "own") for row in _rows(labels_dir / OWN_QUESTIONS)]


def training_questions(
    questions_path: Path = PORTAL_QUESTIONS, labels_dir: Path = TRAINING_DIR
) -> list[LabelledQuestion]:
    """Every training question, checked: unique ids, codes that exist are checked by the caller."""
    questions = portal_questions(questions_path, labels_dir) + own_questions(labels_dir)
    ids = [question.id for question in questions]
    if len(ids) != len(set(ids)):
        raise ValueError("a training question id is used twice")
    return questions


def write_questions(questions: list[LabelledQuestion], path: Path) -> None:
    """In the evaluation schema, for ``eval FILE``, ``tune FILE`` and ``tune-rerank FILE``."""
    with path.open("w", encoding="utf-8") as handle:
        for question in questions:
            row = {
                "id": question.id,
                "question": question.question,
                "source": question.source,
                "kind": question.kind,
                "expected": list(question.expected),
                "aspect": question.aspect,
            }
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
