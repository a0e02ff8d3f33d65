"""The Rasa launcher's settings: the variable names deployments use, read through one settings object."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import server
from bot.settings import DEFAULT_ACTION_URL, RasaServerSettings
from knowledge.settings import REPOSITORY_ROOT

NAMES = {
    "RASA_VENV": "/opt/rasa-venv",
    "RASA_PORT": "5105",
    "RASA_HOST": "10.0.1.21",
    "RASA_ACTION_ENDPOINT": "http://10.0.1.11:8000/rasa/webhook",
    "ASSISTANT_RASA_ACTION_TOKEN": "action-secret",
    "ASSISTANT_RASA_TRACKER_STORE_URL": "redis://cache/0",
    "ASSISTANT_RASA_LOCK_STORE_URL": "redis://cache/1",
    "ASSISTANT_RETENTION_DAYS": "30",
}


def test_every_variable_is_read_under_its_documented_name(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in NAMES.items():
        monkeypatch.setenv(name, value)
    settings = RasaServerSettings.read()
    assert (settings.venv_path, settings.port, settings.host) == (Path("/opt/rasa-venv"), 5105, "10.0.1.21")
    assert settings.action_url == "http://10.0.1.11:8000/rasa/webhook"
    assert settings.stores().sections["tracker_store"]["record_exp"] == 30 * 24 * 3600
    assert server.rasa_env()["RASA_ACTION_ENDPOINT"] == f"{DEFAULT_ACTION_URL}?token=action-secret"


def test_defaults_and_empty_values(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ASSISTANT_RETENTION_DAYS", "")
    settings = RasaServerSettings.read()
    assert (settings.venv_path, settings.port, settings.host) == (REPOSITORY_ROOT / ".venv-rasa", 5005, "127.0.0.1")
    assert settings.action_url == DEFAULT_ACTION_URL and settings.retention_days == 0
    assert server.rasa_env()["RASA_ACTION_ENDPOINT"] == DEFAULT_ACTION_URL  # no token, none added


def test_a_given_mapping_stands_for_the_whole_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_PORT", "5105")
    monkeypatch.setenv("ASSISTANT_RASA_TRACKER_STORE_URL", "redis://cache/0")
    assert RasaServerSettings.read({}).port == 5005
    assert server.stores_from_environment({}).sections == {}
    assert RasaServerSettings.read({"rasa_port": "6000"}).port == 5005  # the names are case-sensitive
