"""What the knowledge base does not cover, from its own source description.

../shared/data/tthc/SOURCE.md: the national file covers finance (incl. tax, social insurance,
business registration), agriculture and environment, construction and transport, public
security, justice and the State Bank; it does NOT cover health, education, home affairs and
labour, industry and trade, culture and tourism, science and technology (incl. information and
communications). A question whose subject belongs to one of those fields, and whose best
candidate does not mention that subject, is answered with "not in the knowledge base" and the
hotline instead of a wrong procedure.
"""

from __future__ import annotations

from functools import lru_cache

from nlu.text import contains_phrase, fold, syllables

UNCOVERED_FIELDS: dict[str, tuple[str, ...]] = {
    "y tế": (
        "y tế",
        "bệnh viện",
        "phòng khám",
        "khám bệnh",
        "chữa bệnh",
        "khám chữa bệnh",
        "nhà thuốc",
        "quầy thuốc",
        "dược",
        "dược phẩm",
        "mỹ phẩm",
        "trang thiết bị y tế",
        "vắc xin",
        "tiêm chủng",
        "hiến máu",
        "bác sĩ",
        "điều dưỡng",
        "hành nghề khám",
        "thuốc chữa bệnh",
        "bán thuốc",
        "kinh doanh thuốc",
        "diệt côn trùng",
        "chế phẩm diệt",
        "an toàn sinh học",
    ),
    "giáo dục": (
        "học sinh",
        "học phí",
        "học bổng",
        "du học",
        "điểm thi",
        "điểm chuẩn",
        "tuyển sinh",
        "thi tốt nghiệp",
        "trường học",
        "mầm non",
        "tiểu học",
        "trung học",
        "đại học",
        "giáo viên",
        "lớp 10",
        "lớp 1",
        "văn bằng",
        "chứng chỉ ngoại ngữ",
        "sách giáo khoa",
    ),
    "nội vụ và lao động": (
        "người cao tuổi",
        "khuyết tật",
        "trợ giúp xã hội",
        "bảo trợ xã hội",
        "tiền lương",
        "giấy phép lao động",
        "hợp đồng lao động",
        "thi đua",
        "khen thưởng",
        "huân chương",
        "bằng khen",
        "danh hiệu",
        "tôn giáo",
        "tín ngưỡng",
        "công chức",
        "viên chức",
        "tuyển dụng",
        "nghĩa vụ quân sự",
        "người có công",
        "liệt sĩ",
        "thương binh",
        "hộ nghèo",
        "tiền điện",
        "xuất khẩu lao động",
        "cơ yếu",
    ),
    "công thương": (
        "xuất xứ",
        "c/o",
        "xăng dầu",
        "rượu",
        "thuốc lá",
        "bán hàng đa cấp",
        "khuyến mại",
        "điện lực",
        "hóa chất",
        "vật liệu nổ",
        "nhãn hàng hóa",
        "kinh doanh khí",
        "sở giao dịch hàng hóa",
        "thương mại điện tử",
        "quản lý thị trường",
    ),
    "văn hóa, thể thao và du lịch": (
        "lữ hành",
        "du lịch",
        "văn hóa phẩm",
        "biểu diễn nghệ thuật",
        "bảo tàng",
        "bảo vật",
        "di tích",
        "karaoke",
        "vũ trường",
        "thể thao",
        "quảng cáo",
        "xuất bản",
        "báo chí",
        "thư viện",
        "lễ hội",
        "phim",
    ),
    "khoa học và công nghệ, thông tin và truyền thông": (
        "sáng chế",
        "sở hữu trí tuệ",
        "nhãn hiệu",
        "mã số mã vạch",
        "mã vạch",
        "bức xạ",
        "phóng xạ",
        "tiêu chuẩn đo lường",
        "chuyển giao công nghệ",
        "viễn thông",
        "sim",
        "thuê bao",
        "mạng xã hội",
        "bưu chính",
        "tần số",
        "thiết bị in",
        "chữ ký số",
    ),
}


@lru_cache(maxsize=1)
def _terms() -> list[tuple[str, list[str]]]:
    return [(field, syllables(term)) for field, terms in UNCOVERED_FIELDS.items() for term in terms]


def _occurs(tokens: list[str], term: list[str]) -> bool:
    # One syllable typed without diacritics is too ambiguous ("duoc" is "được", not "dược").
    if len(term) == 1:
        return term[0] in tokens
    return contains_phrase(tokens, term)


def uncovered_subjects(question: str) -> list[tuple[str, str]]:
    """(field, term) pairs of fields outside the knowledge base that ``question`` talks about."""
    tokens = syllables(question)
    return [(field, " ".join(term)) for field, term in _terms() if _occurs(tokens, term)]


def mentions(text: str, term: str) -> bool:
    """Whether ``text`` contains ``term`` (folded comparison)."""
    return f" {' '.join(fold(t) for t in syllables(term))} " in f" {' '.join(fold(t) for t in syllables(text))} "
