"""The training set: labels checked against the records, never a dev question."""

from __future__ import annotations

import json

import pytest

from knowledge.evaluation.training import PORTAL_QUESTIONS, TRAINING_DIR, training_questions, write_questions
from tests.conftest import DEV_SET, NATIONAL_SOURCE


@pytest.fixture(scope="module")
def questions():
    if not PORTAL_QUESTIONS.exists():
        pytest.skip(f"training questions not found at {PORTAL_QUESTIONS}")
    return training_questions()


def test_every_portal_question_is_labelled_once(questions) -> None:
    portal = [q for q in questions if q.source == "portal"]
    with PORTAL_QUESTIONS.open(encoding="utf-8") as handle:
        shared = [json.loads(line)["id"] for line in handle if line.strip()]
    assert sorted(q.id for q in portal) == sorted(shared)


def test_every_expected_code_is_a_procedure_of_the_knowledge_base(questions) -> None:
    if not NATIONAL_SOURCE.exists():
        pytest.skip("national data not found")
    with NATIONAL_SOURCE.open(encoding="utf-8") as handle:
        codes = {json.loads(line)["ma_thu_tuc"] for line in handle if line.strip()}
    assert [q.id for q in questions if not set(q.expected) <= codes] == []


def test_no_training_question_is_a_dev_question(questions) -> None:
    if not DEV_SET.exists():
        pytest.skip("dev set not found")
    with DEV_SET.open(encoding="utf-8") as handle:
        dev = {json.loads(line)["question"].strip().lower() for line in handle if line.strip()}
    assert [q.id for q in questions if q.question.strip().lower() in dev] == []


def test_a_bad_label_stops_the_load(tmp_path) -> None:
    (tmp_path / "own_questions.jsonl").write_text(
        json.dumps({"id": "x", "question": "q", "kind": "procedure", "expected": []}) + "\n", encoding="utf-8"
    )
    questions_file = tmp_path / "portal.jsonl"
    questions_file.write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="needs expected codes"):
        training_questions(questions_file, tmp_path)


def test_the_set_is_written_in_the_evaluation_schema(questions, tmp_path) -> None:
    out = tmp_path / "train.jsonl"
    write_questions(questions[:3], out)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [set(row) for row in rows] == [{"id", "question", "source", "kind", "expected", "aspect"}] * 3
    assert TRAINING_DIR.name == "training"
