"""The tests that need ../shared skip on a machine without it, and fail under CI, which must run them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import require_shared


def test_a_missing_shared_file_skips_locally_and_fails_under_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "shared" / "eval" / "dev.jsonl"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="shared data not found"):
        require_shared(missing)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="shared data not found: .*dev.jsonl"):
        require_shared(missing)


def test_a_shared_file_that_is_there_is_handed_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    present = tmp_path / "dev.jsonl"
    present.write_text("{}\n", encoding="utf-8")
    assert require_shared(present) == present
