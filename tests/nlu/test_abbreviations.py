import pytest

from nlu.abbreviations import ABBREVIATIONS, ACTION_WORDS, expand, find_expansions, replace_shorthand
from nlu.text import fold, syllables


@pytest.mark.parametrize(
    ("question", "expected_words"),
    [
        ("lam CCCD o dau", "thẻ căn cước"),
        ("làm cccd ở đâu", "thẻ căn cước"),
        ("xin lltp online", "lý lịch tư pháp"),
        ("mất bằng lái xe", "giấy phép lái xe"),
        ("mat bang lai", "giấy phép lái xe"),
        ("lam so do lan dau", "quyền sử dụng đất"),
        ("Sổ hồng", "quyền sở hữu nhà ở"),
        ("đóng BHXH", "bảo hiểm xã hội"),
        ("dang ky hkd", "hộ kinh doanh"),
        ("cà vẹt xe", "chứng nhận đăng ký xe"),
        ("lay chong nguoi Nhat", "có yếu tố nước ngoài"),
    ],
)
def test_expansions(question: str, expected_words: str) -> None:
    assert expected_words in expand(question)


def test_accented_word_matches_only_its_own_accents() -> None:
    # "mặt" (face/cash) is not "mất" (lost): no "cấp lại" for "tiền mặt".
    assert find_expansions("thanh toán tiền mặt") == []
    assert [e.expansion for e in find_expansions("bị mất ví")] == ["cấp lại"]


def test_lost_means_reissue_and_damaged_means_exchange() -> None:
    assert "cấp lại" in expand("mất sổ đỏ")
    assert "cấp đổi" in expand("sổ đỏ bị rách")


def test_shorthand() -> None:
    assert replace_shorthand("xin lltp online dc ko") == "xin lltp online được không"
    assert replace_shorthand("lam the nao, bn tien") == "lam the nao bao nhiêu tien"


@pytest.mark.slow
def test_every_expansion_uses_words_of_the_knowledge_base(service) -> None:
    vocabulary = {
        fold(token) for p in service.searcher.procedures for token in syllables(p.name + " " + (p.field or ""))
    }
    for key, expansion in {**ABBREVIATIONS, **ACTION_WORDS}.items():
        missing = [word for word in syllables(expansion) if fold(word) not in vocabulary]
        assert not missing, f"{key!r} expands to words no procedure uses: {missing}"
