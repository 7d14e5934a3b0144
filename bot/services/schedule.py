"""Schedules of the weekly posts, and the record that makes each run happen once per period."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from zlib import crc32
from zoneinfo import ZoneInfo

from sqlalchemy import exists, make_url, select, text, update
from sqlalchemy.exc import IntegrityError

from bot.db import Database, rowcount
from bot.domain.roles import Role, require
from bot.domain.schedule import (
    Slot,
    last_due,
    next_due,
    period_of,
    set_in_time,
    still_worth_sending,
)
from bot.models import Delivery, Employee, Schedule, ScheduledRun, Setting, utcnow
from bot.services.directory import require_employee

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)
MIXER, DIGEST, MONTHLY = "mixer", "digest", "monthly_digest"
REMINDER = "mixer_reminder"  # the one reminder of a round, a run of its own per round
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
    since: datetime | None = None  # when an admin last changed it

    @property
    def monthly(self) -> bool:
        return self.job == MONTHLY

    def due(self, now: datetime, tz: ZoneInfo) -> datetime | None:
        """The moment at or before `now` this post was last due, unless it is off or that
        moment had passed already when an admin set the slot."""
        if not self.enabled:
            return None
        due = last_due(self.slot, self.monthly, now, tz)
        return due if set_in_time(due, self.since) else None


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
            Plan(job, Slot(row.weekday, row.minute), row.enabled, row.changed_at)
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
    now: datetime | None = None,
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
        row.changed_at = now or utcnow()
        await session.flush()
        return Plan(job, Slot(row.weekday, row.minute), row.enabled, row.changed_at)


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


async def claim(
    db: Database, job: str, period: str, due: datetime, *, late: bool, now: datetime | None = None
) -> Run | None:
    """Start the run of `job` for `period`, or resume one that stopped half-way.

    Called only while holding `exclusive(db, job)`: the process that started a run holds that
    lock until the run is done, so a run still 'running' here belongs to no live process (it
    died, or its runner raised) and is resumed. It is resumed even after the grace window:
    some people have had their message, and the others are owed theirs.

    Returns None when the period's run is done, or when the post is `late`: one that was never
    started is then recorded as skipped, so it is logged once and left alone. A skipped period
    is not over: a slot an admin sets later in it (or /mixer now) runs it, since nobody has had
    its post; a period that really ran stays done.
    """
    now = now or utcnow()
    async with db.transaction() as session:
        existing = await session.scalar(
            select(ScheduledRun).where(ScheduledRun.job == job, ScheduledRun.period == period)
        )
        if existing is not None:
            if existing.status == "running":
                return Run(existing.id, job, period, resumed=True)
            if existing.status == "done" or late:
                return None
            reopened = await session.execute(
                update(ScheduledRun)
                .where(ScheduledRun.id == existing.id, ScheduledRun.status == "skipped")
                .values(status="running", due_at=due, started_at=now, finished_at=None)
            )
            if rowcount(reopened) != 1:
                return None
            return Run(existing.id, job, period, resumed=False)
        missed = late and bool(
            await session.scalar(select(exists().where(Employee.created_at < due)))
        )
    try:
        async with db.transaction() as session:
            run = ScheduledRun(
                job=job,
                period=period,
                due_at=due,
                status="skipped" if late else "running",
                started_at=now,
            )
            if late:
                run.finished_at = now
                if missed:
                    log.warning("%s %s was due at %s, too long ago: skipped", job, period, due)
                else:
                    # Due before anyone had joined (a new install): nobody missed it.
                    log.info(
                        "%s %s was due at %s, before anyone joined: not sent", job, period, due
                    )
            session.add(run)
            await session.flush()
            return None if late else Run(run.id, job, period, resumed=False)
    except IntegrityError:
        return None  # another instance recorded this period a moment ago


async def latest_done(db: Database, job: str) -> tuple[str, datetime] | None:
    """The period and the moment of `job`'s latest run that went out."""
    async with db.read() as session:
        row = (
            await session.execute(
                select(ScheduledRun.period, ScheduledRun.due_at)
                .where(ScheduledRun.job == job, ScheduledRun.status == "done")
                .order_by(ScheduledRun.due_at.desc(), ScheduledRun.id.desc())
                .limit(1)
            )
        ).first()
    return (row[0], row[1]) if row else None


async def next_posts(
    db: Database, now: datetime, tz: ZoneInfo, grace: timedelta
) -> dict[str, datetime | None]:
    """When each post goes out next, as the scheduler will send it; None for one that is off.

    That is the moment just passed while the scheduler still owes it (the next tick sends it),
    else the slot's next moment whose period has not had its post already.
    """
    result: dict[str, datetime | None] = {}
    async with db.read() as session:
        statuses = {
            (job, period): status
            for job, period, status in await session.execute(
                select(ScheduledRun.job, ScheduledRun.period, ScheduledRun.status)
            )
        }
    for job, plan in (await plans(db)).items():
        if not plan.enabled:
            result[job] = None
            continue
        due = plan.due(now, tz)
        if due is not None and still_worth_sending(due, now, grace):
            status = statuses.get((job, period_of(due, plan.monthly, tz)))
            if status in (None, "skipped"):
                result[job] = due
                continue
        due = next_due(plan.slot, plan.monthly, now, tz)
        while statuses.get((job, period_of(due, plan.monthly, tz))) in ("done", "running"):
            due = next_due(plan.slot, plan.monthly, due, tz)
        result[job] = due
    return result


async def finish(db: Database, run_id: int) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(ScheduledRun)
            .where(ScheduledRun.id == run_id)
            .values(status="done", finished_at=utcnow())
        )


async def claim_delivery(db: Database, run_id: int, recipient: int) -> bool:
    """Claim the run's message to `recipient` before it is sent; False once it is settled.

    A message is settled when Telegram has answered for it: 'sent', or 'failed' (blocked, no
    chat). One left 'claimed' was on its way when the process running the run died, so the
    resumed run sends it again: nobody goes without their message, and only the messages in
    flight at the crash (at most the number of concurrent sends) can arrive twice.
    """
    try:
        async with db.transaction() as session:
            session.add(Delivery(run_id=run_id, recipient=recipient, status="claimed"))
        return True
    except IntegrityError:
        async with db.read() as session:
            status = await session.scalar(
                select(Delivery.status).where(
                    Delivery.run_id == run_id, Delivery.recipient == recipient
                )
            )
        return status == "claimed"


async def settled(db: Database, run_id: int) -> set[int]:
    """The recipients of the run whose message Telegram has answered for, sent or refused."""
    async with db.read() as session:
        rows = await session.scalars(
            select(Delivery.recipient).where(
                Delivery.run_id == run_id, Delivery.status.in_(("sent", "failed"))
            )
        )
        return set(rows)


async def delivered(db: Database, run_id: int, recipient: int, ok: bool) -> None:
    """Settle the message as soon as Telegram has answered, one at a time: a crash can only
    repeat the messages whose answer had not been recorded yet."""
    async with db.transaction() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.run_id == run_id, Delivery.recipient == recipient)
            .values(status="sent" if ok else "failed", at=utcnow())
        )


@asynccontextmanager
async def exclusive(db: Database, job: str) -> AsyncIterator[bool]:
    """Hold the right to run `job`: yields False if another bot instance holds it now.

    It is held from claiming a run until the run is finished, and it dies with its holder, so
    a run left 'running' while nobody holds it is a crashed one, safe to resume. On PostgreSQL
    it is a session advisory lock: two bots on one database (on any machines) never run the
    same post at once. On SQLite it is a lock in this process and, for another process on the
    same file, an exclusive `flock` on a file beside the database, which the kernel releases
    when its process dies, `kill -9` included.
    """
    if db.dialect != "postgresql":
        lock = db.local_locks.setdefault(job, asyncio.Lock())
        if lock.locked():
            yield False
            return
        async with lock:
            with _file_lock(db, job) as held:
                yield held
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


@contextmanager
def _file_lock(db: Database, job: str) -> Iterator[bool]:
    """An exclusive, non-blocking `flock` on `<database file>-<job>.lock`; True without a file
    (an in-memory database) or without `flock` (Windows), where one process is all there is."""
    database = make_url(db.url).database
    if fcntl is None or not database or database == ":memory:":
        yield True
        return
    with open(f"{database}-{job}.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
