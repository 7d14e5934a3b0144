"""What people do with tokens: see them, and (admins) grant them."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.domain.errors import UnknownTarget
from bot.domain.ledger import SystemAccount, clean_reason
from bot.domain.periods import week_start
from bot.domain.roles import Role, require
from bot.models import Account, Redemption, Thanks, utcnow
from bot.services import ledger
from bot.services.directory import (
    DepartmentView,
    EmployeeView,
    by_telegram_id,
    find_by_username,
    find_department,
    require_employee,
)
from bot.services.ledger import HistoryLine


@dataclass(frozen=True)
class Summary:
    employee: EmployeeView
    balance: int
    department_balance: int
    recent: list[HistoryLine]
    thanks_left: int


@dataclass(frozen=True)
class GrantResult:
    amount: int
    reason: str
    employee: EmployeeView | None
    department: DepartmentView | None
    replayed: bool


async def employee_account(session: AsyncSession, employee_id: int) -> Account:
    account = await session.scalar(select(Account).where(Account.employee_id == employee_id))
    if account is None:  # created with the employee, in the same transaction
        raise LookupError(f"employee {employee_id} has no account")
    return account


async def department_account(session: AsyncSession, department_id: int) -> Account:
    account = await session.scalar(select(Account).where(Account.department_id == department_id))
    if account is None:  # created with the department, in the same transaction
        raise LookupError(f"department {department_id} has no account")
    return account


_RESERVATION = re.compile(r"redemption:(\d+):reserve")
# What a reservation became once its redemption was settled, as /me tells it.
_SETTLED = {
    "approved": "reserve_spent",
    "rejected": "reserve_refunded",
    "expired": "reserve_refunded",
}


async def summary(
    db: Database,
    telegram_id: int,
    *,
    allowance: int = 0,
    tz: ZoneInfo | None = None,
    recent: int = 5,
) -> Summary:
    """Balances, the latest movements (a reservation says what became of it) and the thanks
    the person may still give this week (in `tz`), out of a weekly `allowance`."""
    async with db.read() as session:
        employee = await require_employee(session, telegram_id)
        own = await employee_account(session, employee.id)
        department = await department_account(session, employee.department.id)
        given = (
            await session.scalar(
                select(func.coalesce(func.sum(Thanks.amount), 0)).where(
                    Thanks.giver_id == employee.id, Thanks.week == week_start(utcnow(), tz)
                )
            )
            if tz is not None
            else allowance
        )
        lines = await ledger.history(session, own.id, recent)
        return Summary(
            employee=employee,
            balance=own.balance,
            department_balance=department.balance,
            recent=await _with_outcomes(session, lines),
            thanks_left=max(allowance - int(given or 0), 0),
        )


async def _with_outcomes(session: AsyncSession, lines: list[HistoryLine]) -> list[HistoryLine]:
    """Reservations relabelled as spent or refunded once their redemption was settled."""
    reserved = {
        int(match[1]): line
        for line in lines
        if line.kind == "reserve" and (match := _RESERVATION.fullmatch(line.key))
    }
    if not reserved:
        return lines
    rows = await session.execute(
        select(Redemption.id, Redemption.status).where(Redemption.id.in_(reserved))
    )
    outcome = {reserved[rid].key: _SETTLED[status] for rid, status in rows if status in _SETTLED}
    return [replace(line, kind=outcome.get(line.key, line.kind)) for line in lines]


async def grant(
    db: Database,
    *,
    actor_telegram_id: int,
    target: str | int,
    amount: int,
    reason: str,
    key: str,
) -> GrantResult:
    """An admin grants tokens to a person (@username or Telegram id) or a department."""
    reason = clean_reason(reason)
    async with db.transaction() as session:
        actor = await require_employee(session, actor_telegram_id)
        require(actor.role, Role.ADMIN)
        employee: EmployeeView | None = None
        department: DepartmentView | None = None
        if isinstance(target, int):
            employee = await by_telegram_id(session, target)
            if employee is None:
                raise UnknownTarget(name=str(target))
        elif target.startswith("@"):
            employee = await find_by_username(session, target)
        else:
            department = await find_department(session, target)
            if department is None:
                raise UnknownTarget(name=target[:40])
        account_id = (
            employee.account_id
            if employee
            else (await department_account(session, department.id)).id  # type: ignore[union-attr]
        )
        result = await ledger.post(
            session,
            key=key,
            from_account=await ledger.system_account_id(session, SystemAccount.ISSUANCE),
            to_account=account_id,
            amount=amount,
            kind="grant",
            reason=reason,
            actor_id=actor.id,
        )
    return GrantResult(amount, reason, employee, department, result.replayed)
