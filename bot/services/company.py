"""Company-wide settings kept in the database (changed from Telegram, not the environment)."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import Database
from bot.models import Setting

COMPANY_CHAT = "company_chat_id"


async def get(db: Database, key: str) -> str | None:
    async with db.read() as session:
        return await session.scalar(select(Setting.value).where(Setting.key == key))


async def put(db: Database, key: str, value: str) -> None:
    async with db.transaction() as session:
        row = await session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=value))
        else:
            row.value = value


async def company_chat(db: Database) -> int | None:
    value = await get(db, COMPANY_CHAT)
    return int(value) if value else None
