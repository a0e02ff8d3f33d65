"""Configuration of the Rasa launcher (``python -m bot.server``), read from the environment.

The names are the ones deployments already use, so each field names its variable in full: the
launcher's own ``RASA_*`` variables, and the ``ASSISTANT_*`` ones it shares with the API
(api/settings.py), read here without importing the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.stores import RasaStores, rasa_store_sections
from knowledge.settings import REPOSITORY_ROOT

DEFAULT_PORT = 5005
DEFAULT_ACTION_URL = "http://127.0.0.1:8000/rasa/webhook"


class RasaServerSettings(BaseSettings):
    """What ``python -m bot.server`` and the Rasa helpers read from the environment; secrets default to empty."""

    # Each field names its variable exactly (no prefix, case-sensitive): deployments set these names.
    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    # Rasa's own Python 3.10 environment (bot/setup_rasa.sh); empty: .venv-rasa in the repository.
    venv: str = Field("", validation_alias="RASA_VENV")
    port: int = Field(DEFAULT_PORT, validation_alias="RASA_PORT")
    # Another address than loopback only where a balancer in front of several Rasa instances needs it.
    host: str = Field("127.0.0.1", validation_alias="RASA_HOST")
    # Where Rasa calls the custom actions: the API's /rasa/webhook.
    action_url: str = Field(DEFAULT_ACTION_URL, validation_alias="RASA_ACTION_ENDPOINT")
    # The API's /rasa/webhook token (ASSISTANT_RASA_ACTION_TOKEN), added to the action URL.
    action_token: str = Field("", validation_alias="ASSISTANT_RASA_ACTION_TOKEN")
    # Rasa's tracker and lock stores (bot/stores.py); empty: in Rasa's memory.
    tracker_store_url: str = Field("", validation_alias="ASSISTANT_RASA_TRACKER_STORE_URL")
    lock_store_url: str = Field("", validation_alias="ASSISTANT_RASA_LOCK_STORE_URL")
    # Idle trackers in a Redis store expire after this many days; 0 (or empty) keeps them.
    retention_days: int = Field(0, validation_alias="ASSISTANT_RETENTION_DAYS")

    @field_validator("retention_days", mode="before")
    @classmethod
    def _empty_is_zero(cls, value: object) -> object:
        return 0 if value == "" else value

    @property
    def venv_path(self) -> Path:
        return Path(self.venv) if self.venv else REPOSITORY_ROOT / ".venv-rasa"

    def stores(self) -> RasaStores:
        """Rasa's tracker and lock stores as configured (none: both in Rasa's memory)."""
        return rasa_store_sections(self.tracker_store_url, self.lock_store_url, self.retention_days)

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None) -> RasaServerSettings:
        """The settings from this process's environment, or from ``environ`` alone (instead of it, not over it)."""
        if environ is None:
            return cls()
        names = [field.validation_alias for field in cls.model_fields.values()]
        return _Given(**{name: environ[name] for name in names if name in environ})


class _Given(RasaServerSettings):
    """Only the values passed in, as if they were the whole environment (tests pass a mapping)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)
