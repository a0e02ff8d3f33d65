"""Field-level precision of the parser against hand-checked records (tests/data/handchecked).

Each JSON file there holds what a careful reader wrote as the true structured content of one
record; this compares the parser's output with it key by key, the way REVIEW.md counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.ingest.records import Procedure

CHECKED_KEYS = (
    "code",
    "name",
    "url",
    "decision",
    "levels",
    "procedure_type",
    "field",
    "applicants",
    "authorities",
    "receiving_address",
    "channels",
    "documents",
    "legal_basis",
    "results",
    "conditions",
    "related",
    "steps_count",
)


def parsed_view(procedure: Procedure) -> dict:
    """The parser's output in the hand-checked files' shape."""
    data = procedure.model_dump(include=set(CHECKED_KEYS) - {"steps_count"}, mode="json")
    data["steps_count"] = len(procedure.steps)
    return {key: data[key] for key in CHECKED_KEYS}


@dataclass
class Comparison:
    checked: int = 0
    wrong: dict[str, list[str]] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        errors = sum(len(codes) for codes in self.wrong.values())
        return (self.checked - errors) / self.checked if self.checked else 1.0

    def lines(self) -> list[str]:
        errors = sum(len(codes) for codes in self.wrong.values())
        lines = [f"fields checked: {self.checked}, wrong: {errors}, field-level precision: {self.precision:.4f}"]
        lines += [f"  {key}: {len(codes)} wrong ({', '.join(codes)})" for key, codes in sorted(self.wrong.items())]
        return lines


def compare(procedures: dict[str, Procedure], directory: Path) -> Comparison:
    comparison = Comparison()
    for path in sorted(directory.glob("*.json")):
        expected = json.loads(path.read_text(encoding="utf-8"))
        actual = parsed_view(procedures[expected["code"]])
        for key in CHECKED_KEYS:
            comparison.checked += 1
            if actual[key] != expected[key]:
                comparison.wrong.setdefault(key, []).append(expected["code"])
    return comparison
