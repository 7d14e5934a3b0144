"""Migrations: every revision goes up, down and up again, and the result matches the models."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.cli import alembic_config
from bot.models import Base
from tests.conftest import both_databases


def config_for(url: str) -> Config:
    config = alembic_config(url)
    config.attributes["configure_logger"] = False
    return config


async def inspect_schema(url: str) -> tuple[str | None, set[str], list[object]]:
    """The current revision, the tables, and how the schema differs from the models."""

    def look(conn: Connection) -> tuple[str | None, set[str], list[object]]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
        return context.get_current_revision(), tables, compare_metadata(context, Base.metadata)

    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(look)
    finally:
        await engine.dispose()


@both_databases()
async def test_every_revision_upgrades_downgrades_and_upgrades_again(
    empty_database_url: str,
) -> None:
    config = config_for(empty_database_url)
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1, "the migration history has forked"
    revisions = list(reversed(list(script.walk_revisions("base", "heads"))))
    assert revisions, "no migrations found"

    for revision in revisions:
        below = revision.down_revision or "base"
        await asyncio.to_thread(command.upgrade, config, revision.revision)
        current, _, _ = await inspect_schema(empty_database_url)
        assert current == revision.revision
        await asyncio.to_thread(command.downgrade, config, below)
        current, _, _ = await inspect_schema(empty_database_url)
        assert current == revision.down_revision
        await asyncio.to_thread(command.upgrade, config, revision.revision)

    await asyncio.to_thread(command.downgrade, config, "base")
    current, tables, _ = await inspect_schema(empty_database_url)
    assert current is None
    assert tables == set(), "downgrading to base left tables behind"


@both_databases()
async def test_the_migrated_schema_matches_the_models(empty_database_url: str) -> None:
    await asyncio.to_thread(command.upgrade, config_for(empty_database_url), "head")

    current, tables, differences = await inspect_schema(empty_database_url)

    assert current == ScriptDirectory.from_config(config_for(empty_database_url)).get_current_head()
    assert tables == set(Base.metadata.tables)
    assert differences == []
