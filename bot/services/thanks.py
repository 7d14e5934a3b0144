"""Thanks: tokens from a weekly allowance, paid to a colleague by the issuance account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.domain.errors import NotRegistered, ReceiverPaused, ThanksToSelf, UnknownUser
from bot.domain.ledger import SystemAccount
from bot.domain.periods import local_day, week_start
from bot.domain.thanks import ThanksRules
from bot.models import Employee, Thanks, utcnow
from bot.services import ledger
from bot.services.directory import (
    EmployeeView,
    by_telegram_id,
    employee_rows,
    employee_view,
    find_by_username,
    require_employee,
)


@dataclass(frozen=True)
class ThanksResult:
    giver: EmployeeView
    receiver: EmployeeView
    amount: int
    paid: int
    cross_department: bool
    reason: str
    allowance_left: int
    replayed: bool


# Built once: they run for every thanks.
_GIVEN = select(
    func.coalesce(func.sum(Thanks.amount), 0),
    func.coalesce(
        func.sum(
            case(
                (
                    and_(
                        Thanks.receiver_id == bindparam("receiver_id"),
                        Thanks.day == bindparam("day"),
                    ),
                    Thanks.amount,
                ),
                else_=0,
            )
        ),
        0,
    ),
).where(Thanks.giver_id == bindparam("giver_id"), Thanks.week == bindparam("week"))
_GIVER = (
    employee_rows()
    .add_columns(select(Thanks.id).where(Thanks.key == bindparam("key")).scalar_subquery())
    .where(Employee.telegram_id == bindparam("telegram_id"))
    .with_for_update(of=Employee)
)
_RECORD = insert(Thanks)


async def _given(
    session: AsyncSession, giver_id: int, receiver_id: int, week: date, day: date
) -> tuple[int, int]:
    """What the giver gave this week, and to this receiver today: one query."""
    connection = await session.connection()
    params = {"giver_id": giver_id, "receiver_id": receiver_id, "week": week, "day": day}
    row = (await connection.execute(_GIVEN, params)).one()
    return int(row[0]), int(row[1])


async def _replayed(
    session: AsyncSession, giver: EmployeeView, done: Thanks, rules: ThanksRules, week: date
) -> ThanksResult:
    """The thanks a message already made, as it was recorded, not as the message reads now."""
    telegram_id = await session.scalar(
        select(Employee.telegram_id).where(Employee.id == done.receiver_id)
    )
    assert telegram_id is not None  # employees are never deleted
    receiver = await by_telegram_id(session, telegram_id)
    assert receiver is not None
    used, _ = await _given(session, giver.id, done.receiver_id, week, done.day)
    return ThanksResult(
        giver,
        receiver,
        done.amount,
        done.paid,
        done.cross_department,
        done.reason,
        max(rules.weekly_allowance - used, 0),
        replayed=True,
    )


async def allowance_left(
    db: Database, telegram_id: int, rules: ThanksRules, tz: ZoneInfo, now: datetime | None = None
) -> int:
    async with db.read() as session:
        giver = await require_employee(session, telegram_id)
        week = week_start(now or utcnow(), tz)
        used = await session.scalar(
            select(func.coalesce(func.sum(Thanks.amount), 0)).where(
                Thanks.giver_id == giver.id, Thanks.week == week
            )
        )
    return max(rules.weekly_allowance - int(used or 0), 0)


async def _giver(
    session: AsyncSession, telegram_id: int, key: str
) -> tuple[EmployeeView, int | None]:
    """The giver, locked, and the thanks this message already made, if any: one query.

    The row lock (PostgreSQL) makes one giver's thanks count one at a time, so the allowance
    holds under load; SQLite's write transactions already run one at a time.
    """
    connection = await session.connection()
    row = (await connection.execute(_GIVER, {"telegram_id": telegram_id, "key": key})).first()
    if row is None:
        raise NotRegistered()
    return employee_view(row), row[-1]


async def give(
    db: Database,
    *,
    giver_telegram_id: int,
    receiver: str | int,
    amount: int,
    reason: str,
    key: str,
    rules: ThanksRules,
    tz: ZoneInfo,
    now: datetime | None = None,
) -> ThanksResult:
    """Thank a colleague (@username or Telegram id) with `amount` tokens from the allowance."""
    now = now or utcnow()
    week, day = week_start(now, tz), local_day(now, tz)
    async with db.transaction() as session:
        giver, made = await _giver(session, giver_telegram_id, key)
        if made is not None:
            # The same message delivered again, or edited: the thanks it made stand as made.
            done = await session.get_one(Thanks, made)
            return await _replayed(session, giver, done, rules, week)
        if isinstance(receiver, int):
            found = await by_telegram_id(session, receiver)
            if found is None:
                raise UnknownUser(name=str(receiver))
            target = found
        else:
            target = await find_by_username(session, receiver)
        if target.id == giver.id:
            raise ThanksToSelf()
        if target.paused:
            raise ReceiverPaused(name=target.first_name)
        used, pair_today = await _given(session, giver.id, target.id, week, day)
        rules.check(amount, used, pair_today)
        cross = giver.department.id != target.department.id
        paid = rules.paid(amount, cross)
        posted = await ledger.post(
            session,
            key=f"thanks:{key}",
            from_account=await ledger.system_account_id(session, SystemAccount.ISSUANCE),
            to_account=target.account_id,
            amount=paid,
            kind="thanks",
            reason=reason,
            actor_id=giver.id,
            at=now,
        )
        connection = await session.connection()
        await connection.execute(
            _RECORD,
            {
                "key": key,
                "giver_id": giver.id,
                "receiver_id": target.id,
                "amount": amount,
                "paid": paid,
                "cross_department": cross,
                "reason": reason,
                "week": week,
                "day": day,
                "transfer_id": posted.transfer_id,
                "created_at": now,
            },
        )
    return ThanksResult(
        giver,
        target,
        amount,
        paid,
        cross,
        reason,
        rules.weekly_allowance - used - amount,
        replayed=False,
    )
