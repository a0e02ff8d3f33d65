"""Abbreviations and everyday words people use for administrative things, mapped to the
wording of the official procedure names.

Keys are matched syllable by syllable: a syllable typed with diacritics must match exactly
("mất" is not "mặt"), one typed without diacritics matches whatever accents the key has, so
"CCCD", "cccd" and "can cuoc cong dan" all hit. Expansions are written
the way the national portal writes them; a test checks that every expansion's words occur in
the procedure names, so the table cannot drift away from the knowledge base.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from nlu.text import phrase_at, syllables

# key as people write it (lower case, with diacritics where the word has them) -> official wording
ABBREVIATIONS: dict[str, str] = {
    # identity, residence, civil status
    "cccd": "thẻ căn cước",
    "căn cước công dân": "thẻ căn cước",
    "cmnd": "chứng minh nhân dân",
    "cmt": "chứng minh nhân dân",
    "định danh điện tử": "tài khoản định danh điện tử",
    "vneid": "tài khoản định danh điện tử",
    "hộ khẩu": "đăng ký thường trú",
    "nhập hộ khẩu": "đăng ký thường trú",
    "tách khẩu": "tách hộ đăng ký thường trú",
    "kt3": "đăng ký tạm trú",
    "lltp": "phiếu lý lịch tư pháp",
    "lý lịch tư pháp": "phiếu lý lịch tư pháp",
    "ks": "khai sinh",
    "giấy khai sinh": "đăng ký khai sinh",
    "làm khai sinh": "đăng ký khai sinh",
    "sinh con": "đăng ký khai sinh",
    "khai tử": "đăng ký khai tử",
    "giấy chứng tử": "đăng ký khai tử",
    "dkkh": "đăng ký kết hôn",
    "cưới": "đăng ký kết hôn",
    "lấy vợ": "đăng ký kết hôn",
    "lấy chồng": "đăng ký kết hôn",
    "độc thân": "xác nhận tình trạng hôn nhân",
    "xác nhận độc thân": "giấy xác nhận tình trạng hôn nhân",
    "passport": "hộ chiếu phổ thông",
    "hộ chiếu": "hộ chiếu phổ thông",
    "visa": "thị thực",
    "công chứng": "chứng thực",
    "sao y": "chứng thực bản sao từ bản chính",
    # vehicles and driving
    "gplx": "giấy phép lái xe",
    "bằng lái": "giấy phép lái xe",
    "bằng lái xe": "giấy phép lái xe",
    "cavet": "chứng nhận đăng ký xe",
    "cà vẹt": "chứng nhận đăng ký xe",
    "cà-vẹt": "chứng nhận đăng ký xe",
    "giấy tờ xe": "chứng nhận đăng ký xe",
    "đăng ký xe": "chứng nhận đăng ký xe biển số xe",
    "biển số": "biển số xe",
    "sang tên xe": "thay đổi chủ xe đăng ký sang tên xe",
    "xe máy": "xe mô tô xe gắn máy",
    "oto": "ô tô",
    # land and housing
    "sổ đỏ": "giấy chứng nhận quyền sử dụng đất",
    "sổ hồng": "giấy chứng nhận quyền sử dụng đất quyền sở hữu nhà ở",
    "gcn qsdd": "giấy chứng nhận quyền sử dụng đất",
    "qsdd": "quyền sử dụng đất",
    "sdd": "sử dụng đất",
    "nhà đất": "đất đai nhà ở",
    "gpxd": "giấy phép xây dựng",
    "xây nhà": "giấy phép xây dựng nhà ở",
    "xin phép xây dựng": "cấp giấy phép xây dựng",
    # business and tax
    "hkd": "hộ kinh doanh",
    "dkkd": "đăng ký kinh doanh",
    "gpkd": "giấy phép kinh doanh",
    "mst": "mã số thuế",
    "mã số thuế": "mã số thuế đăng ký thuế",
    "cty": "công ty doanh nghiệp",
    "công ty": "công ty doanh nghiệp",
    "mở công ty": "đăng ký thành lập doanh nghiệp",
    "lập công ty": "đăng ký thành lập doanh nghiệp",
    "thành lập công ty": "đăng ký thành lập doanh nghiệp",
    "đóng cửa công ty": "giải thể doanh nghiệp",
    "dn": "doanh nghiệp",
    "htx": "hợp tác xã",
    "xnk": "xuất khẩu nhập khẩu",
    "mở quán": "đăng ký hộ kinh doanh",
    # social insurance
    "bhyt": "bảo hiểm y tế",
    "bhxh": "bảo hiểm xã hội",
    "bhtn": "bảo hiểm thất nghiệp",
    "sổ bhxh": "sổ bảo hiểm xã hội",
    # foreign elements: marriage, birth and death registration have "có yếu tố nước ngoài" twins
    "nước ngoài": "có yếu tố nước ngoài",
    "ngoại quốc": "có yếu tố nước ngoài",
    "việt kiều": "có yếu tố nước ngoài người việt nam định cư ở nước ngoài",
    "người nhật": "có yếu tố nước ngoài",
    "người hàn": "có yếu tố nước ngoài",
    "người hàn quốc": "có yếu tố nước ngoài",
    "người trung quốc": "có yếu tố nước ngoài",
    "người đài loan": "có yếu tố nước ngoài",
    "người mỹ": "có yếu tố nước ngoài",
    "người úc": "có yếu tố nước ngoài",
    "người pháp": "có yếu tố nước ngoài",
    "người đức": "có yếu tố nước ngoài",
    "người anh": "có yếu tố nước ngoài",
    "người nga": "có yếu tố nước ngoài",
    "người lào": "có yếu tố nước ngoài",
    "người campuchia": "có yếu tố nước ngoài",
    # land use
    "thổ cư": "đất ở",
    "lên thổ cư": "chuyển mục đích sử dụng đất",
    "chuyển đất": "chuyển mục đích sử dụng đất",
    "đất vườn": "đất nông nghiệp",
    # business
    "hộ cá thể": "hộ kinh doanh",
    "kinh doanh cá thể": "hộ kinh doanh",
    "tnhh": "trách nhiệm hữu hạn",
    "cổ phần": "công ty cổ phần",
    # social insurance
    "mai táng": "trợ cấp mai táng chế độ tử tuất",
    "tử tuất": "chế độ tử tuất",
    "thai sản": "chế độ thai sản",
    "ốm đau": "chế độ ốm đau",
    "lương hưu": "hưởng lương hưu",
    "thất nghiệp": "trợ cấp thất nghiệp",
    # travel
    "autogate": "cổng kiểm soát tự động",
    "xuất cảnh": "xuất cảnh",
    # general
    "ubnd": "ủy ban nhân dân",
    "dvc": "dịch vụ công",
    "online": "trực tuyến",
    "dk": "đăng ký",
    "đk": "đăng ký",
    "gcn": "giấy chứng nhận",
    "gp": "giấy phép",
}

# Everyday verbs that map onto the portal's "cấp lại / cấp đổi" wording.
ACTION_WORDS: dict[str, str] = {
    # lost papers are re-issued (cấp lại); damaged or outdated ones are exchanged (cấp đổi)
    "mất": "cấp lại",
    "bị mất": "cấp lại",
    "đánh mất": "cấp lại",
    "thất lạc": "cấp lại",
    "làm lại": "cấp lại",
    # "làm căn cước", "làm hộ chiếu": to have a paper made is to have it issued
    "làm": "cấp",
    "hỏng": "cấp đổi đổi",
    "hư hỏng": "cấp đổi đổi",
    "rách": "cấp đổi đổi",
    "mờ": "cấp đổi đổi",
    "nhòe": "cấp đổi đổi",
    "hết hạn": "cấp đổi gia hạn",
    "đổi": "cấp đổi",
    "sai": "điều chỉnh cải chính",
    "ghi sai": "cải chính thay đổi",
    "sửa": "điều chỉnh cải chính",
}


@dataclass(frozen=True)
class Expansion:
    matched: str
    expansion: str


@lru_cache(maxsize=1)
def _entries() -> list[tuple[list[str], str]]:
    """(key syllables, expansion), longest keys first so that "bằng lái xe" wins over "bằng lái"."""
    entries = [(syllables(key), expansion) for key, expansion in {**ABBREVIATIONS, **ACTION_WORDS}.items()]
    return sorted(entries, key=lambda entry: len(entry[0]), reverse=True)


def find_expansions(text: str) -> list[Expansion]:
    """Abbreviations and everyday words found in ``text``, with the official wording for each."""
    tokens = syllables(text)
    found = []
    position = 0
    while position < len(tokens):
        for key_tokens, expansion in _entries():
            if phrase_at(tokens, position, key_tokens):
                matched = " ".join(tokens[position : position + len(key_tokens)])
                found.append(Expansion(matched=matched, expansion=expansion))
                position += len(key_tokens)
                break
        else:
            position += 1
    return found


def expand(text: str) -> str:
    """``text`` followed by the official wording of every abbreviation it contains."""
    expansions = find_expansions(text)
    if not expansions:
        return text
    return text + " " + " ".join(expansion.expansion for expansion in expansions)


# Chat shorthand replaced in place (not appended): "dc ko" means "được không".
CHAT_SHORTHAND: dict[str, str] = {
    "dc": "được",
    "đc": "được",
    "duoc": "được",
    "ko": "không",
    "k": "không",
    "kg": "không",
    "khong": "không",
    "hok": "không",
    "j": "gì",
    "ntn": "như thế nào",
    "bn": "bao nhiêu",
    "bnhiu": "bao nhiêu",
    "bao nhieu": "bao nhiêu",
    "o dau": "ở đâu",
    "vs": "với",
    "mk": "mình",
    "ad": "admin",
    "thu tuc": "thủ tục",
    "ho so": "hồ sơ",
    "giay to": "giấy tờ",
}


def replace_shorthand(text: str) -> str:
    """Spell out chat shorthand word by word ("xin lltp online dc ko" → "... được không")."""
    tokens = syllables(text)
    out = []
    position = 0
    while position < len(tokens):
        pair = " ".join(tokens[position : position + 2])
        if pair in CHAT_SHORTHAND and " " in pair:
            out.append(CHAT_SHORTHAND[pair])
            position += 2
            continue
        out.append(CHAT_SHORTHAND.get(tokens[position], tokens[position]))
        position += 1
    return " ".join(out)
