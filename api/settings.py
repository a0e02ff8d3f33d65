"""Configuration of the API and its channels, read from the environment (prefix ``ASSISTANT_``).

Secrets have no defaults: a channel stays off until its secrets are configured, and the hotline
console refuses every request until a token (or user + password) is set.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

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
    # Requests per minute. A citizen sends a few messages a minute (buttons included, 10-15 at
    # most), so 30 per session stops scripts, not people. Many citizens share one address
    # (carrier-grade NAT, an office proxy, a hotline room of agents typing in the console), so
    # the per-address budgets only stop floods; measured capacity of one worker here is about
    # 15-30 requests/s, below these, so the load test's 50 clients on loopback are never refused.
    rate_limit_user_per_minute: int = 30
    rate_limit_ip_per_minute: int = 6000
    rate_limit_search_per_minute: int = 6000

    # Conversations (turns, feedback, dialogue state) older than this are deleted, at start-up and
    # daily; 0 keeps them. Rasa's own tracker store keeps only masked text (see api/conversation.py).
    retention_days: int = 0

    # Set: the assistant is paused from configuration and every channel gives this message.
    offline_message: str = ""
    # "json": one JSON object per log line (with the request id); "text" for reading in a terminal.
    log_format: Literal["json", "text"] = "json"

    # How often each worker looks for a refreshed knowledge base (seconds; 0: only POST /admin/reload).
    reload_interval_seconds: float = 5.0

    # The Rasa server's REST endpoint ("http://127.0.0.1:5005"); empty: no dialogue layer, the
    # answer service replies directly. Unreachable or slow: the same direct path (degraded mode).
    rasa_url: str = ""
    rasa_timeout_seconds: float = 5.0
    # Rasa's calls to the actions carry the conversation's whole tracker (it grows with each turn).
    rasa_max_body_bytes: int = 8 * 1024 * 1024
    # When set, /rasa/webhook (the custom actions) requires ?token=<this> (Rasa's action_endpoint token).
    rasa_action_token: SecretStr | None = None
    # Where Rasa keeps its trackers (bot/stores.py; bot/server.py reads the same variable): retention
    # and forget requests clean it too. Empty: Rasa keeps them in memory, nothing to clean.
    rasa_tracker_store_url: str = ""

    console_token: SecretStr | None = None
    console_user: str | None = None
    console_password: SecretStr | None = None
    # The staff dashboard and admin actions (reload, retention): a token or user + password.
    staff_token: SecretStr | None = None
    staff_user: str | None = None
    staff_password: SecretStr | None = None

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
    def staff_enabled(self) -> bool:
        return bool(self.staff_token or (self.staff_user and self.staff_password))

    @property
    def console_enabled(self) -> bool:
        return bool(self.console_token or (self.console_user and self.console_password))


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    return ApiSettings()
