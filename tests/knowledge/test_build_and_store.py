"""Builds: parse report at the aims, manifest, atomic swap, staleness."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from knowledge.build import build
from knowledge.errors import BadRecord, IndexNotBuilt
from knowledge.settings import KnowledgeSettings
from knowledge.store import KnowledgeStore
from tests.conftest import FIXTURE_RECORDS


@pytest.mark.slow
def test_parse_report_meets_the_aims(full_report) -> None:
    report = full_report
    assert report.records == 2642
    assert report.with_documents / report.records >= 0.98
    assert report.channel_rows_with_time / report.channel_rows >= 0.95
    assert report.channel_rows_with_fee / report.channel_rows >= 0.95
    assert report.legal_records_parsed / report.legal_records >= 0.95


@pytest.mark.slow
def test_build_writes_manifest_and_failure_file(full_build) -> None:
    build_dir, report, manifest = full_build
    assert manifest.records == 2642 and len(manifest.record_hashes) == 2642
    failures = json.loads((build_dir / "parse_failures.json").read_text())
    assert set(failures) == {"documents", "channels", "legal_basis"}
    assert failures["legal_basis"] == report.failures["legal_basis"]


def _settings(tmp_path: Path, source: Path) -> KnowledgeSettings:
    return KnowledgeSettings(
        source_path=source, data_dir=tmp_path / "data", query_encoder="fake", document_encoder="fake"
    )


def test_small_build_and_staleness(tmp_path: Path) -> None:
    source = tmp_path / "source.jsonl"
    shutil.copy(FIXTURE_RECORDS, source)
    settings = _settings(tmp_path, source)
    store = KnowledgeStore(settings.index_dir)
    assert store.is_stale(source)
    with pytest.raises(IndexNotBuilt):
        store.load_procedures()
    build(settings, progress=False)
    assert not store.is_stale(source)
    assert len(store.load_procedures()) == 47
    with source.open("a", encoding="utf-8") as handle:
        handle.write("\n")
    source.write_text(source.read_text(encoding="utf-8").replace("Miễn phí", "Miễn  phí", 1), encoding="utf-8")
    assert store.is_stale(source)


def test_failed_build_keeps_the_previous_one(tmp_path: Path) -> None:
    source = tmp_path / "source.jsonl"
    shutil.copy(FIXTURE_RECORDS, source)
    settings = _settings(tmp_path, source)
    first_dir, _, _ = build(settings, progress=False)
    lines = source.read_text(encoding="utf-8").splitlines()
    broken = json.loads(lines[0])
    broken["cap_thuc_hien"] = "Cấp quận"  # not a level that exists since 07/2025
    source.write_text("\n".join([json.dumps(broken, ensure_ascii=False), *lines[1:]]) + "\n", encoding="utf-8")
    with pytest.raises(BadRecord) as error:
        build(settings, progress=False)
    assert broken["ma_thu_tuc"] in str(error.value)
    store = KnowledgeStore(settings.index_dir)
    assert store.current_build() == first_dir.resolve()
    assert len(store.load_procedures()) == 47


def test_duplicate_codes_stop_the_build(tmp_path: Path) -> None:
    source = tmp_path / "source.jsonl"
    first_line = FIXTURE_RECORDS.read_text(encoding="utf-8").splitlines()[0]
    source.write_text(first_line + "\n" + first_line + "\n", encoding="utf-8")
    with pytest.raises(BadRecord, match="duplicate"):
        build(_settings(tmp_path, source), progress=False)


def test_a_rebuild_reuses_unchanged_records_and_vectors(tmp_path: Path, capsys) -> None:
    source = tmp_path / "source.jsonl"
    shutil.copy(FIXTURE_RECORDS, source)
    settings = _settings(tmp_path, source)
    build(settings, progress=False)
    lines = source.read_text(encoding="utf-8").splitlines()
    changed = json.loads(lines[3])
    changed["ten_thu_tuc"] += " (sửa đổi)"
    source.write_text(
        "\n".join([*lines[:3], json.dumps(changed, ensure_ascii=False), *lines[4:]]) + "\n", encoding="utf-8"
    )
    capsys.readouterr()
    build_dir, _, _ = build(settings, progress=False)
    messages = capsys.readouterr().err
    assert "46 unchanged records reused from the last build, 1 parsed" in messages
    assert "46 reused" in messages  # dense vectors
    procedures = KnowledgeStore(settings.index_dir).load_procedures()
    assert procedures[3].name.endswith("(sửa đổi)")
    assert (build_dir / "dense_vectors.npy").exists()
