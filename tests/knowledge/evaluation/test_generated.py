"""Questions generated from the records: short, everyday, labelled with every level of their procedure."""

from __future__ import annotations

import random

import pytest

from knowledge.evaluation.generated import everyday, generated_questions, name_head
from knowledge.retrieval.variants import family_name
from nlu.text import has_diacritics


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("Cấp đổi thẻ căn cước (cấp tỉnh)", "cấp đổi thẻ căn cước"),
        (
            "Đăng ký khai sinh có yếu tố nước ngoài đối với trẻ em sinh ra ở nước ngoài",
            "đăng ký khai sinh có yếu tố nước ngoài",
        ),
        ("Xác nhận (cấp xã)", "xác nhận"),
    ],
)
def test_the_head_of_a_name_is_what_it_is_without_the_case(name: str, head: str) -> None:
    assert name_head(name) == head


def test_the_official_verb_is_said_the_everyday_way() -> None:
    said = {everyday("cấp đổi thẻ căn cước", random.Random(seed)) for seed in range(30)}
    assert said <= {"đổi thẻ căn cước", "làm lại thẻ căn cước", "đổi cccd", "làm lại cccd"}
    assert len(said) > 1


def test_questions_are_labelled_with_every_level_and_reproducible(fixture_procedures) -> None:
    procedures = list(fixture_procedures.values())
    questions = generated_questions(procedures, count=30)
    assert questions == generated_questions(procedures, count=30)
    by_code = {p.code: p for p in procedures}
    for question in questions:
        names = {family_name(by_code[code].name) for code in question.expected}
        assert len(names) == 1 and question.kind == "procedure" and question.source == "generated"
    typed = [has_diacritics(question.question) for question in questions]
    assert any(typed) and not all(typed)
