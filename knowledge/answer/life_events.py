"""Life events ("tôi vừa sinh con", "sắp kết hôn", "mở quán"): the procedures done together.

A small curated map (``knowledge/data/life_events.yaml``) whose every entry names real procedure
codes; the national records' related-procedure field is almost always empty, so the chains cannot
be derived from the data. Matching is by cue phrases, tolerant of missing diacritics.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from nlu.text import contains_phrase, syllables

LIFE_EVENTS_PATH = Path(__file__).resolve().parent.parent / "data" / "life_events.yaml"


class LifeEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    title: str
    cues: list[str] = Field(min_length=1)
    codes: list[str] = Field(min_length=1)


class LifeEvents(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    events: list[LifeEvent]

    def by_key(self, key: str) -> LifeEvent | None:
        return next((event for event in self.events if event.key == key), None)

    def match(self, text: str) -> LifeEvent | None:
        """The first event one of whose cues occurs in ``text`` (diacritics optional), else None."""
        tokens = syllables(text)
        for event in self.events:
            if any(contains_phrase(tokens, syllables(cue)) for cue in event.cues):
                return event
        return None

    @property
    def codes(self) -> list[str]:
        return list(dict.fromkeys(code for event in self.events for code in event.codes))


def load_life_events(path: Path = LIFE_EVENTS_PATH) -> LifeEvents:
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    events = [{"key": key, **value} for key, value in (raw.get("events") or {}).items()]
    return LifeEvents(events=events)


@lru_cache(maxsize=2)
def cached_life_events(path: Path = LIFE_EVENTS_PATH) -> LifeEvents:
    return load_life_events(path)
