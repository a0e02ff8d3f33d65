"""Dense retrieval: one passage per procedure (its name and field), a faiss inner-product
index over L2-normalised e5 vectors, persisted inside the build with a manifest.

The vectors of a procedure are reused by the next build when its passage text is unchanged,
so refreshing the knowledge base re-encodes only what changed. An index written for another
model (or dimension) is refused with a message that says how to rebuild.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from knowledge.errors import IndexNotBuilt
from knowledge.ingest.records import Procedure
from knowledge.retrieval.embedding.encoder import Encoder

VECTORS_FILE = "dense_vectors.npy"
MANIFEST_FILE = "dense_manifest.json"


def passage_text(procedure: Procedure) -> str:
    """What the encoder sees for a procedure: the name says what it is; the field adds context."""
    return f"{procedure.name}. {procedure.field or ''}".strip(" .")


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class DenseManifest:
    model_id: str
    encoder: str
    dimension: int
    codes: list[str]
    text_hashes: list[str]
    built_at: str
    encode_seconds: float
    reused: int


def build_vectors(
    procedures: Sequence[Procedure], encoder: Encoder, directory: Path, previous: Path | None = None
) -> DenseManifest:
    """Encode every procedure's passage into ``directory``, reusing unchanged vectors of ``previous``."""
    started = time.perf_counter()
    texts = [passage_text(p) for p in procedures]
    hashes = [_text_hash(text) for text in texts]
    vectors = np.zeros((len(texts), encoder.dimension), dtype=np.float32)
    reusable = _previous_vectors(previous, encoder)
    todo = [i for i, h in enumerate(hashes) if h not in reusable]
    for i, h in enumerate(hashes):
        if h in reusable:
            vectors[i] = reusable[h]
    if todo:
        vectors[todo] = encoder.encode_document([texts[i] for i in todo])
    np.save(directory / VECTORS_FILE, vectors)
    manifest = DenseManifest(
        model_id=encoder.model_id,
        encoder=encoder.name,
        dimension=encoder.dimension,
        codes=[p.code for p in procedures],
        text_hashes=hashes,
        built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        encode_seconds=round(time.perf_counter() - started, 2),
        reused=len(texts) - len(todo),
    )
    (directory / MANIFEST_FILE).write_text(json.dumps(asdict(manifest)), encoding="utf-8")
    return manifest


def _previous_vectors(previous: Path | None, encoder: Encoder) -> dict[str, np.ndarray]:
    if previous is None or not (previous / MANIFEST_FILE).exists():
        return {}
    try:
        manifest = DenseManifest(**json.loads((previous / MANIFEST_FILE).read_text(encoding="utf-8")))
        if manifest.model_id != encoder.model_id or manifest.dimension != encoder.dimension:
            return {}
        vectors = np.load(previous / VECTORS_FILE)
    except (OSError, ValueError, TypeError):
        return {}
    return dict(zip(manifest.text_hashes, vectors))


class DenseIndex:
    """Inner-product search over the build's vectors (faiss, imported lazily)."""

    def __init__(self, directory: Path, encoder: Encoder, codes: Sequence[str]) -> None:
        manifest_path = directory / MANIFEST_FILE
        if not manifest_path.exists():
            raise IndexNotBuilt(f"no dense vectors in {directory}; run `python -m knowledge build`")
        manifest = DenseManifest(**json.loads(manifest_path.read_text(encoding="utf-8")))
        if manifest.model_id != encoder.model_id or manifest.dimension != encoder.dimension:
            raise IndexNotBuilt(
                f"the dense index was built with {manifest.model_id!r} ({manifest.dimension} dimensions) but the "
                f"configured encoder is {encoder.model_id!r} ({encoder.dimension}); rebuild with `python -m knowledge build`"
            )
        if list(codes) != manifest.codes:
            raise IndexNotBuilt("the dense index does not match the records of this build; rebuild it")
        import faiss

        vectors = np.load(directory / VECTORS_FILE).astype(np.float32)
        self._index = faiss.IndexFlatIP(manifest.dimension)
        self._index.add(vectors)
        self.encoder = encoder
        self.manifest = manifest
        self.size = len(codes)

    def scores(self, query_text: str) -> np.ndarray:
        """Cosine of the query with every procedure, in record order (the fusion needs them all).

        faiss, not a numpy product: numpy's BLAS threads keep spinning after a call and then
        fight torch's threads for the two cores (measured: the encoder became five times slower).
        """
        similarities, positions = self._index.search(self.encoder.encode_query([query_text]), self.size)
        scores = np.empty(self.size, dtype=np.float32)
        scores[positions[0]] = similarities[0]
        return scores
