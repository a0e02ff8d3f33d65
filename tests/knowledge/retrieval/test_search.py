"""Search decisions on known questions, over the full knowledge base (built once per run)."""

from __future__ import annotations

import pytest

from nlu.text import fold

pytestmark = pytest.mark.slow

KNOWN = [
    ("đăng ký khai sinh cho con", "1.001193"),
    ("cấp lại giấy phép lái xe bị mất", "3.000348"),
    ("mat bang lai xe thi lam lai o dau", "3.000348"),
    ("xóa đăng ký thường trú", "1.003197"),
    ("đăng ký kết hôn với người nước ngoài", "2.000806"),
    ("cấp bản sao trích lục khai sinh", "2.000635"),
    ("giải thể doanh nghiệp cần giấy tờ gì", "2.002023"),
    ("đăng ký tạm trú ở đâu", "1.004194"),
]


@pytest.mark.parametrize(("question", "code"), KNOWN)
def test_known_questions_rank_first(service, question: str, code: str) -> None:
    result = service.search(question)
    assert result.decision != "abstain", result.reason
    assert result.candidates[0].code == code


@pytest.mark.parametrize(("question", "code"), KNOWN)
def test_known_questions_without_diacritics_stay_in_top_three(service, question: str, code: str) -> None:
    result = service.search(fold(question))
    assert code in [c.code for c in result.candidates[:3]]


def test_variant_the_user_did_not_ask_for_is_demoted(service) -> None:
    codes = [c.code for c in service.search("đăng ký khai sinh").candidates]
    assert codes[0] == "1.001193"  # not "lưu động", not "có yếu tố nước ngoài"
    assert service.search("dang ky tam tru").candidates[0].name == "Đăng ký tạm trú"  # not "Xóa đăng ký tạm trú"


def test_the_procedure_for_citizens_wins_over_its_twin_for_foreigners(service) -> None:
    # the first stage puts "Đổi giấy phép lái xe hoặc bằng lái xe của người nước ngoài" first;
    # the reranker prefers the procedure whose applicants include Vietnamese citizens
    for question in ("bằng lái xe hết hạn đổi ở đâu", "bang lai xe het han doi o dau"):
        result = service.search(question)
        assert result.decision == "answer" and result.best.name == "Đổi giấy phép lái xe", question


def test_a_situation_question_finds_the_procedure_by_its_steps_and_documents(service) -> None:
    # "hộ khẩu" is the everyday word for permanent residence; moving house is registering it anew,
    # not the "Xóa đăng ký thường trú" the first stage puts first
    for question in (
        "chuyển nhà sang quận khác thì đăng ký hộ khẩu thế nào",
        "chuyen nha sang quan khac thi dang ky ho khau the nao",
    ):
        result = service.search(question)
        assert result.decision == "answer" and result.best.name == "Đăng ký thường trú", question


def test_twins_that_the_question_does_not_separate_are_offered_as_choices(service) -> None:
    result = service.search("cap the can cuoc")
    assert result.decision == "clarify"
    names = [option.name for option in result.options]
    assert any("dưới 14 tuổi" in name for name in names) and any("từ đủ 14 tuổi" in name for name in names)
    assert 2 <= len(result.options) <= 4
    assert len({name.split(" (")[0] for name in names}) == len(names)  # one choice per procedure, not per level


def test_an_unspecific_request_leads_to_a_question(service) -> None:
    result = service.search("làm thẻ căn cước")
    assert result.decision == "clarify"
    assert all("thẻ căn cước" in option.name for option in result.options)


@pytest.fixture(scope="module")
def lexical_searcher(service):
    from knowledge.retrieval.search import Searcher

    return Searcher(service.searcher.procedures)


def test_a_different_act_than_asked_leads_to_a_question(lexical_searcher) -> None:
    # lexical ranking puts "Cấp đổi" first for "làm thẻ căn cước", which says neither "cấp đổi"
    # nor "cấp lại": ask instead of picking one
    result = lexical_searcher.search("làm thẻ căn cước")
    assert result.decision == "clarify"
    names = [option.name for option in result.options]
    assert "Cấp đổi thẻ căn cước" in names and "Cấp lại thẻ căn cước" in names


@pytest.mark.parametrize(
    "question",
    [
        "Cách nấu phở bò ngon?",
        "Cho em hỏi điểm chuẩn vào lớp 10 công lập năm nay bao nhiêu?",
        "thủ tục công bố mỹ phẩm nhập khẩu",
        "Thế nào là hộ gia đình tham gia bảo hiểm y tế?",
    ],
)
def test_out_of_knowledge_base_is_refused(service, question: str) -> None:
    assert service.search(question).decision == "abstain"


def test_results_are_filled_even_when_abstaining(service) -> None:
    result = service.search("thủ tục công bố mỹ phẩm nhập khẩu")
    assert result.decision == "abstain" and result.candidates
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)


def test_a_narrower_act_on_the_same_paper_is_a_twin() -> None:
    from knowledge.retrieval.variants import same_family

    assert same_family("Tích hợp, cập nhật, điều chỉnh thông tin trên thẻ căn cước", "Cấp lại thẻ căn cước")
    assert same_family("Cấp đổi thẻ căn cước", "Cấp lại thẻ căn cước (thực hiện tại cấp tỉnh)")
    assert not same_family("Đăng ký khai sinh", "Đăng ký kết hôn")


def test_question_phrases_that_run_into_a_procedure_name_count_again(service) -> None:
    from knowledge.retrieval.query import analyze

    terms = service.searcher.ranker.name_phrase_terms
    # "lệ phí" asks the fee, but "lệ phí trước bạ" is a name; "phi" typed bare is "phi nông nghiệp"
    assert {"le_phi", "phi_truoc"} <= set(terms(analyze("lệ phí trước bạ nhà đất là bao nhiêu")))
    assert "phi_nong" in terms(analyze("thue su dung dat phi nong nghiep nop o dau"))
    # a question phrase that only asks stays out
    assert terms(analyze("cấp lại giấy phép xây dựng mất bao lâu")) == []
    assert terms(analyze("đăng ký kết hôn có mất phí không")) == []
