"""Thanks: tokens from a weekly allowance, paid to a colleague by the issuance account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.domain.errors import ReceiverPaused, ThanksToSelf, UnknownUser
from bot.domain.ledger import SystemAccount
from bot.domain.periods import local_day, week_start
from bot.domain.thanks import ThanksRules
from bot.models import Thanks, utcnow
from bot.services import ledger
from bot.services.directory import (
    EmployeeView,
    by_telegram_id,
    find_by_username,
    lock,
    require_employee,
)
from bot.services.tokens import employee_account


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


async def _given(session: AsyncSession, *conditions: object) -> int:
    total = func.coalesce(func.sum(Thanks.amount), 0)
    return int(await session.scalar(select(total).where(*conditions)) or 0)


async def allowance_left(
    db: Database, telegram_id: int, rules: ThanksRules, tz: ZoneInfo, now: datetime | None = None
) -> int:
    async with db.transaction() as session:
        giver = await require_employee(session, telegram_id)
        week = week_start(now or utcnow(), tz)
        used = await _given(session, Thanks.giver_id == giver.id, Thanks.week == week)
    return max(rules.weekly_allowance - used, 0)


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
    async with db.transaction() as session:
        giver = await require_employee(session, giver_telegram_id)
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
        # One giver's thanks are counted one at a time, so the allowance holds under load.
        await lock(session, giver.id)
        existing = await session.scalar(select(Thanks).where(Thanks.key == key))
        week, day = week_start(now, tz), local_day(now, tz)
        if existing is not None:
            used = await _given(session, Thanks.giver_id == giver.id, Thanks.week == week)
            return ThanksResult(
                giver,
                target,
                existing.amount,
                existing.paid,
                existing.cross_department,
                existing.reason,
                max(rules.weekly_allowance - used, 0),
                replayed=True,
            )
        used = await _given(session, Thanks.giver_id == giver.id, Thanks.week == week)
        pair_today = await _given(
            session,
            Thanks.giver_id == giver.id,
            Thanks.receiver_id == target.id,
            Thanks.day == day,
        )
        rules.check(amount, used, pair_today)
        cross = giver.department.id != target.department.id
        paid = rules.paid(amount, cross)
        account = await employee_account(session, target.id)
        posted = await ledger.post(
            session,
            key=f"thanks:{key}",
            from_account=await ledger.system_account_id(session, SystemAccount.ISSUANCE),
            to_account=account.id,
            amount=paid,
            kind="thanks",
            reason=reason,
            actor_id=giver.id,
            at=now,
        )
        session.add(
            Thanks(
                key=key,
                giver_id=giver.id,
                receiver_id=target.id,
                amount=amount,
                paid=paid,
                cross_department=cross,
                reason=reason,
                week=week,
                day=day,
                transfer_id=posted.transfer_id,
                created_at=now,
            )
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
