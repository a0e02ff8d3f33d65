"""Legal basis (căn cứ pháp lý): alternating document title and document number.

Source shape::

    Tên văn bản pháp lýMã văn bảnLuật Quản lý thuế38/2019/QH14Thông tư 80/2021/TT-BTC80/2021/TT-BTC

A number belongs to the number column when it is glued to the next title or ends the text;
a number followed by a space or by another number is part of the title ("Thông tư 80/2021/TT-BTC").
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from knowledge.ingest.records import LegalBasis
from nlu.text import fold

HEADER = "Tên văn bản pháp lýMã văn bản"
NO_INFO = "Không có thông tin"

# 38/2019/QH14, 09/2015/TTLT-BCA-BYT-BTC, 601/QĐ-BTC, 09/2023/QĐ-TTg, 1211/2016/UBTVQH13.
# Digits inside the suffix only in the "QH" + legislature form, so that a number glued to the
# column's repetition ("49/2019/QH1449/2019/QH14") splits where it should.
_SUFFIX_PART = r"(?:[A-ZĐ]*QH\d{2}|TTg|[A-ZĐ]+)"
_NUMBER = re.compile(
    rf"\d{{1,4}}(?:\.?[a-z](?=/))?(?:\.\d+)?(?:/\d{{4}})?/{_SUFFIX_PART}(?:\s?[-–/]\s?{_SUFFIX_PART})*"
    rf"|\d{{1,4}}/\d{{4}}$"
)
# Page text that the crawl sometimes appended after the table.
_PAGE_HEADINGS = re.compile(r"(?:Cơ quan thực hiện|Yêu cầu, điều kiện thực hiện|Kết quả xử lý).*$", re.S)
_COLUMN_PREFIX = re.compile(
    r"(?:(?<=\w)|(?<=[.)]))(?P<prefix>(?:Luật|Nghị định|Thông tư|Quyết định|Nghị quyết|Pháp lệnh)(?: số)? ?)$"
)


@dataclass(frozen=True)
class LegalParse:
    entries: list[LegalBasis]
    ok: bool
    reason: str = ""


def parse_legal_basis(text: str) -> LegalParse:
    if not text or text.strip() == NO_INFO:
        return LegalParse([], True, "none stated")
    if not text.startswith(HEADER):
        return LegalParse([], False, "no column header")
    body = _PAGE_HEADINGS.sub("", text[len(HEADER) :])
    entries: list[LegalBasis] = []
    position = 0
    for number in _column_numbers(body):
        title = body[position : number.start()]
        position = number.end()
        number_text = number.group(0)
        prefix = _COLUMN_PREFIX.search(title)
        if prefix and title[: prefix.start()].strip():
            # "Luật sửa đổi ... môi trườngLuật số 146/2025/QH15": the column itself says "Luật số".
            number_text = prefix.group("prefix") + number_text
            title = title[: prefix.start()]
        title = re.sub(r"\s+", " ", title).strip(" ;,")
        entries.append(LegalBasis(title=title or number_text, number=number_text.strip()))
    leftover = body[position:].strip()
    if leftover:
        # A last title whose number the source left out: keep it, numberless.
        entries.append(LegalBasis(title=re.sub(r"\s+", " ", leftover), number=None))
        if not leftover[:1].isupper() or len(leftover) < 8:
            return LegalParse(entries, False, f"text after the last number: {leftover[:60]!r}")
    if not entries:
        return LegalParse([], False, "no document number")
    return LegalParse(entries, True)


def _column_numbers(body: str) -> list[re.Match[str]]:
    """The numbers of the number column, in order."""
    numbers = []
    position = 0
    while True:
        match = _NUMBER.search(body, position)
        if match is None:
            break
        match = _untangle(body, match)
        numbers.append(match)
        position = match.end()
    columns = []
    index = 0
    while index < len(numbers):
        match = numbers[index]
        following = body[match.end() : match.end() + 1]
        glued_to_next = index + 1 < len(numbers) and numbers[index + 1].start() == match.end()
        if glued_to_next:
            successor = numbers[index + 1]
            successor_glued = index + 2 < len(numbers) and numbers[index + 2].start() == successor.end()
            if match.group(0) == successor.group(0) and successor_glued:
                # "Nghị định 11/2021/NĐ-CP" + "11/2021/NĐ-CP" + next row: the pair closes this row
                columns.append(successor)
                index += 2
                continue
            row_start = columns[-1].end() if columns else 0
            if match.group(0) != successor.group(0) and match.group(0) in body[row_start : match.start()]:
                # the title names its own number earlier, so this is its column
                columns.append(match)
            index += 1  # otherwise the title ends with this number; the next one is the column
            continue
        if following == "" or (not following.isspace() and following not in ",;.") or _opens_title(body, match.end()):
            columns.append(match)
        index += 1
    return columns


_SPACED_OPENER = re.compile(r" (?:Thông tư|Nghị định|Nghị quyết|Luật|LUẬT|Quyết định|Pháp lệnh|Bộ luật|Chỉ thị)\b")


def _opens_title(body: str, position: int) -> bool:
    """'...18/2026/TT-BTC Thông tư số 50/2026...': a space, then the next row's title."""
    return bool(_SPACED_OPENER.match(body, position))


def _untangle(body: str, match: re.Match[str]) -> re.Match[str]:
    """Fix the two ways a number gets glued to its neighbours in the flattened table."""
    start, end = match.start(), _trim_title_opener(body, match)
    run_start = start
    while run_start > 0 and body[run_start - 1].isdigit():
        run_start -= 1
    if run_start < start or (body[start : start + 5].isdigit()):
        # "...năm 201102/2011/QH13": a four-digit year, then the number
        digits = re.match(r"\d+", body[run_start:]).group(0)
        if len(digits) > 4 and 1945 <= int(digits[:4]) <= 2035:
            start = run_start + 4
        elif body[max(0, run_start - 2) : run_start] == "QH" and len(digits) > 2:
            start = run_start + 2  # "QH14" + "49/2019/QH14"
    if (start, end) != (match.start(), match.end()):
        return _NUMBER.match(body, start, end) or match
    return match


def _trim_title_opener(body: str, match: re.Match[str]) -> int:
    """Give back the number's last capitals when they spell the next title's first syllable.

    "...QH14Thông tư", "...BCANhập cảnh", "...NĐ-CPLUẬT", "...BTCQUY ĐỊNH" are glued titles;
    "...NĐ-CPvề ..." is not ("pvề" is no syllable). Among possible cuts a common title opener
    wins, then the longest valid syllable.
    """
    end = match.end()
    capitals = 0
    while capitals < end - match.start() and body[end - capitals - 1].isupper():
        capitals += 1
    following = re.match(r"[^\W\d_]*", body[end:]).group(0)
    if following:
        same_case = following[0].isupper()
        following = "".join(itertools.takewhile(lambda char: char.isupper() == same_case, following))
    elif not re.match(r" [A-ZĐÀ-Ỹ]{2}", body[end : end + 3]):
        return end  # nothing glued after the number, and no all-capital title follows
    valid = [length for length in range(capitals, 0, -1) if _is_syllable(fold(body[end - length : end] + following))]
    if not following:
        valid = [length for length in valid if length < capitals]
    if not valid:
        return end
    openers = [length for length in valid if fold(body[end - length : end] + following) in _TITLE_OPENERS]
    trimmed = end - (openers[0] if openers else valid[0])
    while trimmed > match.start() and body[trimmed - 1] in " -–/":
        trimmed -= 1
    return trimmed


_TITLE_OPENERS = frozenset(
    [
        "thong",
        "nghi",
        "luat",
        "quyet",
        "quy",
        "huong",
        "nhap",
        "sua",
        "ban",
        "bo",
        "phap",
        "chi",
        "cong",
        "ke",
        "van",
        "dieu",
        "hien",
        "lenh",
        "ve",
        "danh",
        "bai",
        "thu",
        "chinh",
        "muc",
        "phi",
        "bieu",
        "sac",
        "hop",
        "tieu",
        "hiep",
        "noi",
        "the",
        "co",
        "mot",
        "cac",
        "ngay",
        "so",
        "ten",
        "xuat",
        "quan",
        "dang",
        "cap",
        "giao",
        "tai",
        "khai",
    ]
)
_SYLLABLE = re.compile(r"^(?:ngh|ng|nh|ph|th|tr|ch|gh|gi|kh|qu|[bcdghklmnrstvx])?[aeiouy]{1,3}(?:ch|nh|ng|[cmnpt])?$")


def _is_syllable(folded: str) -> bool:
    return bool(_SYLLABLE.match(folded))
