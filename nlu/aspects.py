"""Which part of a procedure a question asks about.

Cue phrases are written with diacritics and matched syllable by syllable: a syllable typed
without diacritics matches any accents ("phi" matches "phí"), one typed with diacritics must
match exactly. When several aspects are cued, the more specific one wins (a question about the
fee that also says "thủ tục" is about the fee).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from nlu.abbreviations import replace_shorthand
from nlu.places import mentioned_places
from nlu.text import contains_phrase, fold, phrase_at, remove_phrases, syllables

Aspect = Literal[
    "documents", "fee", "time", "where", "online", "steps", "legal_basis", "eligibility", "result", "general"
]
ASPECTS: tuple[Aspect, ...] = (
    "documents",
    "fee",
    "time",
    "where",
    "online",
    "steps",
    "legal_basis",
    "eligibility",
    "result",
    "general",
)

# Explicit questions about one aspect, most specific first: the first aspect with a cue wins.
STRONG_CUES: list[tuple[Aspect, list[str]]] = [
    (
        "legal_basis",
        [
            "căn cứ pháp lý",
            "cơ sở pháp lý",
            "văn bản nào",
            "văn bản pháp luật nào",
            "luật nào",
            "nghị định nào",
            "thông tư nào",
            "quy định tại đâu",
            "quy định ở đâu",
            "theo quy định nào",
        ],
    ),
    (
        "result",
        [
            # how long the result stays valid, not how long processing takes
            "có thời hạn",
            "thời hạn sử dụng",
            "thời hạn của giấy",
            "hiệu lực",
            "có giá trị bao lâu",
        ],
    ),
    (
        "time",
        [
            "bao lâu",
            "mấy ngày",
            "bao nhiêu ngày",
            "mấy hôm",
            "bao nhiêu lâu",
            "bao giờ",
            "khi nào",
            "thời gian giải quyết",
            "thời hạn giải quyết",
            "thời gian xử lý",
            "thời gian thực hiện",
            "thời hạn thực hiện",
        ],
    ),
    (
        "fee",
        [
            "lệ phí",
            "bao nhiêu tiền",
            "mất phí",
            "tốn phí",
            "có phí",
            "thu phí",
            "nộp phí",
            "đóng phí",
            "phí bao nhiêu",
            "phí là",
            "phí hết",
            "hết bao nhiêu",
            "tốn bao nhiêu",
            "mất bao nhiêu",
            "chi phí bao nhiêu",
            "chi phí là",
            "mức phí",
            "phải trả",
            "miễn phí không",
            "có mất tiền",
            "mất tiền",
            "tốn tiền",
        ],
    ),
    (
        "online",
        [
            "trực tuyến",
            "online",
            "qua mạng",
            "trên mạng",
            "dịch vụ công",
            "cổng dịch vụ",
            "vneid",
            "qua app",
            "ứng dụng",
            "toàn trình",
            "tại nhà",
            "không cần đến",
            "không phải đến",
            "không cần lên",
            "bưu điện",
            "bưu chính",
            "qua điện thoại",
            "trên điện thoại",
        ],
    ),
    (
        "where",
        [
            "ở đâu",
            "chỗ nào",
            "nơi nào",
            "đi đâu",
            "đến đâu",
            "tại đâu",
            "cơ quan nào",
            "nơi nộp",
            "nộp tại đâu",
            "địa chỉ nộp",
            "ai cấp",
            "ai giải quyết",
            "đơn vị nào",
            "phòng nào",
            "cấp nào giải quyết",
            "thẩm quyền",
            "nộp hồ sơ ở",
            "nộp ở",
            "làm ở",
            "lại ở",
            "ở tỉnh khác",
            "ở nơi khác",
            "nơi khác",
            "tỉnh khác",
            "ngoài nơi cư trú",
            "trái tuyến",
        ],
    ),
    (
        "documents",
        [
            "giấy tờ gì",
            "giấy tờ nào",
            "những giấy tờ",
            "giấy tờ cần",
            "cần giấy tờ",
            "hồ sơ gồm",
            "hồ sơ gì",
            "hồ sơ những gì",
            "gồm những gì",
            "nộp những gì",
            "nộp gì",
            "cần những gì",
            "cần gì",
            "chuẩn bị gì",
            "chuẩn bị những",
            "mang theo gì",
            "cần mang",
            "thành phần hồ sơ",
            "mẫu đơn",
            "tờ khai",
            "cần hồ sơ",
            "hồ sơ cần",
            "mẫu nào",
            "hồ sơ như thế nào",
            "hồ sơ thế nào",
            "cần giấy",
            "cần hợp đồng",
            "cần văn bản",
            "cần bản",
            "bản gốc",
            "hợp pháp hóa lãnh sự",
            "đóng dấu",
            "cần ảnh",
        ],
    ),
    (
        "result",
        [
            "nhận được gì",
            "được cấp gì",
            "kết quả là gì",
            "nhận gì",
            "được gì",
            "dùng được gì",
            "có giá trị",
            "thời hạn của",
            "hiệu lực",
        ],
    ),
    (
        "eligibility",
        [
            "điều kiện",
            "được không",
            "có được",
            "được phép",
            "trường hợp nào",
            "ai được",
            "đối tượng nào",
            "những đối tượng",
            "có phải",
            "có cần",
            "bắt buộc",
            "tiêu chuẩn",
            "đủ tiêu chuẩn",
            "có thể",
            "được hưởng",
            "được miễn",
            "được giảm",
        ],
    ),
    (
        "general",
        [
            # "which procedure is it" and "what does X mean": an overview, not the steps
            "thế nào là",
            "được hiểu",
            "nghĩa là",
            "là gì",
            "thủ tục gì",
            "thủ tục nào",
        ],
    ),
    (
        "steps",
        [
            "trình tự",
            "các bước",
            "những bước",
            "bước nào",
            "quy trình",
            "thủ tục như",
            "thủ tục thế",
            "làm sao",
            "làm thế nào",
            "thế nào",
            "như nào",
            "ra sao",
            "cách làm",
            "cách thức",
            "hướng dẫn",
            "phải làm gì",
            "làm gì",
            "cách nào",
            "làm lại",
            "sửa lại",
        ],
    ),
]

# Topic words: they tell the aspect only when no explicit question does.
WEAK_CUES: list[tuple[Aspect, list[str]]] = [
    ("time", ["thời gian", "thời hạn"]),
    ("fee", ["phí", "chi phí"]),
    ("documents", ["hồ sơ", "giấy tờ", "bản sao", "bản chính"]),
    ("steps", ["thủ tục"]),
]


@lru_cache(maxsize=2)
def _cue_tokens(strong: bool) -> list[tuple[Aspect, list[list[str]]]]:
    table = STRONG_CUES if strong else WEAK_CUES
    return [(aspect, [syllables(cue) for cue in cues]) for aspect, cues in table]


# "cơ sở đủ điều kiện sản xuất" is part of a procedure's name, not a question about conditions.
_NAME_PHRASES = [syllables(phrase) for phrase in ("đủ điều kiện",)]
_QUESTION_WORDS = {"không", "chưa", "để", "gì", "nào", "thế", "như", "ra", "khi", "thì", "chứ"}


def _inside_name_phrase(tokens: list[str], start: int, cue: list[str]) -> bool:
    for phrase in _NAME_PHRASES:
        for offset in range(len(phrase)):
            begin = start - offset
            if begin < 0 or not _matches_at(tokens, begin, phrase, check_names=False):
                continue
            if begin <= start and start + len(cue) <= begin + len(phrase):
                following = tokens[begin + len(phrase) : begin + len(phrase) + 1]
                if following and fold(following[0]) not in {fold(word) for word in _QUESTION_WORDS}:
                    return True
    return False


def _matches_at(tokens: list[str], start: int, cue: list[str], check_names: bool = True) -> bool:
    if not phrase_at(tokens, start, cue):
        return False
    return not (check_names and _inside_name_phrase(tokens, start, cue))


def cued_aspects(question: str, strong: bool = True) -> list[Aspect]:
    """Every aspect with at least one cue in ``question``, most specific first."""
    tokens = syllables(replace_shorthand(question))
    found = []
    for aspect, cues in _cue_tokens(strong):
        if any(_matches_at(tokens, start, cue) for cue in cues for start in range(len(tokens))):
            found.append(aspect)
    return found


def detect_aspect(question: str) -> Aspect:
    """The aspect a question asks about; ``general`` when nothing specific is asked."""
    found = cued_aspects(question, strong=True) or cued_aspects(question, strong=False)
    if found and found[0] == "eligibility" and mentioned_places(question):
        # "làm lại ở HN được không": whether it can be done *there* is a question about where.
        return "where"
    return found[0] if found else "general"


# Phrases that only say what is asked ("mất bao lâu", "ở đâu", "có mất phí không"). They are
# removed before retrieval: "mất" in "mất bao lâu" is not "lost", and "lệ phí" would pull the
# registration-fee procedures to the top of every fee question.
QUESTION_PHRASES = [
    "mất bao lâu",
    "bao lâu",
    "mấy ngày",
    "bao nhiêu ngày",
    "mấy hôm",
    "bao giờ",
    "khi nào",
    "có mất tiền",
    "mất tiền",
    "tốn tiền",
    "bao nhiêu tiền",
    "có mất phí",
    "mất phí",
    "tốn phí",
    "có phí",
    "lệ phí",
    "phí",
    "bao nhiêu",
    "hết bao nhiêu",
    "tốn bao nhiêu",
    "miễn phí",
    "ở đâu",
    "chỗ nào",
    "nơi nào",
    "đi đâu",
    "đến đâu",
    "tại đâu",
    "cơ quan nào",
    "giấy tờ gì",
    "hồ sơ gì",
    "cần gì",
    "cần những gì",
    "gồm những gì",
    "nộp những gì",
    "chuẩn bị gì",
    "làm sao",
    "làm thế nào",
    "như thế nào",
    "thế nào",
    "ra sao",
    "như nào",
    "được không",
    "có được không",
    "có phải",
    "có cần",
    "online",
    "trực tuyến",
    "qua mạng",
    "trên mạng",
    "qua vneid",
    "trên vneid",
    "bằng vneid",
    "qua app",
    "qua ứng dụng",
    "trên ứng dụng",
    "trên điện thoại",
    "qua điện thoại",
]


@lru_cache(maxsize=1)
def _question_phrase_tokens() -> list[list[str]]:
    return [syllables(phrase) for phrase in QUESTION_PHRASES]


def strip_question_phrases(tokens: list[str]) -> list[str]:
    """``tokens`` without the phrases that only say what is asked."""
    return remove_phrases(tokens, _question_phrase_tokens())


# "Thế nào là ...", "... là gì?", "Tại sao ...": the user wants the law explained.
DEFINITION_CUES = ["thế nào là", "là gì", "được hiểu", "nghĩa là", "tại sao", "vì sao", "trách nhiệm của", "cách tính"]

# Verbs and nouns of doing a procedure; a question with none of them is not a request to do one.
PROCEDURE_CUES = [
    "đăng ký",
    "dk",
    "đk",
    "cấp",
    "xin",
    "làm",
    "nộp",
    "khai",
    "đổi",
    "gia hạn",
    "thủ tục",
    "hồ sơ",
    "giấy phép",
    "giấy chứng nhận",
    "xác nhận",
    "chứng thực",
    "thông báo",
    "báo",
    "tạm ngừng",
    "chấm dứt",
    "giải thể",
    "thành lập",
    "hưởng",
    "rút",
    "trình báo",
    "ủy quyền",
    "điều chỉnh",
    "cải chính",
    "thu hồi",
    "khôi phục",
    "công nhận",
    "phê duyệt",
    "thẩm định",
    "chấp thuận",
    "tách",
    "nhập",
    "xóa",
    "hủy",
    "lĩnh",
    "nhận",
    "mở",
    "lập",
    "đề nghị",
    "giải quyết",
    "sang tên",
    "chuyển",
    "bổ sung",
    "thay đổi",
    "miễn",
    "thanh toán",
    "yêu cầu",
]


def _contains_any(question: str, phrases: list[str]) -> bool:
    tokens = syllables(replace_shorthand(question))
    return any(contains_phrase(tokens, syllables(phrase)) for phrase in phrases)


def is_definition_question(question: str) -> bool:
    return _contains_any(question, DEFINITION_CUES)


def asks_for_procedure(question: str) -> bool:
    return _contains_any(question, PROCEDURE_CUES)
