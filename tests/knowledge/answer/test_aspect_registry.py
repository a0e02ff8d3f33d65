"""The aspect registry and the language layer's cue phrases describe the same aspects."""

from __future__ import annotations

from knowledge.answer.aspects import ASPECT_REGISTRY
from nlu.aspects import ASPECTS, STRONG_CUES


def test_every_aspect_the_language_layer_knows_is_registered_once() -> None:
    assert sorted(ASPECT_REGISTRY.card_order) == sorted(ASPECTS)
    assert len(ASPECT_REGISTRY) == len(ASPECTS)


def test_every_aspect_has_cue_phrases() -> None:
    assert {aspect for aspect, phrases in STRONG_CUES if phrases} == set(ASPECTS)


def test_the_card_starts_with_the_overview_and_every_section_is_written(fixture_procedures, hanoi) -> None:
    assert ASPECT_REGISTRY.card_order[0] == "general"
    procedure = fixture_procedures["1.001193"]
    for spec in ASPECT_REGISTRY:
        lines = spec.compose(hanoi, procedure)
        assert spec.title and lines and all(isinstance(line, str) and line for line in lines), spec.id


def test_the_follow_up_buttons_are_the_common_questions() -> None:
    assert [spec.id for spec in ASPECT_REGISTRY.buttons] == ["documents", "fee", "time", "where", "online"]
