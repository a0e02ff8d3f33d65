"""The Hanoi layer: where to submit, portals, hotline, feedback and first-time help in Hanoi.

Loaded from ``knowledge/data/hanoi.yaml``; every fact carries its seed file and the date it
speaks of, and a reply that uses a fact cites it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from knowledge.ingest.records import OnlineLevel, Procedure
from nlu.text import fold


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceDocument(_Strict):
    file: str
    title: str


class Fact(_Strict):
    text: str
    source: str
    date: str
    kind: Literal["plan", "report", "record"]


class Portal(_Strict):
    name: str
    url: str | None
    source: str


class NationalSource(_Strict):
    name: str
    url: str
    collected: str
    note: str


class OnlineOverride(_Strict):
    level: OnlineLevel
    source: str
    date: str


class HanoiData(_Strict):
    national_source: NationalSource
    sources: dict[str, SourceDocument]
    facts: dict[str, Fact]
    where_by_level: dict[str, list[str]]
    portals: list[Portal]
    hotline: str
    feedback_email: str
    first_time_support: list[str]
    toan_trinh_codes: dict[str, OnlineOverride]

    @model_validator(mode="after")
    def _references_resolve(self) -> HanoiData:
        for fact_id, fact in self.facts.items():
            if fact.source not in self.sources and fact.source != "record":
                raise ValueError(f"fact {fact_id} cites unknown source {fact.source}")
        referenced = [fid for ids in self.where_by_level.values() for fid in ids] + self.first_time_support
        missing = [fid for fid in referenced if fid not in self.facts]
        if missing:
            raise ValueError(f"unknown fact ids {missing}")
        return self

    def fact(self, fact_id: str) -> Fact:
        return self.facts[fact_id]

    def citation(self, fact: Fact) -> str:
        """'(nguồn: <file>, <date>)' for seed facts; records cite themselves."""
        if fact.source == "record":
            return f"(nguồn: {self.national_source.name})"
        return f"(nguồn: {self.sources[fact.source].file}, {fact.date})"

    def where_facts(self, procedure: Procedure) -> list[Fact]:
        seen, facts = set(), []
        for level in procedure.levels:
            for fact_id in self.where_by_level.get(level, []):
                if fact_id not in seen:
                    seen.add(fact_id)
                    facts.append(self.facts[fact_id])
        return facts

    def online_level(self, procedure: Procedure) -> tuple[OnlineLevel, str]:
        """(level, source) — ``toan_trinh`` only where a source says so."""
        override = self.toan_trinh_codes.get(procedure.code)
        if override:
            return override.level, f"{self.sources[override.source].file}, {override.date}"
        name = f" {fold(procedure.name)} "
        if " toan trinh " in name and " mot phan " not in name:
            return "toan_trinh", f"tên thủ tục trên {self.national_source.name}"
        if procedure.has_online_channel:
            return "online", f"cách thức thực hiện trên {self.national_source.name}"
        return "offline", f"cách thức thực hiện trên {self.national_source.name}"


def load_hanoi_data(path: Path) -> HanoiData:
    with path.open(encoding="utf-8") as handle:
        return HanoiData.model_validate(yaml.safe_load(handle))


@lru_cache(maxsize=4)
def cached_hanoi_data(path: Path) -> HanoiData:
    return load_hanoi_data(path)
