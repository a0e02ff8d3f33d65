"""Regression floors on the dev set (lexical retrieval alone), so later changes cannot lose them.

The floors are the issue's; the figures we reach are printed by `python -m knowledge eval`.
"""

from __future__ import annotations

import pytest

from knowledge.evaluation import metrics, read_questions, run
from tests.conftest import DEV_SET

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def outcomes(service):
    if not DEV_SET.exists():
        pytest.skip("dev set not found")
    return run(read_questions(DEV_SET), service.search)


def test_dev_set_floors(outcomes) -> None:
    figures = metrics(outcomes)
    assert figures["top3"] >= 0.80, figures
    assert figures["abstention"] >= 0.50, figures
    assert figures["false_abstention"] <= 0.10, figures
    assert figures["aspect_accuracy"] >= 0.85, figures


def test_no_diacritics_floors(service) -> None:
    figures = metrics(run(read_questions(DEV_SET), service.search, fold_questions=True))
    assert figures["top3"] >= 0.80, figures
    assert figures["false_abstention"] <= 0.10, figures
