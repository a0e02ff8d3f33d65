"""Place names of Hanoi that users add to questions ("làm lltp ở Hà Nội", "thuê trọ ở Cầu Giấy").

Where the user lives matters for where to submit (the Hanoi layer answers that), not for which
procedure is meant, so these words are taken out before retrieval. District names as they
were before the 2025 reorganisation are still how people speak.
"""

from __future__ import annotations

from functools import lru_cache

from nlu.text import fold, has_diacritics, syllables

HANOI_PLACES = (
    "thành phố hà nội",
    "tp hà nội",
    "hà nội",
    "hn",
    "thủ đô",
    "ba đình",
    "hoàn kiếm",
    "tây hồ",
    "long biên",
    "cầu giấy",
    "đống đa",
    "hai bà trưng",
    "hoàng mai",
    "thanh xuân",
    "hà đông",
    "bắc từ liêm",
    "nam từ liêm",
    "từ liêm",
    "sóc sơn",
    "đông anh",
    "gia lâm",
    "thanh trì",
    "mê linh",
    "sơn tây",
    "ba vì",
    "phúc thọ",
    "đan phượng",
    "hoài đức",
    "quốc oai",
    "thạch thất",
    "chương mỹ",
    "thanh oai",
    "thường tín",
    "phú xuyên",
    "ứng hòa",
    "mỹ đức",
)


@lru_cache(maxsize=1)
def _place_tokens() -> list[list[str]]:
    return sorted((syllables(place) for place in HANOI_PLACES), key=len, reverse=True)


def _matches(window: list[str], place: list[str]) -> bool:
    return len(window) == len(place) and all(
        typed == key or (not has_diacritics(typed) and fold(key) == typed) for typed, key in zip(window, place)
    )


def strip_places(tokens: list[str]) -> list[str]:
    """``tokens`` without Hanoi place names."""
    kept, position = [], 0
    while position < len(tokens):
        for place in _place_tokens():
            if _matches(tokens[position : position + len(place)], place):
                position += len(place)
                break
        else:
            kept.append(tokens[position])
            position += 1
    return kept


def mentioned_places(text: str) -> list[str]:
    tokens = syllables(text)
    found = []
    for place in _place_tokens():
        for start in range(len(tokens) - len(place) + 1):
            if _matches(tokens[start : start + len(place)], place):
                found.append(" ".join(place))
                break
    return found
