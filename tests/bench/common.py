"""What the benchmarks share: databases to run on, a bot wired to the offline Bot API."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import build_application
from bot.cli import upgrade
from bot.config import Settings
from bot.db import Database
from tests.fake_telegram import TOKEN, FakeBotApi, FakeRequest, Telegram

PG_URL = os.environ.get("TRUCE_BENCH_DATABASE_URL") or os.environ.get("TRUCE_TEST_DATABASE_URL")


def database_kinds(choice: str) -> list[str]:
    """`--db sqlite|postgres|postgresql|both` as the kinds `database` takes."""
    if choice == "both":
        return ["sqlite", "postgresql"]
    return ["postgresql" if choice.startswith("postgres") else choice]


@asynccontextmanager
async def database(kind: str) -> AsyncIterator[str]:
    """A new, migrated database: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            await asyncio.to_thread(upgrade, url)
            yield url
        return
    if PG_URL is None:
        raise SystemExit("set TRUCE_BENCH_DATABASE_URL (or TRUCE_TEST_DATABASE_URL) for PostgreSQL")
    name = f"truce_bench_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()


@asynccontextmanager
async def running_bot(
    url: str, api: FakeBotApi, latency: float = 0.0, **overrides: Any
) -> AsyncIterator[Telegram]:
    """Truce on `url`, talking to `api`. Telegram's own rate limit is left out: it caps what
    Telegram accepts, not how fast the bot works, and the echo bot it is compared with has none."""
    values: dict[str, Any] = {"bot_token": TOKEN, "database_url": url, "_env_file": None}
    settings = Settings(**(values | overrides))
    db = Database(url, **({"pool_size": 20} if not url.startswith("sqlite") else {}))
    app = build_application(settings, db, request=FakeRequest(api, latency), rate_limit=False)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    try:
        yield Telegram(app, api)
    finally:
        await app.shutdown()
        assert app.post_shutdown is not None
        await app.post_shutdown(app)


async def rate(
    count: int,
    work: Callable[[int], Awaitable[Any]],
    *,
    concurrency: int = 1,
    warmup: int = 0,
) -> float:
    """Operations per second for `count` calls of `work(i)`, at most `concurrency` at a time.

    A running bot handles updates concurrently (`concurrent_updates`), so throughput is
    measured the same way; `concurrency=1` gives the one-at-a-time figure. The first `warmup`
    calls are made but not timed: they pay for what happens once (imports, caches, connections).
    """

    async def run(indices: range) -> float:
        # `concurrency` workers take the next index as they finish: a fixed number in flight,
        # without a queue of waiting tasks whose bookkeeping would be timed too.
        pending = iter(indices)

        async def worker() -> None:
            for i in pending:
                await work(i)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(min(concurrency, len(indices)))))
        return time.perf_counter() - start

    await run(range(warmup))
    return (count - warmup) / await run(range(warmup, count))
