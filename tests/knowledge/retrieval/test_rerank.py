"""The reranker's features on the fixture corpus, and the two learners of knowledge.evaluation.tuning on
small lists made here (fast: no model, no full build)."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.evaluation.quality import LabelledQuestion
from knowledge.evaluation.tuning import _Observed, _ShortList, fit_confidence, fit_listwise, ranks
from knowledge.retrieval.query import analyze
from knowledge.retrieval.rerank import FEATURES, Reranker
from knowledge.retrieval.search import Searcher


@pytest.fixture(scope="module")
def searcher(fixture_procedures) -> Searcher:
    return Searcher(list(fixture_procedures.values()))


def _features_of(searcher: Searcher, question: str, code: str) -> dict[str, float]:
    query = analyze(question)
    position = next(i for i, p in enumerate(searcher.procedures) if p.code == code)
    row = searcher.ranker.reranker.features(query, [position], searcher.ranker.signals(query))[0]
    return dict(zip(FEATURES, row))


def test_features_say_where_the_question_is_answered(searcher) -> None:
    question = "đăng ký tạm trú ở phường cần giấy tờ gì"
    features = _features_of(searcher, question, "1.004194")
    foreigners_card = _features_of(searcher, question, "1.003358")  # "Cấp thẻ tạm trú cho người nước ngoài ..."
    assert features["commune_level"] == 1.0 and foreigners_card["commune_level"] == 0.0  # the ward handles it
    assert features["citizens"] == 1.0
    assert features["name_said"] > foreigners_card["name_said"]  # the question says its name, not the other's
    assert features["missing_actions"] == 0
    assert 0 < features["documents"] <= 1 and 0 <= features["steps"] <= 1


def test_an_act_the_name_lacks_is_counted(searcher) -> None:
    features = _features_of(searcher, "gia hạn tạm trú", "1.004194")
    assert features["missing_actions"] == 1  # "Đăng ký tạm trú" does not extend a stay


def test_a_lifecycle_act_the_name_lacks_is_counted(searcher) -> None:
    # "thành lập" is not a variant marker, but "Đăng ký tạm trú" does not found anything
    assert _features_of(searcher, "thành lập hộ kinh doanh", "1.004194")["missing_actions"] == 1
    assert _features_of(searcher, "cấp đổi căn cước", "1.004194")["missing_actions"] == 1  # one act, not two


def test_numbers_in_names_agree_or_conflict() -> None:
    from knowledge.retrieval.rerank import _agreement, numbers_in

    named_first = numbers_in("Cấp tài khoản định danh điện tử mức độ 01 cho công dân")
    named_second = numbers_in("Cấp tài khoản định danh điện tử mức độ 02")
    asked = numbers_in("tài khoản định danh mức 1", words=False)
    assert _agreement(asked, named_first) == 1.0 and _agreement(asked, named_second) == -1.0
    assert numbers_in("công ty TNHH hai thành viên trở lên") == {"2"}
    assert numbers_in("chứng chỉ hạng II") == {"2"}
    assert _agreement(frozenset(), named_first) == 0.0  # the question names no number: no opinion


def test_field_channels_find_a_procedure_by_its_documents(searcher) -> None:
    # the question names none of the procedure's words, only a document it asks for
    query = analyze("phiếu khai báo tạm trú")
    documents = searcher.ranker.index.field_scores(query)["documents"]
    best = searcher.procedures[int(np.argmax(documents))]
    assert any("tạm trú" in document.name.lower() for document in best.documents)


def test_reranking_can_be_switched_off(searcher) -> None:
    from dataclasses import replace

    plain = searcher.with_params(replace(searcher.params, rerank=False))
    with_rerank = searcher.search("đăng ký tạm trú")
    without = plain.search("đăng ký tạm trú")
    assert with_rerank.best.code == without.best.code == "1.004194"
    assert with_rerank.best.score != without.best.score  # the features add to the first-stage score


def test_zero_weights_keep_the_first_stage_order(searcher) -> None:
    assert not Reranker(searcher.procedures, weights={}).weights.any()


def _question(expected: str = "1.000000") -> LabelledQuestion:
    return LabelledQuestion(expected, "q", "test", "procedure", (expected,), "general")


def test_listwise_learner_finds_the_feature_that_points_at_the_right_candidate() -> None:
    rng = np.random.default_rng(0)
    lists = []
    for index in range(60):
        right = np.zeros(10, dtype=bool)
        right[rng.integers(10)] = True
        features = rng.normal(size=(10, len(FEATURES)))
        features[:, 0] += 2.0 * right  # the "documents" feature marks the right one
        first_stage = rng.normal(size=10)  # the first stage is no help here
        lists.append(_ShortList(_question(f"1.{index:06d}"), False, first_stage, features, right))
    weights = fit_listwise(lists, regularisation=0.01)
    assert weights[1] > 0 and abs(weights[1]) == max(abs(weights))
    assert np.mean(ranks(lists, weights) == 1) > np.mean(ranks(lists, None) == 1) + 0.3


def test_confidence_learner_separates_questions_inside_and_outside() -> None:
    rng = np.random.default_rng(1)
    observed = []
    for index in range(80):
        inside = index % 2 == 0
        features = rng.normal(size=8)
        features[3] += 1.5 if inside else -1.5  # the cosine tells them apart
        question = LabelledQuestion(
            str(index), "q", "test", "procedure" if inside else "out_of_kb", ("1.000001",) if inside else (), "general"
        )
        observed.append(_Observed(question, False, False, 0.0, features))
    weights, bias = fit_confidence(observed)
    scores = np.array([o.features @ weights + bias for o in observed])
    inside = np.array([o.question.in_knowledge_base for o in observed])
    assert weights[3] > 0 and scores[inside].mean() > scores[~inside].mean()


def test_a_negated_case_agrees_only_with_the_name_that_negates_it() -> None:
    from knowledge.retrieval.rerank import _negation_agreement, negations

    question = negations("hồ sơ nhập khẩu thủy sản sống trường hợp không phải đánh giá rủi ro gồm gì?")[0]
    negated = negations("Cấp giấy phép nhập khẩu thủy sản sống đối với trường hợp không phải đánh giá rủi ro")
    affirmed = negations("Cấp giấy phép nhập khẩu thủy sản sống đối với trường hợp phải đánh giá rủi ro")
    assert _negation_agreement(question, negated) == 1.0
    assert _negation_agreement(question, affirmed) == -1.0
    # "không" closing a yes/no question negates nothing across the comma
    assert negations("có cần xác nhận không, có phải hợp pháp hóa không?")[0] == frozenset()


def test_the_threshold_is_the_most_abstention_within_the_false_abstention_budget() -> None:
    from knowledge.evaluation.quality import LabelledQuestion
    from knowledge.evaluation.tuning import _best_threshold

    def observed(kind: str, index: int) -> _Observed:
        expected = ("1.0",) if kind == "procedure" else ()
        question = LabelledQuestion(f"{kind}{index}", "q", "t", kind, expected, "general")
        return _Observed(question, False, False, 0.0, None)

    inside = [observed("procedure", i) for i in range(100)]
    outside = [observed("out_of_kb", i) for i in range(10)]
    # procedure questions score 0..99; refusals score 0..9: a threshold t refuses t procedure questions
    scores = [float(i) for i in range(100)] + [float(i) for i in range(10)]
    assert _best_threshold(inside + outside, scores, [float(t) for t in range(12)]) == 3.0
