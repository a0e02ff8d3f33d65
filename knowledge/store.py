"""The built knowledge base on disk: parsed records, manifest, parse report.

Layout under ``<data_dir>/index``::

    builds/<build id>/procedures.jsonl   parsed, validated records
    builds/<build id>/manifest.json      what built it: source hash, parser version, record hashes
    builds/<build id>/parse_report.txt   the parse report printed by `build`
    builds/<build id>/parse_failures.json  codes that failed each table parser
    current -> builds/<build id>         swapped atomically; readers never see a half-written build

A build that fails leaves ``current`` pointing at the previous build.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from knowledge.errors import IndexNotBuilt, SourceNotFound
from knowledge.ingest.records import Procedure

FORMAT_VERSION = 1
_PARSER_FILES = (
    "knowledge/ingest/records.py",
    "knowledge/ingest/importer.py",
    "knowledge/ingest/parsing/channels.py",
    "knowledge/ingest/parsing/documents.py",
    "knowledge/ingest/parsing/legal.py",
    "knowledge/ingest/parsing/fields.py",
    "nlu/text.py",
)
_REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


def parser_version() -> str:
    """Hash of the code that turns source lines into records: changing it makes builds stale."""
    digest = hashlib.sha256()
    for relative in _PARSER_FILES:
        digest.update((_REPOSITORY_ROOT / relative).read_bytes())
    return digest.hexdigest()[:16]


def file_sha256(path: Path) -> str:
    if not path.exists():
        raise SourceNotFound(f"procedure source not found: {path} (set TTHC_SOURCE_PATH)")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Manifest:
    format_version: int
    parser_version: str
    source_path: str
    source_sha256: str
    records: int
    record_hashes: dict[str, str]
    built_at: str
    build_seconds: float

    @classmethod
    def read(cls, path: Path) -> Manifest:
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__, ensure_ascii=False, indent=1), encoding="utf-8")


class KnowledgeStore:
    """Reads and writes builds under one index directory."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self.builds_dir = index_dir / "builds"
        self.current_link = index_dir / "current"

    # -- reading ---------------------------------------------------------------------------

    def current_build(self) -> Path:
        if not self.current_link.exists():
            raise IndexNotBuilt(f"no knowledge base built in {self.index_dir}; run `python -m knowledge build`")
        return self.current_link.resolve()

    def manifest(self) -> Manifest:
        return Manifest.read(self.current_build() / "manifest.json")

    def load_procedures(self) -> list[Procedure]:
        build = self.current_build()
        manifest = Manifest.read(build / "manifest.json")
        if manifest.format_version != FORMAT_VERSION:
            raise IndexNotBuilt(
                f"the built knowledge base has format {manifest.format_version}, this code reads {FORMAT_VERSION}; "
                "run `python -m knowledge build`"
            )
        with (build / "procedures.jsonl").open(encoding="utf-8") as handle:
            return [Procedure.model_validate_json(line) for line in handle if line.strip()]

    def is_stale(self, source_path: Path, dense_model_id: str | None = None) -> bool:
        """True when nothing is built, the source or the parser changed, or the dense vectors
        are missing or were made by another model than ``dense_model_id``."""
        try:
            manifest = self.manifest()
        except (IndexNotBuilt, FileNotFoundError, json.JSONDecodeError, TypeError):
            return True
        if dense_model_id is not None:
            dense_manifest = self.current_build() / "dense_manifest.json"
            if not dense_manifest.exists():
                return True
            if json.loads(dense_manifest.read_text(encoding="utf-8")).get("model_id") != dense_model_id:
                return True
        return (
            manifest.format_version != FORMAT_VERSION
            or manifest.parser_version != parser_version()
            or manifest.source_sha256 != file_sha256(source_path)
        )

    def previous_build(self) -> Path | None:
        try:
            return self.current_build()
        except IndexNotBuilt:
            return None

    # -- writing ---------------------------------------------------------------------------

    def write_build(
        self,
        procedures: list[Procedure],
        manifest: Manifest,
        report_text: str,
        failures: dict,
        extra: Callable[[Path], None] | None = None,
    ) -> Path:
        """Write a complete build beside the others, then point ``current`` at it.

        ``extra`` writes more artefacts (the dense vectors) into the staging directory; if it
        fails, nothing is swapped and the previous build keeps serving.
        """
        self.builds_dir.mkdir(parents=True, exist_ok=True)
        build_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        staging = self.builds_dir / f".staging-{build_id}"
        staging.mkdir()
        try:
            with (staging / "procedures.jsonl").open("w", encoding="utf-8") as handle:
                for procedure in procedures:
                    handle.write(procedure.model_dump_json() + "\n")
            manifest.write(staging / "manifest.json")
            (staging / "parse_report.txt").write_text(report_text + "\n", encoding="utf-8")
            (staging / "parse_failures.json").write_text(json.dumps(failures, indent=1), encoding="utf-8")
            if extra is not None:
                extra(staging)
            final = self.builds_dir / build_id
            staging.rename(final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._point_current_at(final)
        self._remove_old_builds(keep=final)
        return final

    def _point_current_at(self, build: Path) -> None:
        temporary_link = self.index_dir / f".current-{uuid.uuid4().hex[:6]}"
        os.symlink(os.path.relpath(build, self.index_dir), temporary_link)
        os.replace(temporary_link, self.current_link)

    def _remove_old_builds(self, keep: Path, retain: int = 2) -> None:
        builds = sorted(
            (b for b in self.builds_dir.iterdir() if b.is_dir() and not b.name.startswith(".")), reverse=True
        )
        for old in builds[retain:]:
            if old != keep:
                shutil.rmtree(old, ignore_errors=True)
