"""Query analysis: the terms retrieval looks for (fast: no knowledge base)."""

from __future__ import annotations

from knowledge.retrieval.query import analyze, document_terms


def test_content_words_that_fold_to_stopwords_are_kept_when_typed_with_diacritics() -> None:
    # folded, "hộ", "sổ", "lái", "đăng" read as the stopwords "hồ", "sơ", "lại", "đang"
    folded = analyze("đăng ký hộ kinh doanh, sổ hộ khẩu, bằng lái").folded_terms
    for word in ("dang", "ho", "so", "lai"):
        assert word in folded
    assert "lai" not in analyze("nộp lại hồ sơ").folded_terms  # the real stopwords still go


def test_numbers_have_one_spelling_on_both_sides() -> None:
    assert "do_1" in analyze("tài khoản định danh mức độ 01").folded_terms
    assert "do_1" in document_terms("Cấp tài khoản định danh điện tử mức độ 01")[0]
    assert "hang_2" in analyze("chứng chỉ hạng II").folded_terms
    assert "hang_2" in document_terms("chứng chỉ hành nghề hạng 02")[0]


def test_a_count_is_also_said_as_names_say_it() -> None:
    query = analyze("thành lập công ty TNHH 2 thành viên")
    assert "hai thành" in query.expansions
    assert "hai_thanh" in query.folded_terms


def test_digits_that_are_not_ascii_numbers_do_not_break_analysis() -> None:
    # found by the API fuzz: "¹".isdigit() is true but int("¹") raises
    from knowledge.retrieval.rerank import numbers_in

    for text in ("mức ¹ thành viên", "hạng ² ³", "٣ thành viên", "0¹"):
        assert analyze(text).folded_terms
        assert document_terms(text)[0]
        numbers_in(text)
