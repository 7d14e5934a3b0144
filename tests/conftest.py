"""Shared fixtures: databases (SQLite always, PostgreSQL where configured) and a bot."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.cli import upgrade
from bot.db import Database
from tests.fake_telegram import FakeBotApi, Telegram
from tests.helpers import (
    ALICE,
    BORIS,
    CAROL,
    DEPARTMENT,
    PEOPLE,
    database,
    join,
    make_settings,
    running_bot,
)

PG_URL = os.environ.get("TRUCE_TEST_DATABASE_URL")
ADMIN = ALICE
PG_SKIP_REASON = "PostgreSQL tests need TRUCE_TEST_DATABASE_URL (set by .ci/run)"


async def _create_pg_database() -> str:
    assert PG_URL is not None
    name = f"truce_test_{uuid.uuid4().hex[:12]}"
    engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    await engine.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


async def _drop_pg_database(url: str) -> None:
    assert PG_URL is not None
    name = make_url(url).database
    engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await engine.dispose()


@pytest.fixture
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[str]:
    """A new, empty database of the kind the test is parametrised with (SQLite by default)."""
    kind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'truce.db'}"
        return
    if PG_URL is None:
        pytest.skip(PG_SKIP_REASON)
    url = await _create_pg_database()
    try:
        yield url
    finally:
        await _drop_pg_database(url)


@pytest.fixture
async def database_url(empty_database_url: str) -> str:
    """A database migrated to the latest schema."""
    await asyncio.to_thread(upgrade, empty_database_url)
    return empty_database_url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    async with database(database_url) as migrated:
        yield migrated


@pytest.fixture
async def crowded_db(database_url: str) -> AsyncIterator[Database]:
    """A database whose pool lets most of the racers hold a connection at once."""
    pool: dict[str, Any] = (
        {"pool_size": 20, "max_overflow": 40} if database_url.startswith("postgresql") else {}
    )
    async with database(database_url, **pool) as crowded:
        yield crowded


def both_databases() -> Any:
    """Parametrise a test over SQLite and PostgreSQL."""
    return pytest.mark.parametrize(
        "empty_database_url",
        ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)],
        indirect=True,
    )


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to run the bot with other settings."""
    return {}


@pytest.fixture
def api(request: pytest.FixtureRequest) -> FakeBotApi:
    """The fake Telegram; `indirect` parametrisation gives it a messages-per-second limit."""
    return FakeBotApi(messages_per_second=getattr(request, "param", None))


@pytest.fixture
async def tg(
    database_url: str, api: FakeBotApi, settings_overrides: dict[str, Any]
) -> AsyncIterator[Telegram]:
    """A started bot on a migrated database, talking to the fake Bot API."""
    settings = make_settings(database_url, **settings_overrides)
    async with running_bot(settings, database_url, api) as telegram:
        yield telegram


@pytest.fixture
async def company(tg: Telegram) -> Telegram:
    """Alice (admin, Sales, English), Boris (Marketing, Russian), Carol (Sales, English).

    Modules override it for a company of their own, often on top of `staff`."""
    for person in (ALICE, BORIS, CAROL):
        await join(tg, person, DEPARTMENT[person])
    return tg


@pytest.fixture
async def staff(tg: Telegram) -> Telegram:
    """Alice (admin, Sales, English), Boris (Marketing, Russian), Carol (Sales, English),
    Dmitry (Marketing, Russian); no company chat yet."""
    for person in PEOPLE:
        await join(tg, person, DEPARTMENT[person])
    return tg


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("postgresql") and PG_URL is None:
            item.add_marker(pytest.mark.skip(reason=PG_SKIP_REASON))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql: needs TRUCE_TEST_DATABASE_URL")
