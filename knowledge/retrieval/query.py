"""Turn a user's message into the terms retrieval works with.

Same steps for every channel: normalise (NFC, tone placement), spell out chat shorthand,
append official wording for abbreviations, detect the aspect, drop function words, and
produce syllable unigrams and bigrams in two forms — folded (no diacritics) for the tolerant
channel and accented for the precise one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from nlu.abbreviations import find_expansions, replace_shorthand
from nlu.aspects import Aspect, detect_aspect, strip_question_phrases
from nlu.places import strip_places
from nlu.text import fold, has_diacritics, normalize, syllables

# Longer messages are cut before analysis: a 10,000-character paste must not cost seconds.
MAX_QUERY_CHARS = 600

# Words that carry no information about which procedure is meant (checked tolerantly:
# a word typed without diacritics matches any accents).
STOPWORDS = [
    "tôi",
    "mình",
    "em",
    "anh",
    "chị",
    "bạn",
    "ạ",
    "à",
    "ơi",
    "nhé",
    "nha",
    "vậy",
    "thì",
    "là",
    "mà",
    "có",
    "không",
    "được",
    "gì",
    "nào",
    "sao",
    "thế",
    "như",
    "làm",
    "cần",
    "muốn",
    "phải",
    "ở",
    "đâu",
    "bao",
    "nhiêu",
    "lâu",
    "hỏi",
    "xin",
    "cho",
    "biết",
    "đề",
    "nghị",
    "giúp",
    "với",
    "và",
    "hoặc",
    "của",
    "các",
    "những",
    "này",
    "đó",
    "khi",
    "nếu",
    "để",
    "bị",
    "rồi",
    "đã",
    "đang",
    "sẽ",
    "nay",
    "giờ",
    "ai",
    "việc",
    "thủ",
    "tục",
    "hồ",
    "sơ",
    "giấy",
    "tờ",
    "gồm",
    "cách",
    "nơi",
    "nộp",
    "hiện",
    "tại",
    "theo",
    "ra",
    "mới",
    "lại",
    "luôn",
    "cũng",
    "vẫn",
    "còn",
    "chưa",
    "vừa",
    "sắp",
    "tự",
    "qua",
    "trên",
    "về",
]
_ACCENTED_STOPWORDS = frozenset(STOPWORDS)
_FOLDED_STOPWORDS = frozenset(fold(word) for word in STOPWORDS)


def is_stopword(token: str) -> bool:
    if has_diacritics(token):
        return token in _ACCENTED_STOPWORDS
    return token in _FOLDED_STOPWORDS


# Roman numerals that name a grade ("hạng II", "loại III"); "i", "v", "vi", "x" are left alone
# because they are also words or parts of words ("vi phạm").
_ROMAN_NUMERALS = {"ii": "2", "iii": "3", "iv": "4"}
NUMBER_WORDS = ("một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín", "mười")


def is_number(token: str) -> bool:
    """ASCII digits only: "¹", "²", "٣" are digits to str.isdigit but not numbers to int()."""
    return token.isascii() and token.isdigit()


def retrieval_token(token: str) -> str:
    """One spelling per number on both sides of retrieval: "01" and "1", "II" and "2"."""
    if is_number(token) and len(token) <= 3:
        return str(int(token))
    return _ROMAN_NUMERALS.get(token, token)


def terms(tokens: list[str], fold_output: bool = False) -> list[str]:
    """Unigrams without stopwords, plus bigrams that are not made of stopwords only.

    Stopwords are recognised on ``tokens`` as given; with ``fold_output`` the terms are then
    folded. Folding first would make "đăng", "hộ", "sổ", "lái" the stopwords "đang", "hồ", "sơ", "lại".
    """
    stop = [is_stopword(token) for token in tokens]
    words = [retrieval_token(fold(token) if fold_output else token) for token in tokens]
    unigrams = [word for word, is_stop in zip(words, stop) if not is_stop]
    bigrams = [
        f"{first}_{second}"
        for first, second, first_stop, second_stop in zip(words, words[1:], stop, stop[1:])
        if not (first_stop and second_stop)
    ]
    return list(dict.fromkeys(unigrams + bigrams))


def number_word_phrases(tokens: list[str]) -> list[str]:
    """ "2 thành viên" said the way names say it: "hai thành viên" (1 to 10 before a word)."""
    phrases = []
    for number, following in zip(tokens, tokens[1:]):
        if is_number(number) and 1 <= int(number) <= len(NUMBER_WORDS) and not is_number(following):
            phrases.append(f"{NUMBER_WORDS[int(number) - 1]} {following}")
    return phrases


def document_terms(text: str) -> tuple[list[str], list[str]]:
    """(folded terms, accented terms) of a knowledge-base text; no stopword removal needed there."""
    accented = [retrieval_token(token) for token in syllables(text)]
    folded = [fold(token) for token in accented]
    return _with_bigrams(folded), _with_bigrams(accented)


def folded_document_terms(text: str) -> list[str]:
    """The folded half of :func:`document_terms`, twice as fast on long texts (folds once)."""
    return _with_bigrams([retrieval_token(token) for token in syllables(fold(text))])


def _with_bigrams(tokens: list[str]) -> list[str]:
    return tokens + [f"{first}_{second}" for first, second in zip(tokens, tokens[1:])]


@dataclass(frozen=True)
class AnalyzedQuery:
    original: str
    text: str
    aspect: Aspect
    expansions: tuple[str, ...]
    folded_terms: list[str] = field(default_factory=list)
    accented_terms: list[str] = field(default_factory=list)
    core_folded_terms: list[str] = field(default_factory=list)
    retrieval_text: str = ""
    # the question's words with only place names removed: question phrases ("lệ phí", "thời
    # hạn") kept, for the searcher to find those that are part of a procedure's name
    spoken_tokens: tuple[str, ...] = ()
    typed_with_diacritics: bool = False
    truncated: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.core_folded_terms

    @property
    def asked_text(self) -> str:
        """What the user said plus the phrases it expands to ("sổ đỏ" → "giấy chứng nhận quyền sử dụng đất")."""
        return " ".join([self.text, *self.expansions])


@lru_cache(maxsize=2048)
def analyze(question: str) -> AnalyzedQuery:
    """Everything retrieval needs to know about ``question``."""
    original = question or ""
    truncated = len(original) > MAX_QUERY_CHARS
    text = normalize(original[:MAX_QUERY_CHARS])
    spelled = replace_shorthand(text)
    spoken_tokens = strip_places(syllables(spelled))
    core_tokens = strip_question_phrases(spoken_tokens)
    expansions = tuple(
        dict.fromkeys(
            [expansion.expansion for expansion in find_expansions(" ".join(core_tokens))]
            + number_word_phrases(core_tokens)
        )
    )
    expanded_tokens = core_tokens + [token for expansion in expansions for token in syllables(expansion)]
    return AnalyzedQuery(
        original=original,
        text=text,
        aspect=detect_aspect(spelled),
        expansions=expansions,
        folded_terms=terms(expanded_tokens, fold_output=True),
        accented_terms=terms(expanded_tokens),
        core_folded_terms=terms(core_tokens, fold_output=True),
        retrieval_text=" ".join(core_tokens),
        spoken_tokens=tuple(spoken_tokens),
        typed_with_diacritics=has_diacritics(text),
        truncated=truncated,
    )
