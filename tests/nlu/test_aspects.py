import pytest

from nlu.aspects import asks_for_procedure, detect_aspect, is_definition_question, strip_question_phrases
from nlu.text import fold, syllables

CASES = [
    ("Đăng ký khai sinh cần những giấy tờ gì?", "documents"),
    ("hồ sơ xin cấp hộ chiếu gồm những gì", "documents"),
    ("Lệ phí cấp đổi căn cước là bao nhiêu?", "fee"),
    ("làm giấy phép lái xe mất bao nhiêu tiền", "fee"),
    ("cấp lại sổ đỏ mất bao lâu", "time"),
    ("mấy ngày thì có lý lịch tư pháp", "time"),
    ("đăng ký tạm trú ở đâu", "where"),
    ("nộp hồ sơ khai tử tại cơ quan nào", "where"),
    ("xin lý lịch tư pháp online được không", "online"),
    ("đăng ký kết hôn qua mạng được không", "online"),
    ("trình tự đăng ký thường trú", "steps"),
    ("làm thế nào để tách hộ", "steps"),
    ("căn cứ pháp lý của thủ tục cấp giấy phép xây dựng", "legal_basis"),
    ("điều kiện để được cấp giấy phép kinh doanh", "eligibility"),
    ("người nước ngoài có được đăng ký thường trú không", "eligibility"),
    ("đăng ký kết hôn xong thì nhận được gì", "result"),
    ("đăng ký khai sinh", "general"),
    # a name containing "đủ điều kiện" is not a question about conditions
    ("hồ sơ cấp giấy chứng nhận cơ sở đủ điều kiện sản xuất giống thủy sản", "documents"),
    # "phi nông nghiệp" is not a fee
    ("thuế sử dụng đất phi nông nghiệp khai ở đâu", "where"),
]


@pytest.mark.parametrize(("question", "aspect"), CASES)
def test_aspect_with_diacritics(question: str, aspect: str) -> None:
    assert detect_aspect(question) == aspect


@pytest.mark.parametrize(("question", "aspect"), CASES)
def test_aspect_without_diacritics(question: str, aspect: str) -> None:
    assert detect_aspect(fold(question)) == aspect


def test_chat_shorthand_is_understood() -> None:
    assert detect_aspect("xin lltp online dc ko") == "online"
    assert detect_aspect("lam ho chieu bn tien") == "fee"


def test_question_phrases_are_removed_before_retrieval() -> None:
    # "mất" in "mất bao lâu" means "takes", not "lost"
    assert strip_question_phrases(syllables("cấp sổ đỏ mất bao lâu")) == ["cấp", "sổ", "đỏ"]
    assert strip_question_phrases(syllables("lam cccd o dau")) == ["lam", "cccd"]


def test_definition_and_procedure_cues() -> None:
    assert is_definition_question("Thế nào là hộ gia đình?")
    assert not asks_for_procedure("Lực lượng dự bị động được hiểu như thế nào?")
    assert asks_for_procedure("xin cấp lại hộ chiếu")
