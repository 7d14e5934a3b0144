"""The engine and session factory, with the transaction discipline each database needs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from sqlalchemy import CursorResult, Result, event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def _sqlite_connections(engine: AsyncEngine, *, begin: str) -> None:
    """Let SQLAlchemy, not the driver, start SQLite transactions, with `begin`.

    Writers use `BEGIN IMMEDIATE`: SQLite then serialises them at BEGIN instead of failing one
    at COMMIT, which keeps concurrent token transfers correct on the embedded database.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        # Straight to the driver: one trip to its thread, where a cursor would take three.
        conn.connection.dbapi_connection.run_async(lambda driver: driver.execute(begin))


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE, DELETE or INSERT touched (an ORM statement's result is a cursor's)."""
    return cast(CursorResult[Any], result).rowcount


def create_engine(url: str, *, begin: str = "BEGIN IMMEDIATE", **kwargs: Any) -> AsyncEngine:
    """An engine for `url`; on SQLite, its transactions start with `begin`."""
    if not url.startswith("sqlite"):
        # A connection the server or a proxy dropped while it sat in the pool is replaced
        # before use, so the first query after a restart of PostgreSQL does not fail.
        return create_async_engine(url, **({"pool_pre_ping": True} | kwargs))
    # Sessions always end their transaction, so a connection comes back clean and the pool's
    # rollback on return would be one more trip to the driver's thread for nothing.
    engine = create_async_engine(url, **({"pool_reset_on_return": None} | kwargs))
    _sqlite_connections(engine, begin=begin)
    return engine


class Database:
    """The engine and its session factories.

    `transaction()` is the unit of work that may write; `read()` is for looking only. On SQLite,
    reads get their own engine and run beside the one writer (WAL), and writers in this process
    queue on a lock instead of polling SQLite's busy handler.
    """

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        # Shared by every session: ids that never change once created (the system accounts).
        info: dict[str, Any] = {"cache": {}}
        # Shared by the services of this process: what they remember between updates.
        self.memo: dict[str, Any] = {}
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, info=info)
        self._write_lock: asyncio.Lock | None = None
        # What PostgreSQL's advisory locks do across processes, for the one SQLite process.
        self.local_locks: dict[str, asyncio.Lock] = {}
        self.read_engine = self.engine
        if self.dialect == "sqlite":
            self._write_lock = asyncio.Lock()
            self.read_engine = create_engine(url, begin="BEGIN", **engine_kwargs)
        self.read_sessionmaker = async_sessionmaker(
            self.read_engine, expire_on_commit=False, info=info
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        if self._write_lock is None:
            async with self.sessionmaker.begin() as session:
                yield session
            return
        async with self._write_lock, self.sessionmaker.begin() as session:
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading: a consistent snapshot, never blocked by a writer."""
        async with self.read_sessionmaker.begin() as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
