"""Variants of one procedure: level, lưu động, có yếu tố nước ngoài, đăng ký lại, cấp lại/cấp đổi...

The national list holds many near-twins ("Thủ tục đăng ký khai sinh", "... lưu động",
"... có yếu tố nước ngoài", "Đăng ký lại ..."). A candidate that carries a variant marker the
question does not mention is less likely to be what the user means, and when several twins
remain equally likely the assistant asks which one instead of guessing.
"""

from __future__ import annotations

import re
from functools import lru_cache

from nlu.text import contains_phrase, fold, syllables

# Phrases (compared with their accents) that make a procedure a different act on the same paper ("Xóa đăng ký tạm trú"
# is not "Đăng ký tạm trú"): a candidate carrying one the question lacks is demoted and never
# offered as a mere variant.
ACTION_MARKERS = (
    "đăng ký lại",
    "cấp lại",
    "cấp đổi",
    "đổi",
    "gia hạn",
    "thu hồi",
    "điều chỉnh",
    "bổ sung",
    "thay đổi",
    "xóa",
    "hủy",
    "trích lục",
    "chuyển đổi",
    "tạm ngừng",
    "chấm dứt",
    "khôi phục",
)

# Phrases that narrow a procedure to a case ("lưu động", "có yếu tố nước ngoài", an age):
# twins that differ only by these are offered as choices when the question does not decide.
QUALIFIER_MARKERS = (
    "lưu động",
    "yếu tố nước ngoài",
    "người nước ngoài",
    "nước ngoài",
    "khu vực biên giới",
    "tạm thời",
    "kết hợp",
    "liên thông",
    "quân sự",
    "công an nhân dân",
    "dưới 14 tuổi",
    # requested by an authority, not by the person: citizens asking mean the ordinary procedure
    "theo yêu cầu của cơ quan",
    "từ đủ 14 tuổi trở lên",
    "từ đủ 14 tuổi",
)

VARIANT_MARKERS = ACTION_MARKERS + QUALIFIER_MARKERS

# Acts that start or end something rather than vary it ("cấp mới": said only to mean a first
# issue). Not variant markers (a bank's "Giấy phép thành lập và hoạt động" is the licence people
# mean by "giấy phép hoạt động"), but a question that asks for one of them is not answered by a
# procedure whose name lacks it.
LIFECYCLE_ACTS = ("cấp mới", "thành lập", "giải thể", "sáp nhập", "hợp nhất")

_LEVEL_SUFFIX = re.compile(
    r"\s*[\(\-–]?\s*(?:thực hiện\s+)?(?:tại\s+)?cấp\s+(?:trung ương|tỉnh|tinh|huyện|xã|bộ)(?:\s*,\s*cấp\s+(?:tỉnh|xã|huyện))*\s*\)?\s*$",
    re.IGNORECASE,
)
_PROCEDURE_PREFIX = re.compile(r"^\s*thủ tục\s+", re.IGNORECASE)


_MARKER_TOKENS = {marker: syllables(marker) for marker in VARIANT_MARKERS}


@lru_cache(maxsize=8192)
def markers_in(text: str) -> frozenset[str]:
    """Variant markers present in ``text``; a word typed without diacritics matches any accents."""
    tokens = syllables(text)
    found = {marker for marker, marker_tokens in _MARKER_TOKENS.items() if contains_phrase(tokens, marker_tokens)}
    return _most_specific(found, _MARKER_TOKENS)


def _most_specific(found: set[str] | frozenset[str], phrase_tokens: dict[str, list[str]]) -> frozenset[str]:
    """``found`` without phrases inside another found one: "yếu tố nước ngoài" contains "nước
    ngoài", "cấp đổi" contains "đổi" — keep the most specific."""
    return frozenset(
        phrase
        for phrase in found
        if not any(other != phrase and contains_phrase(phrase_tokens[other], phrase_tokens[phrase]) for other in found)
    )


@lru_cache(maxsize=16384)
def _tokens(text: str) -> tuple[str, ...]:
    # names and the question are tokenised once per search, not once per candidate pair
    return tuple(syllables(text))


def unrequested_markers(procedure_name: str, query_text: str) -> frozenset[str]:
    """Markers of the procedure's name that the question does not mention."""
    asked = _tokens(query_text)
    return frozenset(
        marker for marker in markers_in(procedure_name) if not contains_phrase(asked, _MARKER_TOKENS[marker])
    )


_ACT_TOKENS = {act: syllables(act) for act in ACTION_MARKERS + LIFECYCLE_ACTS}


def missing_acts(query_text: str, procedure_name: str) -> int:
    """How many acts the question asks for ("cấp lại", "thành lập", ...) the procedure's name lacks."""
    return len(requested_acts(query_text) - acts_in(procedure_name))


@lru_cache(maxsize=8192)
def requested_acts(query_text: str) -> frozenset[str]:
    """Acts a question names, the most specific only ("cấp đổi" asked is one act, not also "đổi")."""
    return _most_specific(_acts(_tokens(query_text)), _ACT_TOKENS)


@lru_cache(maxsize=8192)
def acts_in(procedure_name: str) -> frozenset[str]:
    """Every act a name contains ("đổi" too when it says "cấp đổi")."""
    return _acts(_tokens(procedure_name))


def _acts(tokens: tuple[str, ...]) -> frozenset[str]:
    return frozenset(act for act, act_tokens in _ACT_TOKENS.items() if contains_phrase(tokens, act_tokens))


def is_action_marker(marker: str) -> bool:
    return marker in ACTION_MARKERS


def family_name(procedure_name: str) -> str:
    """The name without the leading "Thủ tục" and the trailing level, as people would say it."""
    return _LEVEL_SUFFIX.sub("", _PROCEDURE_PREFIX.sub("", procedure_name)).strip()


@lru_cache(maxsize=8192)
def family_key(procedure_name: str) -> str:
    """The name with level and variant markers removed: twins share it."""
    name = _PROCEDURE_PREFIX.sub("", procedure_name)
    name = _LEVEL_SUFFIX.sub("", name)
    folded = f" {fold(name)} "
    for marker in sorted(VARIANT_MARKERS, key=len, reverse=True):
        folded = folded.replace(f" {fold(marker)} ", " ")
    # words that never tell two procedures apart ("Cấp thẻ căn cước cho người ..." vs "Cấp đổi thẻ căn cước")
    folded = re.sub(r"\b(co|cho|nguoi|cap|doi voi|truong hop)\b", " ", folded)
    return re.sub(r"[^a-z0-9]+", " ", folded).strip()


def same_family(first_name: str, second_name: str) -> bool:
    """Twins, or one a narrower act on the other's paper ("Tích hợp, cập nhật, điều chỉnh thông tin
    trên thẻ căn cước" and "Cấp lại thẻ căn cước"): the family of one contains the other's."""
    first, second = f" {family_key(first_name)} ", f" {family_key(second_name)} "
    if not first.strip() or not second.strip():
        return first == second
    return first in second or second in first
