"""Place names of Hanoi that users add to questions ("làm lltp ở Hà Nội", "thuê trọ ở Cầu Giấy").

Where the user lives matters for where to submit (the Hanoi layer answers that), not for which
procedure is meant, so these words are taken out before retrieval. District names as they
were before the 2025 reorganisation are still how people speak.
"""

from __future__ import annotations

from functools import lru_cache

from nlu.text import contains_phrase, remove_phrases, syllables

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
    return [syllables(place) for place in HANOI_PLACES]


def strip_places(tokens: list[str]) -> list[str]:
    """``tokens`` without Hanoi place names."""
    return remove_phrases(tokens, _place_tokens())


def mentioned_places(text: str) -> list[str]:
    tokens = syllables(text)
    return [" ".join(place) for place in _place_tokens() if contains_phrase(tokens, place)]
