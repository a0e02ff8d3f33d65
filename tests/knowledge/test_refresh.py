"""Refreshing the knowledge base from a newly published file: diff report, incremental build, swap."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.errors import SourceNotFound
from knowledge.refresh import refresh
from knowledge.settings import KnowledgeSettings
from knowledge.store import KnowledgeStore
from tests.conftest import FIXTURE_RECORDS


def write_source(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), encoding="utf-8")
    return path


@pytest.fixture
def fixture_raw_records() -> list[dict]:
    return [json.loads(line) for line in FIXTURE_RECORDS.read_text(encoding="utf-8").splitlines() if line.strip()]


def lexical_settings(tmp_path: Path, source: Path) -> KnowledgeSettings:
    return KnowledgeSettings(
        source_path=source, data_dir=tmp_path / "data", query_encoder="none", document_encoder="none"
    )


def test_refresh_reports_added_removed_and_changed_fields(tmp_path: Path, fixture_raw_records) -> None:
    from knowledge.build import build

    first = write_source(tmp_path / "v1.jsonl", fixture_raw_records)
    settings = lexical_settings(tmp_path, first)
    build(settings, progress=False)
    records = [dict(record) for record in fixture_raw_records]
    removed = records.pop(0)
    changed = next(record for record in records if record["ma_thu_tuc"] == "1.001193")
    changed["cach_thuc_thuc_hien"] = changed["cach_thuc_thuc_hien"].replace(
        "Trực tiếp1Miễn phí", "Trực tiếp18,000 Việt Nam Đồng"
    )
    added = dict(records[1], ma_thu_tuc="9.999999")
    second = write_source(tmp_path / "v2.jsonl", [*records, added])

    unset_source = KnowledgeSettings(data_dir=tmp_path / "data", query_encoder="none", document_encoder="none")
    report = refresh(unset_source, second, progress=False)

    assert report.added == ["9.999999"] and report.removed == [removed["ma_thu_tuc"]]
    assert "channels" in report.changed["1.001193"]
    assert set(report.changed) == {"1.001193"}
    assert (report.before, report.after) == (47, 47)
    current = KnowledgeStore(settings.index_dir)
    assert json.loads((current.current_build() / "refresh_report.json").read_text())["added"] == ["9.999999"]


def test_a_refreshed_source_is_kept_after_a_restart(tmp_path: Path, fixture_raw_records) -> None:
    from knowledge.build import ensure_built

    first = write_source(tmp_path / "v1.jsonl", fixture_raw_records)
    second = write_source(tmp_path / "v2.jsonl", fixture_raw_records[:-1])
    default_source = KnowledgeSettings(data_dir=tmp_path / "data", query_encoder="none", document_encoder="none")
    ensure_built(default_source.model_copy(update={"source_path": first}), progress=False)
    refresh(default_source, second, progress=False)
    # a restart with the default settings must not rebuild from the shared national file
    restarted = KnowledgeSettings(data_dir=tmp_path / "data", query_encoder="none", document_encoder="none")
    assert restarted.effective_source_path == second.resolve()
    store = ensure_built(restarted, progress=False)
    assert len(store.load_procedures()) == 46


def test_refresh_from_a_missing_file_keeps_the_old_build(tmp_path: Path, fixture_raw_records) -> None:
    from knowledge.build import build

    settings = lexical_settings(tmp_path, write_source(tmp_path / "v1.jsonl", fixture_raw_records))
    build(settings, progress=False)
    before = KnowledgeStore(settings.index_dir).current_build()
    with pytest.raises(SourceNotFound):
        refresh(settings, tmp_path / "missing.jsonl", progress=False)
    assert KnowledgeStore(settings.index_dir).current_build() == before


def test_a_serving_worker_loads_a_copied_build_without_the_source(tmp_path: Path, fixture_raw_records) -> None:
    from knowledge.build import build
    from knowledge.service import AnswerService

    source = write_source(tmp_path / "v1.jsonl", fixture_raw_records)
    build(lexical_settings(tmp_path, source), progress=False)
    source.unlink()  # the worker has the index, not the source file
    worker = KnowledgeSettings(
        source_path=source,
        data_dir=tmp_path / "data",
        query_encoder="none",
        document_encoder="none",
        build_on_start=False,
    )
    service = AnswerService.from_settings(worker, progress=False)
    assert service.ask("đăng ký khai sinh cần giấy tờ gì").procedure.code == "1.001193"
    with pytest.raises(SourceNotFound):
        AnswerService.from_settings(worker.model_copy(update={"build_on_start": True}), progress=False)
