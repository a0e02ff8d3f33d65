"""Questions generated from the records themselves, the way people ask in chat.

The portal's questions are long and situational; people in Zalo or Telegram write a few words
about a procedure, often with everyday verbs ("làm", "xin", "đổi"), shorthand ("cccd") and no
diacritics. For a seeded sample of procedures this writes such questions from the procedure's
own name: the name shortened to its head (the qualifiers after "đối với", "trường hợp", the
level in brackets dropped), an everyday verb for the official one, an aspect asked the way the
aspect cues say it, and half of them without diacritics. Every question is labelled with its
own procedure — and with every procedure of the same name at another level, which answers it
equally — so a grouped split by procedure keeps a question and its source apart.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Sequence

from knowledge.evaluation.quality import LabelledQuestion
from knowledge.ingest.records import Procedure
from knowledge.retrieval.variants import family_name
from nlu.abbreviations import ABBREVIATIONS
from nlu.text import fold

# The official verb at the start of a name, and what people say instead.
EVERYDAY_VERBS = (
    ("cấp đổi", ("đổi", "làm lại")),
    ("cấp lại", ("làm lại", "xin cấp lại")),
    ("cấp mới", ("làm", "xin")),
    ("cấp", ("làm", "xin", "xin cấp")),
    ("đăng ký", ("đăng ký", "làm", "đk")),
    ("giải quyết", ("xin", "làm thủ tục")),
    ("thủ tục", ("làm",)),
)
# How each aspect is asked in a few words ({} is the procedure).
ASPECT_TEMPLATES: dict[str, tuple[str, ...]] = {
    "documents": ("{} cần giấy tờ gì", "hồ sơ {} gồm những gì", "{} cần chuẩn bị gì"),
    "fee": ("{} mất bao nhiêu tiền", "lệ phí {} là bao nhiêu", "{} có mất phí không"),
    "time": ("{} mất bao lâu", "{} bao lâu thì có", "{} mấy ngày"),
    "where": ("{} ở đâu", "nộp hồ sơ {} ở đâu", "{} làm ở đâu hà nội"),
    "online": ("{} online được không", "{} trên mạng được không", "có {} trực tuyến không"),
    "general": ("muốn {} thì làm thế nào", "thủ tục {}", "tôi cần {}"),
}
# Where a name's head ends: what follows only narrows the case.
_QUALIFIERS = re.compile(r"\s*(\(.*?\)|\bđối với\b|\btrường hợp\b|\btại\b|\btheo\b|\bkhi\b|\bdo\b|;).*$", re.IGNORECASE)
MAX_HEAD_WORDS = 12
MIN_HEAD_WORDS = 3
_SHORTHANDS = {expansion: key for key, expansion in ABBREVIATIONS.items() if len(key) <= 5 and " " not in key}


def name_head(name: str) -> str:
    """The part of a procedure's name that says what it is ("Cấp đổi thẻ căn cước (cấp tỉnh)" → "cấp đổi thẻ căn cước")."""
    head = _QUALIFIERS.sub("", name.strip()).strip().lower()
    words = head.split()
    if len(words) < MIN_HEAD_WORDS:  # too short to say which procedure: keep the name up to its brackets
        words = name.split("(")[0].strip().lower().split()
    return " ".join(words[:MAX_HEAD_WORDS])


def everyday(head: str, rng: random.Random) -> str:
    """The head with the official verb said the everyday way, and a known shorthand for its object."""
    for official, said in EVERYDAY_VERBS:
        if head.startswith(official + " "):
            head = rng.choice(said) + head[len(official) :]
            break
    for expansion, shorthand in _SHORTHANDS.items():
        if expansion in head and rng.random() < 0.5:
            head = head.replace(expansion, shorthand)
    return head


def generated_questions(
    procedures: Sequence[Procedure], count: int = 400, seed: int = 20261204
) -> list[LabelledQuestion]:
    """``count`` questions about a seeded sample of distinct procedure names, one question each."""
    rng = random.Random(seed)
    by_family: dict[str, list[Procedure]] = defaultdict(list)
    for procedure in procedures:
        by_family[family_name(procedure.name)].append(procedure)
    families = sorted(by_family)
    rng.shuffle(families)
    questions = []
    for family in families[:count]:
        siblings = sorted(by_family[family], key=lambda procedure: procedure.code)
        procedure = rng.choice(siblings)
        aspect = rng.choice(sorted(ASPECT_TEMPLATES))
        text = rng.choice(ASPECT_TEMPLATES[aspect]).format(everyday(name_head(procedure.name), rng))
        if rng.random() < 0.5:
            text = fold(text)
        questions.append(
            LabelledQuestion(
                id=f"gen-{procedure.code}",
                question=text,
                source="generated",
                kind="procedure",
                expected=tuple(sibling.code for sibling in siblings),
                aspect=aspect,
            )
        )
    return questions
