"""The converted e5 model exported to ONNX and run by onnxruntime: the fast query encoder.

Same weights, same tokenizer, same mean pooling and normalisation as the sentence-transformers
path, in float32 — the vectors agree to cosine 1.0000 (tests/knowledge/retrieval/test_embedding.py) — but one short
query takes about 9 ms instead of about 22 ms on a 2-core machine (`./dev.sh bench` prints both),
because onnxruntime runs the whole graph without Python between the layers.

The graph is exported once from the sentence-transformers directory into ``onnx/`` beside it
(about 7 s) and reused; an export that fails leaves no file behind, and the factory falls back
to sentence-transformers.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge.retrieval.embedding.encoder import PASSAGE_PROMPT, QUERY_PROMPT, _model_id, prepare

# The same cap as SentenceTransformerEncoder.max_seq_length: longer texts are cut, not windowed.
MAX_TOKENS = 256
EXPORT_VERSION = 1
_GRAPH = Path("onnx") / "model.onnx"
_MARKER = Path("onnx") / "export.json"


def exported_graph(model_dir: Path) -> Path:
    """The ONNX graph of the model in ``model_dir``, exported on first use."""
    graph, marker = model_dir / _GRAPH, model_dir / _MARKER
    if graph.exists() and _export_version(marker) == EXPORT_VERSION:
        return graph
    _export(model_dir, graph)
    marker.write_text(json.dumps({"export_version": EXPORT_VERSION}), encoding="utf-8")
    return graph


def _export_version(marker: Path) -> int | None:
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("export_version")
    except (OSError, ValueError, AttributeError):
        return None


def _export(model_dir: Path, graph: Path) -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    transformer = SentenceTransformer(str(model_dir), device="cpu", model_kwargs={"dtype": torch.float32})
    bert = transformer[0].auto_model.eval()

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=torch.zeros_like(input_ids)
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    example = transformer.tokenizer(["query: xin chào"], return_tensors="pt")
    graph.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=".export-", suffix=".onnx", dir=graph.parent)
    os.close(handle)
    try:
        with torch.inference_mode():
            torch.onnx.export(
                MeanPooled(),
                (example["input_ids"], example["attention_mask"]),
                staging,
                input_names=["input_ids", "attention_mask"],
                output_names=["embedding"],
                dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}},
                opset_version=17,
                dynamo=False,
            )
        os.chmod(staging, 0o644)  # mkstemp makes it private; serving workers may run as another user
        os.replace(staging, graph)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


class OnnxEncoder:
    """onnxruntime over the exported graph; tokenised by the model's own tokenizer.json."""

    def __init__(self, model_dir: Path, batch_size: int = 32, threads: int | None = None) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(exported_graph(model_dir)), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._pad_id = self._tokenizer.token_to_id("<pad>") or 0
        self.batch_size = batch_size
        self.model_id = _model_id(model_dir)
        self.dimension = int(self._session.get_outputs()[0].shape[-1] or self._probe_dimension())
        self.name = f"onnxruntime:{self.model_id}"

    def _probe_dimension(self) -> int:
        return int(self._run(["query: x"]).shape[1])

    def _run(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(encoding.ids) for encoding in encodings)
        ids = np.full((len(encodings), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        return self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        prepared = [prompt + prepare(text) for text in texts]
        if not prepared:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # similar lengths together: padding costs time
        order = sorted(range(len(prepared)), key=lambda index: len(prepared[index]))
        vectors = np.zeros((len(prepared), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            vectors[chunk] = self._run([prepared[index] for index in chunk])
        return vectors

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, QUERY_PROMPT)

    def encode_document(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, PASSAGE_PROMPT)
