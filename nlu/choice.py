"""Which numbered option a short reply picks: "2", "số 2", "cái thứ hai", "chọn cái đầu tiên"."""

from __future__ import annotations

import re

from nlu.text import fold, syllable_matches, syllables

# Folded number words and ordinals; "tư" is the ordinal of four ("thứ tư").
_NUMBER_WORDS = {
    "mot": 1,
    "nhat": 1,
    "hai": 2,
    "ba": 3,
    "bon": 4,
    "tu": 4,
    "nam": 5,
    "sau": 6,
    "bay": 7,
    "tam": 8,
    "chin": 9,
}
_PICK_WORDS = {"thu", "so", "cai", "chon", "an", "lua"}
# A reply longer than this is a new question, not a pick.
MAX_WORDS = 6


def option_number(text: str) -> int | None:
    """The 1-based option number a reply picks, or None when it names none."""
    typed = syllables(text)
    words = [fold(word) for word in typed]
    if not words or len(words) > MAX_WORDS:
        return None
    digits = [int(word) for word in words if re.fullmatch(r"[1-9]", word)]
    if len(digits) == 1:
        return digits[0]
    if digits:
        return None
    for index, word in enumerate(words):
        following = typed[index + 1] if index + 1 < len(typed) else ""
        previous = words[index - 1] if index else ""
        # "đầu tiên", "cái đầu" (not "ở đâu": typed with diacritics it must match "đầu" exactly)
        if syllable_matches(typed[index], "đầu") and (syllable_matches(following, "tiên") or previous == "cai"):
            return 1
        if word in _NUMBER_WORDS and previous in _PICK_WORDS:
            return _NUMBER_WORDS[word]
    if words[0] in _NUMBER_WORDS and len(words) == 1:
        return _NUMBER_WORDS[words[0]]
    return None
