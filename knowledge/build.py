"""`python -m knowledge build`: parse the source, report coverage, write a build atomically."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tqdm import tqdm

from knowledge.errors import BadRecord, IndexNotBuilt
from knowledge.ingest.importer import ParseReport, content_hash, count, parse_record, read_raw_records
from knowledge.ingest.records import Procedure
from knowledge.retrieval.dense import build_vectors
from knowledge.retrieval.embedding.factory import document_encoder, query_encoder
from knowledge.settings import KnowledgeSettings
from knowledge.store import FORMAT_VERSION, KnowledgeStore, Manifest, file_sha256, parser_version


def build(settings: KnowledgeSettings, progress: bool = True) -> tuple[Path, ParseReport, Manifest]:
    """Parse every record (and encode the changed ones) into a new build; returns (build dir, report, manifest)."""
    started = time.perf_counter()
    source = settings.effective_source_path
    source_hash = file_sha256(source)
    report = ParseReport()
    procedures: list[Procedure] = []
    seen: set[str] = set()
    with source.open(encoding="utf-8") as handle:
        total = sum(1 for line in handle if line.strip())
    raw_records = read_raw_records(source)
    iterator = tqdm(raw_records, total=total, desc="parse", unit="rec", file=sys.stderr, disable=not progress)
    reusable = _previous_procedures(KnowledgeStore(settings.index_dir))
    reused = 0
    for raw in iterator:
        previous = reusable.get(str(raw.get("ma_thu_tuc", "")))
        if previous is not None and previous.content_hash == content_hash(raw):
            # unchanged source record, same parser: the last build's parse is this build's parse
            procedure, reused = previous, reused + 1
            count(report, procedure)
        else:
            procedure = parse_record(raw, report)
        if procedure.code in seen:
            raise BadRecord(procedure.code, "duplicate procedure code")
        seen.add(procedure.code)
        procedures.append(procedure)
    if reused:
        print(
            f"{reused} unchanged records reused from the last build, {len(procedures) - reused} parsed", file=sys.stderr
        )
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        parser_version=parser_version(),
        source_path=str(source),
        source_sha256=source_hash,
        records=len(procedures),
        record_hashes={p.code: p.content_hash for p in procedures},
        built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        build_seconds=round(time.perf_counter() - started, 2),
    )
    store = KnowledgeStore(settings.index_dir)
    encoder = document_encoder(settings) if settings.dense_enabled else None
    previous = store.previous_build()

    def write_dense(directory: Path) -> None:
        if encoder is not None:
            dense = build_vectors(procedures, encoder, directory, previous)
            print(
                f"dense: {len(procedures)} passages with {dense.encoder} ({dense.dimension} dims), "
                f"{dense.reused} reused, {dense.encode_seconds:.1f} s",
                file=sys.stderr,
            )

    build_dir = store.write_build(procedures, manifest, "\n".join(report.lines()), report.failures, write_dense)
    return build_dir, report, manifest


def _previous_procedures(store: KnowledgeStore) -> dict[str, Procedure]:
    try:
        if store.manifest().parser_version != parser_version():
            return {}
        return {procedure.code: procedure for procedure in store.load_procedures()}
    except (IndexNotBuilt, FileNotFoundError, ValueError, TypeError):
        return {}


def ensure_built(settings: KnowledgeSettings, progress: bool = True) -> KnowledgeStore:
    """Build when nothing is built or the build is stale; return the store."""
    store = KnowledgeStore(settings.index_dir)
    encoder = query_encoder(settings) if settings.dense_enabled else None
    if store.is_stale(settings.effective_source_path, encoder.model_id if encoder else None):
        print("knowledge base missing or stale — building", file=sys.stderr)
        build(settings, progress=progress)
    return store
