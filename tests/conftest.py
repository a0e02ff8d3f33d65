"""Shared fixtures.

Two layers: the fixture corpus (47 real records copied into tests/data, parsed once per run)
for fast unit tests, and the full knowledge base built once per run from ../shared into a
temporary data directory (tests marked ``slow``; CI runs them too).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

from knowledge.answer.hanoi import HanoiData, load_hanoi_data
from knowledge.ingest.importer import ParseReport, parse_record, read_raw_records
from knowledge.ingest.records import Procedure
from knowledge.settings import REPOSITORY_ROOT, KnowledgeSettings

TESTS_DIR = Path(__file__).resolve().parent
FIXTURE_RECORDS = TESTS_DIR / "data" / "fixture_records.jsonl"
HANDCHECKED_DIR = TESTS_DIR / "data" / "handchecked"
SHARED_DIR = REPOSITORY_ROOT.parent / "shared"
NATIONAL_SOURCE = SHARED_DIR / "data" / "tthc" / "national-procedures.jsonl"
DEV_SET = SHARED_DIR / "eval" / "dev.jsonl"
SEEDS_DIR = SHARED_DIR / "seeds"


def require_shared(path: Path) -> Path:
    """``path`` (a file of ../shared: national data, dev set, seeds) when it exists; else skip the test.

    Under CI (``CI`` set) a missing shared file fails the test instead: CI lays ../shared beside its
    clone, and a skip there would let the slow layer pass having run nothing.
    """
    if path.exists():
        return path
    message = f"shared data not found: {path}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI runs every test that needs it)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def raw_fixture_records() -> dict[str, dict]:
    return {raw["ma_thu_tuc"]: raw for raw in read_raw_records(FIXTURE_RECORDS)}


@pytest.fixture(scope="session")
def fixture_procedures(raw_fixture_records: dict[str, dict]) -> dict[str, Procedure]:
    return {code: parse_record(raw) for code, raw in raw_fixture_records.items()}


@pytest.fixture(scope="session")
def hanoi() -> HanoiData:
    return load_hanoi_data(REPOSITORY_ROOT / "knowledge" / "data" / "hanoi.yaml")


@pytest.fixture(scope="session")
def full_settings(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeSettings:
    """Settings pointing at the shared national data and a per-run data directory."""
    require_shared(NATIONAL_SOURCE)
    data_dir = Path(os.environ.get("TTHC_TEST_DATA_DIR") or tmp_path_factory.mktemp("tthc-data"))
    return KnowledgeSettings(source_path=NATIONAL_SOURCE, data_dir=data_dir)


@pytest.fixture(scope="session")
def full_build(full_settings: KnowledgeSettings):
    """The full knowledge base, built once per test run: (build dir, report, manifest)."""
    from knowledge.build import build

    return build(full_settings, progress=False)


@pytest.fixture(scope="session")
def service(full_settings: KnowledgeSettings, full_build):
    from knowledge.service import AnswerService

    return AnswerService.from_settings(full_settings, progress=False)


@pytest.fixture(scope="session")
def full_report(full_build) -> ParseReport:
    return full_build[1]


@pytest.fixture(scope="session")
def dev_questions() -> list[dict]:
    text = require_shared(DEV_SET).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# -- the API ----------------------------------------------------------------------------------


# -- the engines of the scale-out configuration (running on these machines) --------------------

POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def new_postgres_database():
    """Make throw-away databases on the local PostgreSQL (dropped at the end of the run): ``new() -> url``.

    The test fails, not skips, when PostgreSQL is down.
    """
    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def new() -> str:
        name = f"tthc_test_{uuid.uuid4().hex[:10]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"

    yield new
    with admin.connect() as connection:
        for name in made:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# -- Rasa (its own environment, .venv-rasa) -----------------------------------------------------


@pytest.fixture(scope="session")
def rasa_installed() -> None:
    from bot import server

    if not (server.RASA_VENV / "bin" / "rasa").exists():
        message = f"Rasa is not installed in {server.RASA_VENV}: run bot/setup_rasa.sh"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def rasa_model(rasa_installed) -> Path:
    """The model of the current training data, trained once (about a minute) or reused from the models dir."""
    from bot import server

    models = Path(os.environ.get("TTHC_RASA_MODELS_DIR") or server.MODELS_DIR)
    return server.ensure_model(models, quiet=True)


@pytest.fixture(scope="session")
def fixture_service(fixture_procedures: dict[str, Procedure], hanoi: HanoiData):
    """An answer service over the 47 fixture records, lexical retrieval only (fast)."""
    from knowledge.service import AnswerService

    return AnswerService(list(fixture_procedures.values()), hanoi)


def make_api_settings(tmp_path: Path, **overrides):
    from api.settings import ApiSettings

    values = {"database_url": f"sqlite:///{tmp_path / 'assistant.sqlite3'}", "console_token": "console-secret"}
    values.update(overrides)
    return ApiSettings(**values)


@pytest.fixture
def api_settings(tmp_path: Path):
    return make_api_settings(tmp_path)


@pytest.fixture
def client(api_settings, fixture_service):
    """The app over the fixture corpus with a fresh SQLite store and in-memory rate limits."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(api_settings, service=fixture_service)) as test_client:
        yield test_client
