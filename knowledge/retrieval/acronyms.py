"""Acronyms in procedure names, spelled out from the knowledge base's own definitions.

Some names use an acronym where people say the words: "Khai thuế GTGT ...", "Cấp lại ... sổ
BHXH". A question that says "thuế giá trị gia tăng" then shares no name word with the
procedure. The records define most of these themselves, as "thuế giá trị gia tăng (GTGT)":
words whose initials spell the acronym in brackets after them. Those definitions, plus the
project's own abbreviations that are acronyms of their expansion ("bhxh" → "bảo hiểm xã
hội"), give each acronym its words; the lexical name index then holds the name followed by
the words of every acronym it is written with.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from knowledge.ingest.records import Procedure
from nlu.abbreviations import ABBREVIATIONS
from nlu.text import fold, syllables

# "(GTGT)", "(TNLĐ)": two to eight capitals in brackets
_DEFINITION = re.compile(r"\(([A-ZĐ]{2,8})\)")
# a name token written as an acronym: capitals only ("UBND", "TNLĐ"); Roman numerals are numbers
_ACRONYM_TOKEN = re.compile(r"^[A-ZĐ]{2,8}$")
_ROMAN_NUMERALS = frozenset({"II", "III", "IV", "VI", "VII", "VIII", "IX", "XI", "XII"})


def _key(acronym: str) -> str:
    return fold(acronym).lower()


def spells(words: Sequence[str], acronym: str) -> bool:
    """Whether the initials of ``words`` are the letters of ``acronym`` ("đ" counts as "d")."""
    letters = _key(acronym)
    return len(words) == len(letters) and all(fold(word)[:1].lower() == letter for word, letter in zip(words, letters))


def _definitions(text: str) -> Iterable[tuple[str, str]]:
    for match in _DEFINITION.finditer(text):
        acronym = match.group(1)
        before = syllables(text[max(0, match.start() - 120) : match.start()])[-len(acronym) :]
        if spells(before, acronym):
            yield _key(acronym), " ".join(word.lower() for word in before)


def defined_acronyms(procedures: Sequence[Procedure]) -> dict[str, str]:
    """Acronym (folded, lower case) → its words, the most frequent definition winning."""
    found: dict[str, Counter[str]] = {}
    for key, expansion in _project_acronyms():
        found.setdefault(key, Counter())[expansion] += 1
    for procedure in procedures:
        text = " ".join([procedure.name, procedure.steps_text, procedure.documents_raw, procedure.conditions or ""])
        for key, expansion in _definitions(text):
            found.setdefault(key, Counter())[expansion] += 1
    return {key: counts.most_common(1)[0][0] for key, counts in found.items()}


def _project_acronyms() -> Iterable[tuple[str, str]]:
    for key, expansion in ABBREVIATIONS.items():
        words = syllables(expansion)
        if key.isalpha() and " " not in key and spells(words, key):
            yield _key(key), expansion


def spelled_out(name: str, acronyms: dict[str, str]) -> str:
    """``name`` followed by the words of each acronym it is written with."""
    words = [
        acronyms[_key(token)]
        for token in dict.fromkeys(re.findall(r"\w+", name))
        if _ACRONYM_TOKEN.match(token) and token not in _ROMAN_NUMERALS and _key(token) in acronyms
    ]
    return " ".join([name, *words])
