"""The Rasa project's files, checked without Rasa: test messages unseen in training, coverage, life events."""

from __future__ import annotations

import pytest
import yaml

from knowledge.answer.life_events import load_life_events
from knowledge.settings import REPOSITORY_ROOT
from nlu.text import normalize

BOT = REPOSITORY_ROOT / "bot"


def _load(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _examples(path) -> dict[str, list[str]]:
    by_intent: dict[str, list[str]] = {}
    for item in _load(path)["nlu"]:
        if "intent" in item:
            lines = [line.strip()[2:].strip() for line in item["examples"].splitlines() if line.strip()]
            by_intent.setdefault(item["intent"], []).extend(lines)
    return by_intent


def _key(text: str) -> str:
    return " ".join(normalize(text).lower().split())


def _test_stories() -> list[dict]:
    return _load(BOT / "tests" / "test_stories.yml")["stories"]


def test_test_messages_do_not_appear_in_the_training_data() -> None:
    training = {_key(text) for texts in _examples(BOT / "data" / "nlu.yml").values() for text in texts}
    story_messages = [step["user"] for story in _test_stories() for step in story["steps"] if "user" in step]
    held_out = [text for texts in _examples(BOT / "tests" / "nlu_heldout.yml").values() for text in texts]
    assert [text for text in story_messages if _key(text) in training] == []
    assert [text for text in held_out if _key(text) in training] == []


def test_every_intent_has_varied_examples_with_and_without_diacritics() -> None:
    from nlu.text import has_diacritics

    domain_intents = set(_load(BOT / "domain.yml")["intents"])
    examples = _examples(BOT / "data" / "nlu.yml")
    assert set(examples) == domain_intents
    for intent, texts in examples.items():
        assert len(texts) >= 20, intent
        assert any(has_diacritics(text) for text in texts), intent
        assert intent == "choose_option" or sum(not has_diacritics(text) for text in texts) >= 4, intent
    held_out = _examples(BOT / "tests" / "nlu_heldout.yml")
    assert set(held_out) == domain_intents


def test_the_test_stories_cover_what_the_issue_asks() -> None:
    stories = _test_stories()
    assert len(stories) >= 25
    steps = [step for story in stories for step in story["steps"]]
    intents = {step["intent"] for step in steps if "intent" in step}
    actions = {step["action"] for step in steps if "action" in step}
    assert {"ask_procedure", "ask_aspect", "choose_option", "how_online", "stuck", "human_handover"} <= intents
    assert {"life_event", "chitchat", "affirm", "deny", "thanks", "goodbye", "greet", "out_of_scope"} <= intents
    assert {"action_guide_finish", "action_stuck_help", "action_handover", "action_life_event"} <= actions
    messages = [step["user"] for step in steps if "user" in step]
    from nlu.text import has_diacritics

    assert sum(has_diacritics(text) for text in messages) >= 10
    assert sum(not has_diacritics(text) for text in messages) >= 10


def test_life_events_name_known_codes_and_match_their_cues(fixture_procedures) -> None:
    events = load_life_events()
    assert {event.key for event in events.events} == {"birth", "marriage", "business", "death", "moving"}
    assert all(code.count(".") == 1 for code in events.codes)
    assert events.match("Tôi vừa sinh con").key == "birth"
    assert events.match("toi sap ket hon").key == "marriage"
    assert events.match("mở quán kinh doanh").key == "business"
    assert events.match("tôi mất giấy khai sinh") is None  # "mất" (lost) is not a death
    assert events.by_key("birth").codes[:2] == ["2.000986", "2.001023"]  # the combined records first


@pytest.mark.slow
def test_every_curated_code_is_a_procedure_of_the_full_knowledge_base(service) -> None:
    from knowledge.answer.guide import VNEID_ACCOUNT_CODE

    known = {procedure.code for procedure in service.searcher.procedures}
    assert [code for code in [*load_life_events().codes, VNEID_ACCOUNT_CODE] if code not in known] == []
    assert "định danh điện tử mức độ 02" in service.procedure(VNEID_ACCOUNT_CODE).name
