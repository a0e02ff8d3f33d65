"""The batch contract that outside measurement relies on, run as a user would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.settings import REPOSITORY_ROOT

pytestmark = pytest.mark.slow


def _run(args: list[str], settings, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "TTHC_DATA_DIR": str(settings.data_dir), "TTHC_SOURCE_PATH": str(settings.source_path)}
    return subprocess.run(
        [sys.executable, "-m", "knowledge", *args],
        cwd=REPOSITORY_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        **kwargs,
    )


def test_search_jsonl_prints_one_json_line_per_question(tmp_path: Path, full_settings, full_build) -> None:
    questions = [
        {"id": "a", "question": "đăng ký khai sinh cần giấy tờ gì"},
        {"id": 2, "question": "Cách nấu phở bò ngon?"},
        {"id": "c", "question": ""},
        {"id": "d", "question": "lam cccd o dau"},
    ]
    batch = tmp_path / "in.jsonl"
    batch.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in questions) + "\n", encoding="utf-8")
    completed = _run(["search", "--jsonl", str(batch), "--top-k", "5"], full_settings)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == len(questions)
    rows = [json.loads(line) for line in lines]
    assert [row["id"] for row in rows] == ["a", 2, "c", "d"]
    for row in rows:
        assert set(row) == {"id", "results", "decision", "aspect"}
        assert row["decision"] in {"answer", "clarify", "abstain"}
        assert len(row["results"]) <= 5
        assert all(set(result) == {"code", "name", "score"} for result in row["results"])
    assert rows[0]["results"][0]["code"] == "1.001193" and rows[0]["aspect"] == "documents"
    assert rows[1]["decision"] == "abstain" and rows[1]["results"]  # the ranking is always filled
    assert rows[2]["decision"] == "abstain"


def test_ask_and_show(full_settings, full_build) -> None:
    completed = _run(["ask", "xin lý lịch tư pháp online được không"], full_settings)
    assert completed.returncode == 0, completed.stderr
    assert "3.000333" in completed.stdout and "trực tuyến" in completed.stdout  # the citizen's own request
    shown = _run(["show", "1.001193"], full_settings)
    assert "Thủ tục đăng ký khai sinh" in shown.stdout
    missing = _run(["show", "9.999999"], full_settings)
    assert missing.returncode == 2 and "9.999999" in missing.stderr
