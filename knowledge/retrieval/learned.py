"""Learned parameters: each in a file of ``knowledge/data/learned`` that says what it was trained on.

The dev set measures and never trains (see the README's *Measuring*); a file whose
``fit_on_dev`` is true is still waiting to be refit on the training set, and ``eval`` says so
next to its figures.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

LEARNED_DIR = Path(__file__).resolve().parent.parent / "data" / "learned"
NAMES = ("rerank", "confidence")


class LearnedParameters(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str
    trained_on: str
    fit_on_dev: bool
    method: str
    held_out: dict[str, float]
    weights: dict[str, float]
    bias: float | None = None
    threshold: float | None = None


@lru_cache(maxsize=len(NAMES))
def learned(name: str, directory: Path = LEARNED_DIR) -> LearnedParameters:
    """The parameters called ``name``; a missing or malformed file stops the import, naming the file."""
    path = directory / f"{name}.json"
    return LearnedParameters.model_validate(json.loads(path.read_text(encoding="utf-8")))


def write_learned(parameters: LearnedParameters, directory: Path = LEARNED_DIR) -> Path:
    """Replace the file of ``parameters.name`` (what the tune commands learned)."""
    path = directory / f"{parameters.name}.json"
    body = parameters.model_dump(exclude_none=True)
    path.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    learned.cache_clear()
    return path


def provenance_lines() -> list[str]:
    """What each learned parameter file was trained on, for the ``eval`` report."""
    lines = []
    for name in NAMES:
        parameters = learned(name)
        held_out = ", ".join(f"{key} {value:.3f}" for key, value in parameters.held_out.items())
        warning = "  ← fit on the dev set: dev figures are in-sample" if parameters.fit_on_dev else ""
        lines.append(f"{name}: trained on {parameters.trained_on}; held out {held_out}{warning}")
    return lines
