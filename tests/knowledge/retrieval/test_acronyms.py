"""Acronyms in names spelled out from the records' own definitions."""

from __future__ import annotations

import pytest

from knowledge.retrieval.acronyms import defined_acronyms, spelled_out, spells
from knowledge.retrieval.lexical import LexicalIndex
from knowledge.retrieval.query import analyze


def test_initials_spell_an_acronym_with_d_for_đ() -> None:
    assert spells(["giá", "trị", "gia", "tăng"], "GTGT")
    assert spells(["tai", "nạn", "lao", "động"], "TNLĐ")
    assert not spells(["lưu", "hành", "tự", "do"], "CFS")
    assert not spells(["giá", "trị"], "GTGT")


def _with_text(procedure, name: str, steps: str):
    return procedure.model_copy(update={"name": name, "steps_text": steps, "documents_raw": "", "conditions": None})


def test_definitions_come_from_the_records_and_need_matching_initials(fixture_procedures) -> None:
    base = next(iter(fixture_procedures.values()))
    records = [
        _with_text(base, "Khai thuế GTGT theo tháng", "Nộp tờ khai thuế giá trị gia tăng (GTGT) tại cơ quan thuế."),
        _with_text(base, "Cấp giấy CFS", "Giấy chứng nhận lưu hành tự do (CFS) cho hàng xuất khẩu."),
    ]
    acronyms = defined_acronyms(records)
    assert acronyms["gtgt"] == "giá trị gia tăng"
    assert "cfs" not in acronyms  # "Certificate of Free Sale": its initials are not the Vietnamese words'
    assert acronyms["bhxh"] == "bảo hiểm xã hội"  # the project's own abbreviations count too


def test_a_name_is_followed_by_the_words_of_its_acronyms_once() -> None:
    acronyms = {"bhxh": "bảo hiểm xã hội", "bhyt": "bảo hiểm y tế", "iii": "wrong"}
    name = "Cấp lại, đổi, điều chỉnh thông tin trên sổ BHXH, thẻ BHYT; sổ BHXH công trình cấp III"
    assert spelled_out(name, acronyms) == name + " bảo hiểm xã hội bảo hiểm y tế"
    assert spelled_out("Đăng ký khai sinh", acronyms) == "Đăng ký khai sinh"
    assert spelled_out("Cấp thẻ bhxh", acronyms) == "Cấp thẻ bhxh"  # lower case is a word, not an acronym


def test_the_name_index_finds_a_name_written_with_an_acronym_by_its_words(fixture_procedures) -> None:
    base = next(iter(fixture_procedures.values()))
    records = [
        _with_text(base, "Khai thuế GTGT theo tháng", "Nộp tờ khai thuế giá trị gia tăng (GTGT)."),
        _with_text(base, "Khai thuế tài nguyên theo tháng", "Nộp tờ khai thuế tài nguyên."),
    ]
    scores = LexicalIndex(records).scores(analyze("khai thuế giá trị gia tăng hằng tháng"))
    assert scores.name[0] > scores.name[1]


@pytest.mark.slow
def test_the_social_insurance_book_is_found_when_the_question_spells_it_out(service) -> None:
    # the name says "sổ BHXH"; without the spelled-out words the health insurance card won
    for question in ("cấp lại sổ bảo hiểm xã hội", "cap lai so bao hiem xa hoi"):
        assert service.search(question).candidates[0].code == "1.002759", question
