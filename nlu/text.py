"""Vietnamese text normalisation shared by indexing and querying.

Every piece of text that enters the system goes through :func:`normalize` first, so that
decomposed input (NFD), old-style tone placement ("hoà" vs "hòa") and stray control
characters never make two spellings of one word look different.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Syllable-final "oa", "oe", "uy" with no final consonant: the old style puts the tone on the
# second vowel (hoà, thuỷ), the new style on the first (hòa, thủy). Both appear in the
# national data, so we pick one (the new style) for every text.
_OLD_STYLE_PAIR = re.compile(r"(?i)\b(\w*?)([oO])([aAeE])([\u0300\u0301\u0303\u0309\u0323])(?![\w\u0300-\u036f])")
_OLD_STYLE_UY = re.compile(r"(?i)\b(\w*?)([uU])([yY])([\u0300\u0301\u0303\u0309\u0323])(?![\w\u0300-\u036f])")

_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]")
# Zero-width and direction marks sit inside words ("đăng k\u200eý"): remove, do not space.
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _move_tone_to_first_vowel(match: re.Match[str]) -> str:
    prefix, first, second, tone = match.groups()
    # "qu" + "y" is a consonant cluster + vowel (quý): the tone stays on "y".
    if first in "uU" and prefix[-1:].lower() == "q":
        return match.group(0)
    # "gi" + "a" etc. never reach here; "oa"/"oe" after "q" (quà) keep the tone too.
    if prefix[-1:].lower() == "q":
        return match.group(0)
    return f"{prefix}{first}{tone}{second}"


def normalize(text: str) -> str:
    """Return ``text`` in NFC with one tone-placement style, no control characters, single spaces.

    Line breaks are kept (steps and notes use them); runs of other whitespace become one space.
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text)
    decomposed = _INVISIBLE.sub("", decomposed)
    decomposed = _CONTROL.sub(" ", decomposed)
    decomposed = _OLD_STYLE_PAIR.sub(_move_tone_to_first_vowel, decomposed)
    decomposed = _OLD_STYLE_UY.sub(_move_tone_to_first_vowel, decomposed)
    composed = unicodedata.normalize("NFC", decomposed)
    composed = _SPACES.sub(" ", composed)
    composed = re.sub(r" *\r?\n *", "\n", composed)
    return composed.strip()


def fold(text: str) -> str:
    """Lower-case ``text`` and strip every diacritic (đ → d), the way people type in a hurry."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d").replace("Đ", "d")


def has_diacritics(text: str) -> bool:
    """True when ``text`` carries at least one Vietnamese diacritic or đ."""
    return fold(text) != text.lower()


def syllables(text: str) -> list[str]:
    """Lower-cased word tokens (Vietnamese syllables, numbers, Latin words) of normalised text."""
    return _WORD.findall(normalize(text).lower())


def folded_syllables(text: str) -> list[str]:
    """Syllables with diacritics folded away."""
    return [fold(token) for token in syllables(text)]


@lru_cache(maxsize=1 << 17)
def syllable_matches(typed: str, key: str) -> bool:
    """An accented syllable must match exactly; one typed without diacritics matches any accents.

    Cached: retrieval compares the same few hundred syllables against cue lists on every question.
    """
    return typed == key or (not has_diacritics(typed) and fold(key) == typed)


def phrase_at(tokens: list[str], start: int, phrase: list[str]) -> bool:
    """Whether ``phrase`` (syllables) occurs in ``tokens`` at ``start``, tolerating missing diacritics."""
    if start + len(phrase) > len(tokens) or not phrase or not syllable_matches(tokens[start], phrase[0]):
        return False
    return all(syllable_matches(tokens[start + offset], key) for offset, key in enumerate(phrase[1:], start=1))


def contains_phrase(tokens: list[str], phrase: list[str]) -> bool:
    return any(phrase_at(tokens, start, phrase) for start in range(len(tokens) - len(phrase) + 1))


def remove_phrases(tokens: list[str], phrases: list[list[str]]) -> list[str]:
    """``tokens`` without any of ``phrases`` (tried longest first at each position)."""
    ordered = sorted(phrases, key=len, reverse=True)
    kept, position = [], 0
    while position < len(tokens):
        for phrase in ordered:
            if phrase and phrase_at(tokens, position, phrase):
                position += len(phrase)
                break
        else:
            kept.append(tokens[position])
            position += 1
    return kept
