"""Settings, read from the environment and `.env`, built by `get_settings()`."""

from __future__ import annotations

import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Language = Literal["ru", "en"]
# What Telegram accepts as a webhook's secret token.
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _split(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    bot_token: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///truce.db"
    telegram_api_url: str | None = None
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    timezone: str = "Europe/Moscow"
    default_language: Language = "ru"
    departments: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["Marketing", "Sales"]
    )
    grant_max: int = Field(default=10_000, gt=0)
    thanks_weekly_allowance: int = Field(default=5, gt=0, le=1000)
    thanks_cross_multiplier: int = Field(default=2, ge=1, le=10)
    thanks_pair_daily_cap: int = Field(default=3, gt=0, le=1000)
    redemption_expiry_days: int = Field(default=14, gt=0, le=365)
    mixer_reward: int = Field(default=10, ge=0, le=10_000)
    # A single /kpi report adds at most this many multiples of the goal's target, and a
    # repeating goal pays at most this many times per period: no report can mint without bound.
    goal_report_max_targets: int = Field(default=1, ge=1, le=1000)
    goal_payouts_per_period: int = Field(default=10, ge=1, le=1000)
    schedule_grace_hours: float = Field(default=12, ge=0, le=24 * 7)
    webhook_url: str | None = None
    # Behind a reverse proxy that terminates TLS; set 0.0.0.0 to take Telegram's calls directly.
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, gt=0, lt=65536)
    webhook_secret: SecretStr | None = None
    log_level: str = "INFO"

    @field_validator("admin_ids", "departments", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split(value)

    @field_validator("departments")
    @classmethod
    def _at_least_two_departments(cls, value: list[str]) -> list[str]:
        if len(value) < 2:
            raise ValueError("name at least two departments, separated by commas")
        if len({name.casefold() for name in value}) != len(value):
            raise ValueError("department names must differ")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _api_base(cls, value: str | None) -> str | None:
        """The server's root: `https://host` and `https://host/bot` both name it."""
        if value is None or not value.strip():
            return None
        base = value.strip().rstrip("/")
        return base.removesuffix("/bot").rstrip("/")

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not SECRET_TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError("1 to 256 characters: letters, digits, _ and - only")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def get_settings(**overrides: object) -> Settings:
    """Build the settings from the environment (and `.env`), with optional overrides."""
    return Settings(**overrides)  # type: ignore[arg-type]
