"""PostgreSQL restarted under a running bot: the next command is answered, not failed."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import PG_URL
from tests.fake_telegram import Telegram
from tests.helpers import BORIS, said


async def drop_every_connection(database_url: str) -> int:
    """What a restart of the server does to the bot's pooled connections."""
    assert PG_URL is not None
    name = make_url(database_url).database
    engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            result = await conn.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                f" WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            )
            return int(result.scalar_one())
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    "empty_database_url",
    [pytest.param("postgresql", marks=pytest.mark.postgresql)],
    indirect=True,
)
async def test_the_first_command_after_the_connections_were_dropped_is_answered(
    company: Telegram, database_url: str
) -> None:
    before = said(await company.send(BORIS, "/me"), BORIS.id)
    assert "Ваш баланс" in before

    assert await drop_every_connection(database_url) > 0

    after = said(await company.send(BORIS, "/me"), BORIS.id)
    assert "Ваш баланс" in after
