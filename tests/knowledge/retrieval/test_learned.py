"""Learned parameters come from files that say what they were trained on."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from knowledge.retrieval.decide import CONFIDENCE_BIAS, CONFIDENCE_FEATURES, CONFIDENCE_WEIGHTS
from knowledge.retrieval.learned import LEARNED_DIR, NAMES, learned, provenance_lines
from knowledge.retrieval.params import SearchParams
from knowledge.retrieval.rerank import FEATURES, RERANK_WEIGHTS


def test_every_file_names_its_training_data_and_held_out_figures() -> None:
    for name in NAMES:
        parameters = learned(name)
        assert parameters.trained_on and parameters.method and parameters.held_out, name


def test_the_weights_cover_exactly_the_features() -> None:
    assert set(RERANK_WEIGHTS) == set(FEATURES)
    assert set(CONFIDENCE_WEIGHTS) == set(CONFIDENCE_FEATURES)
    assert learned("confidence").bias == CONFIDENCE_BIAS
    assert SearchParams().abstain_below_confidence == learned("confidence").threshold


def test_eval_says_when_a_file_was_fit_on_the_dev_set() -> None:
    lines = provenance_lines()
    assert len(lines) == len(NAMES)
    for name, line in zip(NAMES, lines):
        assert ("fit on the dev set" in line) == learned(name).fit_on_dev


def test_a_file_with_an_unknown_field_is_refused(tmp_path) -> None:
    content = json.loads((LEARNED_DIR / "rerank.json").read_text(encoding="utf-8"))
    (tmp_path / "rerank.json").write_text(json.dumps({**content, "typo": 1}), encoding="utf-8")
    with pytest.raises(ValidationError):
        learned("rerank", tmp_path)


def test_written_parameters_read_back_the_same(tmp_path) -> None:
    from knowledge.retrieval.learned import write_learned

    parameters = learned("confidence")
    write_learned(parameters, tmp_path)
    assert learned("confidence", tmp_path) == parameters


def test_the_tune_commands_refuse_to_write_from_the_dev_set(capsys) -> None:
    from knowledge.cli import main
    from knowledge.settings import REPOSITORY_ROOT

    dev = REPOSITORY_ROOT.parent / "shared" / "eval" / "dev.jsonl"
    assert main(["tune-rerank", str(dev), "--write"]) == 2
    assert "the dev set measures" in capsys.readouterr().err
