"""The inbox: every update as Telegram sent it, stored before Telegram is told it arrived.

Polling confirms an update by asking for the next ones; a webhook by answering 200. Either
happens only after `store`, so an update a crash interrupted is still here, not handled, when
the bot starts again, and `unhandled` gives it back. Handling an update twice is harmless: the
use cases are keyed on the message or button they answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.db import Database, rowcount
from bot.models import InboxUpdate, utcnow

# Handled updates are kept this long, so one Telegram sends again is recognised, then dropped.
KEEP_HANDLED = timedelta(days=2)


async def store(db: Database, update_id: int, payload: str) -> bool:
    """Keep the update; False when it is already here (sent again, or being replayed)."""
    insert = pg_insert if db.dialect == "postgresql" else sqlite_insert
    statement = (
        insert(InboxUpdate)
        .values(update_id=update_id, payload=payload, received_at=utcnow())
        .on_conflict_do_nothing(index_elements=["update_id"])
    )
    async with db.transaction() as session:
        result = await session.execute(statement)
    return rowcount(result) > 0


async def mark_handled(db: Database, update_ids: Iterable[int]) -> None:
    ids = sorted(set(update_ids))
    if not ids:
        return
    async with db.transaction() as session:
        await session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id.in_(ids), InboxUpdate.handled_at.is_(None))
            .values(handled_at=utcnow())
        )


async def unhandled(db: Database) -> list[tuple[int, str]]:
    """What a crash left: (update id, payload), oldest first."""
    async with db.read() as session:
        rows = await session.execute(
            select(InboxUpdate.update_id, InboxUpdate.payload)
            .where(InboxUpdate.handled_at.is_(None))
            .order_by(InboxUpdate.update_id)
        )
        return [(update_id, payload) for update_id, payload in rows.all()]


async def prune(db: Database) -> int:
    """Forget updates handled long ago; how many were dropped."""
    async with db.transaction() as session:
        result = await session.execute(
            delete(InboxUpdate).where(InboxUpdate.handled_at < utcnow() - KEEP_HANDLED)
        )
    return rowcount(result)
