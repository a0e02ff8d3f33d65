"""Replies: the part asked, parsed values, citation, and bad input handled without exceptions."""

from __future__ import annotations

import unicodedata

import pytest

from knowledge.answer.compose import MAX_REPLY_CHARS, ReplyComposer
from nlu.aspects import ASPECTS

pytestmark = pytest.mark.slow


def test_documents_reply_lists_the_parsed_documents(service) -> None:
    answer = service.ask("đăng ký khai sinh cần giấy tờ gì")
    assert answer.decision == "answer" and answer.procedure.code == "1.001193"
    assert "Giấy chứng sinh" in answer.text
    assert "1 bản chính" in answer.text
    assert "1.001193" in answer.text and answer.procedure.url in answer.text
    assert "163/QĐ-BTP" in answer.text  # the publishing decision


def test_fee_reply_quotes_the_amount_and_its_note(service) -> None:
    answer = service.answer_about("1.014984", "fee")
    assert "150.000 đồng" in answer.text


def test_doubtful_thousands_are_not_stated_as_đồng(service) -> None:
    text = service.answer_about("1.000020", "fee").text
    assert "“20 VNĐ”" in text and "nghìn đồng" in text and "20.000 vnđ /tờ khai" in text
    assert "20 đồng" not in text


def test_time_without_unit_says_so(service) -> None:
    text = service.answer_about("1.001193", "time").text
    assert "nguồn không ghi đơn vị" in text and "“1”" in text


def test_where_reply_uses_the_hanoi_layer_with_sources(service) -> None:
    text = service.answer_about("1.001193", "where").text  # commune level
    assert "Ủy ban nhân dân phường, xã" in text and "002_c870f72038315772.txt" in text
    text = service.answer_about("3.000333", "where").text  # city level (Cấp tỉnh)
    assert "Chi nhánh" in text and "000_04d15d99a2ba40b6.txt" in text


def test_abstention_points_to_hotline_and_portal(service) -> None:
    answer = service.ask("Cách nấu phở bò ngon?")
    assert answer.decision == "abstain" and answer.procedure is None
    assert "1900 1009" in answer.text and "dichvucong.gov.vn" in answer.text


def test_clarification_lists_numbered_options(service) -> None:
    answer = service.ask("làm thẻ căn cước")
    assert answer.decision == "clarify"
    assert "1." in answer.text and "2." in answer.text
    assert all(option.code in answer.text for option in answer.options)


def test_every_aspect_of_every_fixture_record_composes(service, fixture_procedures, hanoi) -> None:
    composer = ReplyComposer(hanoi)
    for procedure in fixture_procedures.values():
        for aspect in ASPECTS:
            text = composer.answer(procedure, aspect)
            assert len(text) <= MAX_REPLY_CHARS
            assert procedure.url in text


@pytest.mark.parametrize(
    "question",
    [
        "",
        "   \n\t ",
        "đăng ký khai sinh " * 700,
        "😀😀😀🙏",
        unicodedata.normalize("NFD", "Đăng ký kết hôn cần giấy tờ gì"),
        "<script>alert('x')</script> đăng ký khai sinh",
        "How to register a birth? đăng ký khai sinh ở đâu",
        "?!?!...",
        "0912345678",
    ],
)
def test_bad_input_gets_a_sensible_reply(service, question: str) -> None:
    answer = service.ask(question)
    assert answer.decision in {"answer", "clarify", "abstain"}
    assert answer.text and "<script>" not in answer.text
    assert len(answer.text) <= MAX_REPLY_CHARS


def test_decomposed_input_answers_like_composed(service) -> None:
    composed = service.ask("Đăng ký kết hôn cần giấy tờ gì")
    decomposed = service.ask(unicodedata.normalize("NFD", "Đăng ký kết hôn cần giấy tờ gì"))
    assert composed.text == decomposed.text


def test_empty_question_gets_an_example(service) -> None:
    assert "ví dụ" in service.ask("  ").text


def test_unknown_code(service) -> None:
    from knowledge.errors import ProcedureNotFound

    with pytest.raises(ProcedureNotFound):
        service.card("9.999999")
    assert "Hồ sơ cần chuẩn bị" in service.card("1.001193")
