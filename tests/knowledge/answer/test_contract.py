"""The answer contract: what the service returns is what a door rebuilds from a bot message."""

from __future__ import annotations

import pytest

from knowledge.answer.contract import PAYLOAD_CANDIDATES, Answer, answer_from_payload, answer_payload


def test_an_answer_survives_the_trip_through_a_bot_message(fixture_service) -> None:
    answer = fixture_service.ask("đăng ký khai sinh cần giấy tờ gì")
    carried = answer_from_payload(answer_payload(answer))
    assert carried == answer.model_copy(update={"candidates": answer.candidates[:PAYLOAD_CANDIDATES]})
    assert carried.procedure.code == "1.001193" and carried.citation_url == answer.procedure.url


def test_a_clarification_carries_its_options_with_names(fixture_service) -> None:
    answer = fixture_service.ask("làm thẻ căn cước")
    carried = answer_from_payload(answer_payload(answer))
    assert [(o.code, o.name) for o in carried.options] == [(o.code, o.name) for o in answer.options]


@pytest.mark.parametrize(
    "custom",
    [
        None,
        "answer",
        {},
        {"answer": None},
        {"answer": {"decision": "maybe", "aspect": "general", "text": ""}},
        {"answer": {"decision": "answer", "aspect": "general", "text": "", "options": 5}},
        {"answer": {"decision": "answer", "aspect": "opening_hours", "text": ""}},
        {"answer": {"decision": "answer", "aspect": "general", "text": "", "procedure": {"code": 1}}},
    ],
)
def test_a_payload_that_is_not_an_answer_is_none(custom: object) -> None:
    assert answer_from_payload(custom) is None


def test_an_answer_is_immutable() -> None:
    answer = Answer(decision="abstain", aspect="general", text="x")
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error type is internal
        answer.text = "y"  # type: ignore[misc]


def test_every_payload_of_the_rasa_domain_is_an_answer() -> None:
    import yaml

    from tests.conftest import TESTS_DIR

    domain = yaml.safe_load((TESTS_DIR.parent / "bot" / "domain.yml").read_text(encoding="utf-8"))
    payloads = [
        (name, variant["custom"])
        for name, variants in domain["responses"].items()
        for variant in variants
        if "custom" in variant
    ]
    assert payloads, "the domain's out-of-scope response carries its decision"
    for name, custom in payloads:
        carried = answer_from_payload(custom)
        assert carried is not None, name
        assert carried.decision == custom["answer"]["decision"], name
