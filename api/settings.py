"""Configuration of the API and its channels, read from the environment (prefix ``ASSISTANT_``).

Secrets have no defaults: a channel stays off until its secrets are configured, and the hotline
console refuses every request until a token (or user + password) is set.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge.settings import get_settings as knowledge_settings


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    # Empty: SQLite under the data directory. "postgresql+psycopg://..." for PostgreSQL.
    database_url: str = ""
    # Empty: rate limits in this process's memory. "redis://127.0.0.1:6379/0" shares them.
    redis_url: str = ""
    # The address users reach this service at (Telegram webhook registration).
    public_base_url: str = ""
    cors_origins: list[str] = []
    max_body_bytes: int = 64 * 1024
    max_question_chars: int = 2000
    # Requests per minute. A citizen asking fast in a chat sends a few per minute; an agent's
    # search-as-you-type sends more, hence the separate search budget.
    rate_limit_user_per_minute: int = 30
    rate_limit_ip_per_minute: int = 300
    rate_limit_search_per_minute: int = 600

    console_token: SecretStr | None = None
    console_user: str | None = None
    console_password: SecretStr | None = None

    telegram_bot_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None

    zalo_app_id: str | None = None
    zalo_app_secret: SecretStr | None = None
    zalo_oa_secret_key: SecretStr | None = None
    zalo_access_token: SecretStr | None = None
    zalo_refresh_token: SecretStr | None = None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        path = Path(knowledge_settings().data_dir) / "assistant.sqlite3"
        return f"sqlite:///{path}"

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token and self.telegram_webhook_secret)

    @property
    def zalo_enabled(self) -> bool:
        # The refresh pair is required too: an OA access token lives 25 hours.
        return bool(
            self.zalo_app_id
            and self.zalo_oa_secret_key
            and self.zalo_access_token
            and self.zalo_app_secret
            and self.zalo_refresh_token
        )

    @property
    def console_enabled(self) -> bool:
        return bool(self.console_token or (self.console_user and self.console_password))


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    return ApiSettings()
