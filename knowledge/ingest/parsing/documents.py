"""Required documents (thành phần hồ sơ).

Source shape::

    * Giấy tờ phải nộp:Tên giấy tờMẫu đơn, tờ khaiSố lượng- Tờ khai ...Mẫu 01.docx1 bản chính- ...0 bản chính,1 bản sao

An optional case-group header, the column header, then items that each end with a quantity
block ("1 bản chính", "0 bản chính,1 bản sao", "1 bản chụp"). A form template file name may
sit between an item's name and its quantity. Several groups may follow one another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.ingest.records import DocumentItem

COLUMN_HEADER = "Tên giấy tờMẫu đơn, tờ khaiSố lượng"

# A quantity digit is a single digit glued to the end of the name; longer digit runs are the
# name's own numbers ("ngày 13/02/2026" + "1 bản chính"). The column only ever says "bản chính"
# and "bản sao"; "01 bản chụp" is legal text inside a name.
_QUANTITY = re.compile(r"(\d) bản (chính|sao)((?:,\d bản (?:chính|sao))*)")
_QUANTITY_PART = re.compile(r"(\d) bản (chính|sao)")
# "...: 01 bản chính" inside a name: counts in legal text are written with a leading zero.
_PADDED_COUNT_BEFORE = re.compile(r"(?:^|[\s(:,;])0$")
_FORM_FILE = re.compile(r"\.(?:docx?|pdf|xlsx?|rtf|odt|zip|rar|png|jpe?g)$", re.IGNORECASE)
_PREVIOUS_FILE = re.compile(r"\.(?:docx?|pdf|xlsx?|rtf|odt|zip|rar|png|jpe?g)(?=\S)", re.IGNORECASE)
_GLUED_START = re.compile(r"(?<=[A-ZĐ])(?=[A-ZĐ][a-zà-ỹđ]|mau|mẫu)")
_FORM_KEYWORD = re.compile(r"(?i)(?:mẫu|mau(?=[\s_\d])|tờ khai|\bbm[\s._-]|\btk\d)")
_FORM_SEPARATOR = re.compile(r"[;)\]”]\.?\s*")
_ITEM_NUMBER = re.compile(r"^(\d+)\s*[.)]\s")
_BULLET = re.compile(r"^\s*(?:[-+•\uf0fc\uf0b7–]+\s*)+")


@dataclass(frozen=True)
class DocumentParse:
    items: list[DocumentItem]
    ok: bool
    reason: str = ""


def parse_documents(text: str) -> DocumentParse:
    """Rebuild the document table; ``ok`` is False when no item could be read."""
    if not text or COLUMN_HEADER not in text:
        return DocumentParse([], False, "no column header")
    segments = text.split(COLUMN_HEADER)
    group = _clean_group(segments[0])
    items: list[DocumentItem] = []
    for segment in segments[1:]:
        segment_items, trailing = _parse_segment(segment, group)
        items.extend(segment_items)
        group = _clean_group(trailing)
    if not items:
        return DocumentParse([], False, "no item with a quantity")
    return DocumentParse(_in_stated_order(items), True)


def _parse_segment(segment: str, group: str | None) -> tuple[list[DocumentItem], str]:
    items = []
    position = 0
    for match in _QUANTITY.finditer(segment):
        if _is_inline_quantity(segment, match):
            continue
        raw_item = segment[position : match.start()]
        position = match.end()
        name, form = _split_form(raw_item)
        name = _clean_name(name)
        if not name:
            continue
        counts: dict[str, int | None] = {"chính": None, "sao": None}
        for part in _QUANTITY_PART.finditer(match.group(0)):
            counts[part.group(2)] = (counts[part.group(2)] or 0) + int(part.group(1))
        items.append(
            DocumentItem(
                name=name,
                form=form,
                originals=counts["chính"],
                copies=counts["sao"],
                quantity_text=match.group(0),
                group=group,
            )
        )
    return items, segment[position:]


def _is_inline_quantity(segment: str, match: re.Match[str]) -> bool:
    """'nộp 02 bản chính tờ khai', 'Hóa đơn thương mại: 01 bản chụp' — counts inside the text."""
    following = segment[match.end() : match.end() + 2]
    preceding = segment[max(0, match.start() - 2) : match.start()]
    if _PADDED_COUNT_BEFORE.search(preceding):
        return True
    return preceding[-1:].isdigit() and following.startswith(" ") and following[1:2].islower()


def _split_form(raw_item: str) -> tuple[str, str | None]:
    """Separate the trailing template file name(s) ("Mẫu số 01.docx") from the document name.

    A file name starts after the last separator (";", ")", "]", a previous file name) or at a
    glued capital ("...NĐ-CPMus03a.docx"); without either, at a form keyword ("Mẫu", "mau").
    Several files may follow one another; they are returned joined by "; " in source order.
    """
    name = raw_item.rstrip()
    forms: list[str] = []
    while _FORM_FILE.search(name):
        cut = _form_start(name)
        if cut is None:
            break
        forms.insert(0, name[cut:].strip(" .-"))
        name = name[:cut].rstrip()
    if not forms:
        return raw_item, None
    if not name.strip(" ;:-"):
        return forms[0], "; ".join(forms)
    return name, "; ".join(forms)


def _form_start(text: str) -> int | None:
    window = max(0, len(text) - 160)
    extension = _FORM_FILE.search(text)
    stem_end = extension.start() if extension else len(text)
    candidates = []
    for match in _FORM_SEPARATOR.finditer(text, window):
        start = match.end()
        if start < stem_end and _has_stem(text[start:stem_end]) and text[: match.start()].strip():
            candidates.append(start)
    for match in _PREVIOUS_FILE.finditer(text, window, stem_end):
        if _has_stem(text[match.end() : stem_end]):
            candidates.append(match.end())
    if candidates:
        return max(candidates)
    glued = [m.start() for m in _GLUED_START.finditer(text, window, stem_end) if text[: m.start()].strip()]
    if glued:
        return glued[-1]
    keywords = [m.start() for m in _FORM_KEYWORD.finditer(text, window, stem_end) if text[: m.start()].strip(" -+;")]
    if keywords:
        return keywords[-1]
    return 0


def _has_stem(stem: str) -> bool:
    """A file name needs a name before its extension ("(1).doc" is the tail of one, not one)."""
    stem = stem.strip(" .")
    return sum(char.isalnum() for char in stem) >= 2 and not re.fullmatch(r"\(\d+\)", stem)


def _clean_name(name: str) -> str:
    name = _BULLET.sub("", name.strip())
    name = re.sub(r"\s+", " ", name).strip(" ;,")
    return name


def _clean_group(text: str) -> str | None:
    text = text.strip().strip("-").strip()
    return text or None


def _in_stated_order(items: list[DocumentItem]) -> list[DocumentItem]:
    """The portal sometimes shuffles numbered items ("8. ...", "4. ..."); restore 1, 2, 3."""
    numbers = [_ITEM_NUMBER.match(item.name) for item in items]
    if len(items) > 1 and all(numbers):
        keyed = [(int(number.group(1)), index) for index, number in enumerate(numbers)]
        if len({key for key, _ in keyed}) == len(keyed):
            return [items[index] for _, index in sorted(keyed)]
    return items
