"""Configuration of the knowledge layer, read from the environment (prefix ``TTHC_``).

Paths default to the layout of a checkout: the shared data beside the repository
(``../shared``) and the build artefacts under the user's cache directory.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

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

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"


@lru_cache(maxsize=1)
def get_settings() -> KnowledgeSettings:
    return KnowledgeSettings()
