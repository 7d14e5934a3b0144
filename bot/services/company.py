"""Company-wide settings kept in the database (changed from Telegram, not the environment)."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import Database
from bot.domain.roles import Role, require
from bot.models import Setting
from bot.services.directory import require_employee

COMPANY_CHAT = "company_chat_id"
COMPANY_LANGUAGE = "company_language"
WALL_OF_SHAME = "wall_of_shame"


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


async def bind_chat(db: Database, *, actor_telegram_id: int, chat_id: int) -> None:
    """An admin makes a group the company chat."""
    async with db.transaction() as session:
        actor = await require_employee(session, actor_telegram_id)
        require(actor.role, Role.ADMIN)
    await put(db, COMPANY_CHAT, str(chat_id))


async def set_wall_of_shame(db: Database, *, actor_telegram_id: int, on: bool) -> None:
    """An admin opts the digest in to (or out of) the playful wall of shame."""
    async with db.transaction() as session:
        actor = await require_employee(session, actor_telegram_id)
        require(actor.role, Role.ADMIN)
    await put(db, WALL_OF_SHAME, "on" if on else "off")


async def wall_of_shame(db: Database) -> bool:
    return await get(db, WALL_OF_SHAME) == "on"


async def language(db: Database, default: str) -> str:
    """The company chat's language: what an admin chose, or DEFAULT_LANGUAGE."""
    return await get(db, COMPANY_LANGUAGE) or default


async def set_language(db: Database, *, actor_telegram_id: int, language: str) -> None:
    """An admin sets the language the bot speaks in the company chat."""
    async with db.transaction() as session:
        actor = await require_employee(session, actor_telegram_id)
        require(actor.role, Role.ADMIN)
    await put(db, COMPANY_LANGUAGE, language)
