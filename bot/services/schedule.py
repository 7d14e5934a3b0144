"""Schedules of the weekly posts, and the record that makes each run happen once per period."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from zlib import crc32
from zoneinfo import ZoneInfo

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from bot.db import Database
from bot.domain.roles import Role, require
from bot.domain.schedule import Slot
from bot.models import Delivery, Schedule, ScheduledRun, Setting, utcnow
from bot.services.directory import require_employee

log = logging.getLogger(__name__)
MIXER, DIGEST, MONTHLY = "mixer", "digest", "monthly_digest"
DEFAULTS = {
    MIXER: (Slot(0, 10 * 60), True),  # Monday 10:00
    DIGEST: (Slot(4, 17 * 60), True),  # Friday 17:00
    MONTHLY: (Slot(0, 10 * 60), False),  # the 1st of the month, 10:00; off until enabled
}
TIMEZONE = "timezone"


@dataclass(frozen=True)
class Plan:
    job: str
    slot: Slot
    enabled: bool


@dataclass(frozen=True)
class Run:
    id: int
    job: str
    period: str
    resumed: bool


async def plans(db: Database) -> dict[str, Plan]:
    async with db.read() as session:
        rows = {row.job: row for row in await session.scalars(select(Schedule))}
    result = {}
    for job, (slot, enabled) in DEFAULTS.items():
        row = rows.get(job)
        result[job] = (
            Plan(job, Slot(row.weekday, row.minute), row.enabled)
            if row
            else Plan(job, slot, enabled)
        )
    return result


async def change(
    db: Database,
    *,
    actor_telegram_id: int,
    job: str,
    slot: Slot | None = None,
    enabled: bool | None = None,
) -> Plan:
    """An admin moves a post to another day and time, or switches it on or off."""
    async with db.transaction() as session:
        actor = await require_employee(session, actor_telegram_id)
        require(actor.role, Role.ADMIN)
        row = await session.get(Schedule, job)
        if row is None:
            default, on = DEFAULTS[job]
            row = Schedule(job=job, weekday=default.weekday, minute=default.minute, enabled=on)
            session.add(row)
        if slot is not None:
            row.weekday, row.minute = slot.weekday, slot.minute
        if enabled is not None:
            row.enabled = enabled
        await session.flush()
        return Plan(job, Slot(row.weekday, row.minute), row.enabled)


async def timezone(db: Database, default: str) -> ZoneInfo:
    """The company's timezone: set from Telegram with /schedule, else from TIMEZONE."""
    async with db.read() as session:
        value = await session.scalar(select(Setting.value).where(Setting.key == TIMEZONE))
    return ZoneInfo(value or default)


async def set_timezone(db: Database, *, actor_telegram_id: int, name: str) -> None:
    async with db.transaction() as session:
        actor = await require_employee(session, actor_telegram_id)
        require(actor.role, Role.ADMIN)
        row = await session.get(Setting, TIMEZONE)
        if row is None:
            session.add(Setting(key=TIMEZONE, value=name))
        else:
            row.value = name


async def claim(db: Database, job: str, period: str, due: datetime, *, late: bool) -> Run | None:
    """Start the run of `job` for `period`, or resume one that stopped half-way.

    Returns None when the period's run is done or was skipped. A `late` post that was never
    started is recorded as skipped instead, so it is logged and left alone once.
    """
    async with db.transaction() as session:
        existing = await session.scalar(
            select(ScheduledRun).where(ScheduledRun.job == job, ScheduledRun.period == period)
        )
        if existing is not None:
            if existing.status != "running":
                return None
            return Run(existing.id, job, period, resumed=True)
    try:
        async with db.transaction() as session:
            run = ScheduledRun(
                job=job, period=period, due_at=due, status="skipped" if late else "running"
            )
            if late:
                run.finished_at = utcnow()
                log.warning("%s %s was due at %s, too long ago: skipped", job, period, due)
            session.add(run)
            await session.flush()
            return None if late else Run(run.id, job, period, resumed=False)
    except IntegrityError:
        return None  # another instance recorded this period a moment ago


async def finish(db: Database, run_id: int) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(ScheduledRun)
            .where(ScheduledRun.id == run_id)
            .values(status="done", finished_at=utcnow())
        )


async def claim_delivery(db: Database, run_id: int, recipient: int) -> bool:
    """Claim the run's message to `recipient`; False if it was claimed before (sent or not).

    A message is claimed before it is sent, so a run resumed after a crash never sends it again:
    at most once, never twice.
    """
    try:
        async with db.transaction() as session:
            session.add(Delivery(run_id=run_id, recipient=recipient, status="claimed"))
        return True
    except IntegrityError:
        return False


async def claimed(db: Database, run_id: int) -> set[int]:
    async with db.read() as session:
        rows = await session.scalars(select(Delivery.recipient).where(Delivery.run_id == run_id))
        return set(rows)


async def delivered(db: Database, run_id: int, recipient: int, ok: bool) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.run_id == run_id, Delivery.recipient == recipient)
            .values(status="sent" if ok else "failed", at=utcnow())
        )


@asynccontextmanager
async def exclusive(db: Database, job: str) -> AsyncIterator[bool]:
    """Hold the right to run `job`: yields False if another bot instance holds it now.

    On PostgreSQL it is a session advisory lock, so two bots on one database never run the same
    post at once, and a bot that dies releases it. SQLite serves one process: a local lock.
    """
    if db.dialect != "postgresql":
        lock = db.local_locks.setdefault(job, asyncio.Lock())
        if lock.locked():
            yield False
            return
        async with lock:
            yield True
        return
    key = crc32(f"truce:{job}".encode())
    async with db.engine.connect() as conn:
        held = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
        await conn.commit()
        try:
            yield held
        finally:
            if held:
                await conn.scalar(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await conn.commit()
