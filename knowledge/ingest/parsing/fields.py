"""Smaller fields: levels, applicants, steps, results, conditions, related procedures, raw sections."""

from __future__ import annotations

import re

from knowledge.ingest.records import ResultDocument

NO_INFO = "Không có thông tin"

_PORTAL_WIDGET = re.compile(r"Chọn cơ quan thực hiện.*$", re.S)
_RESULT_CODE = re.compile(r"Mã: ([A-Z]{2,}(?:\.[A-Z]?\d+)*)")
_RESULT_DETAILS = re.compile(r"^\x00Từ khóa(?P<keywords>.*?)Mô tả(?P<description>.*)$", re.S)
_STEP_MARKER = re.compile(
    r"(?:^|\n|(?<=[.:;])|(?<= )(?=[\-+•]+\s*(?:Bước|BƯỚC))|(?<=[^\s\-+*•] )(?=(?:Bước|BƯỚC)\s*\d+\s*:))"
    r"(?=[\s\-+*•]*(?:Bước|BƯỚC|bước)\s*\d+\s*[.:)\-]?)"
)
_STARTS_WITH_STEP = re.compile(r"^[\s\-+*•]*(?:Bước|BƯỚC|bước)\s*\d+")


def split_top_level_commas(text: str) -> list[str]:
    """Split on commas outside parentheses: 'Tổ chức (không bao gồm doanh nghiệp, HTX), Công dân'."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return _rejoin_categories([part.strip() for part in parts if part.strip()])


# Portal applicant categories whose own name contains commas.
_COMMA_CATEGORIES = (("Cán bộ", "công chức", "viên chức"),)


def _rejoin_categories(parts: list[str]) -> list[str]:
    joined, index = [], 0
    while index < len(parts):
        for category in _COMMA_CATEGORIES:
            if tuple(parts[index : index + len(category)]) == category:
                joined.append(", ".join(category))
                index += len(category)
                break
        else:
            joined.append(parts[index])
            index += 1
    return joined


def none_if_empty(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip()
    return None if not text or text == NO_INFO else text


def parse_steps(text: str) -> list[str]:
    """Steps as the source numbers them ("Bước 1", "Bước 2"); otherwise its non-empty lines."""
    text = text.strip()
    if not text:
        return []
    pieces = [piece.strip() for piece in _STEP_MARKER.split(text) if piece.strip()]
    if len(pieces) > 1 or (pieces and _STARTS_WITH_STEP.match(pieces[0])):
        if len(pieces) > 1 and not _STARTS_WITH_STEP.match(pieces[0]):
            # "(1) Trường hợp cấp mới: Bước 1 ..." — the case heading opens the first step
            pieces = [pieces[0] + "\n" + pieces[1], *pieces[2:]]
        return [re.sub(r"\n{2,}", "\n", piece) for piece in pieces]
    return [line.strip() for line in text.split("\n") if line.strip()]


def parse_results(text: str) -> list[ResultDocument]:
    """Result documents with the portal's selection widget removed.

    Shape: ``name Mã: CODE [Từ khóa ... Mô tả ...]`` repeated, with no separator between one
    entry's end and the next entry's name.
    """
    text = _PORTAL_WIDGET.sub("", text or "").strip()
    if not text or text == NO_INFO:
        return []
    marked = text.replace("Từ khóa", "\x00Từ khóa")
    codes = list(_RESULT_CODE.finditer(marked))
    if not codes:
        return [ResultDocument(name=text)]
    results = []
    name_start = 0
    for index, code in enumerate(codes):
        name = _clean_result_name(marked[name_start : code.start()])
        tail_end = codes[index + 1].start() if index + 1 < len(codes) else len(marked)
        tail = marked[code.end() : tail_end]
        description = None
        details = _RESULT_DETAILS.match(tail)
        if details:
            # the next entry's name follows the description without a separator; the portal
            # writes "Không có thông tin" there in every record we have, so only that is cut.
            rest = details.group("description")
            if rest.startswith(NO_INFO):
                name_start = code.end() + details.start("description") + len(NO_INFO)
            else:
                description, name_start = none_if_empty(rest), tail_end
        else:
            name_start = code.end()
        if name:
            results.append(ResultDocument(name=name, code=code.group(1), description=description))
    return results


def _clean_result_name(name: str) -> str:
    return re.sub(r"^[\s+\-•]+", "", name.replace("\x00", "")).strip()


def parse_related(text: str) -> list[str]:
    """Related procedure names; the portal lists them as '#Tên thủ tục1Name2Name'."""
    text = (text or "").strip()
    if not text or text == NO_INFO:
        return []
    text = text.removeprefix("#Tên thủ tục")
    names = [name.strip() for name in re.split(r"(?:^|(?<=[^\d/.]))\d+(?=[A-ZĐÀ-Ỹ])", text) if name.strip()]
    return names or [text]


def raw_section(raw_text: str, heading: str, next_headings: tuple[str, ...], must_contain: str) -> str | None:
    """The page section that holds ``must_contain``: from the last ``heading`` before it to the next heading.

    Used when a crawled field holds the wrong section: the whole page text is still there. The
    heading word also occurs in running text ("... tại mục Thành phần hồ sơ"), so the section
    starts at the occurrence closest before the table, not the first one.
    """
    anchor = raw_text.find(must_contain)
    if anchor < 0:
        return None
    start = raw_text.rfind(heading, 0, anchor)
    if start < 0:
        return None
    start += len(heading)
    ends = [position for position in (raw_text.find(h, anchor) for h in next_headings) if position > anchor]
    return raw_text[start : min(ends) if ends else len(raw_text)]
