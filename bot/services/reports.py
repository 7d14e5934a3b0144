"""Leaderboards and the journal export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.db import Database
from bot.domain.ledger import SystemAccount
from bot.models import Account, Department, Employee, Transfer
from bot.services.directory import DepartmentView
from bot.services.ledger import system_account_id


@dataclass(frozen=True)
class PersonScore:
    name: str
    username: str | None
    department: DepartmentView
    tokens: int


@dataclass(frozen=True)
class DepartmentScore:
    department: DepartmentView
    tokens: int
    members: int

    @property
    def per_head(self) -> float:
        return self.tokens / self.members if self.members else 0.0


@dataclass(frozen=True)
class Leaderboard:
    week: list[PersonScore]
    all_time: list[PersonScore]
    departments: list[DepartmentScore]


def department_of_account() -> tuple[Any, Any]:
    """(employee alias, expression): the department an account belongs to, its own or its
    owner's, for joining transfers to departments."""
    member = aliased(Employee)
    return member, func.coalesce(Account.department_id, member.department_id)


async def department_scores(
    session: AsyncSession,
    issuance: int,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[DepartmentScore]:
    """Each active department's earned tokens (its people's and its wallet's, in [start, end)
    when given) and headcount, most first."""
    member, owner = department_of_account()
    query = (
        select(owner, func.sum(Transfer.amount))
        .select_from(Transfer)
        .join(Account, Account.id == Transfer.to_account_id)
        .outerjoin(member, member.id == Account.employee_id)
        .where(Transfer.from_account_id == issuance)
        .group_by(owner)
    )
    if start is not None:
        query = query.where(Transfer.created_at >= start)
    if end is not None:
        query = query.where(Transfer.created_at < end)
    earned: dict[int, int] = dict((await session.execute(query)).all())  # type: ignore[arg-type]
    members = dict(
        (
            await session.execute(
                select(Employee.department_id, func.count(Employee.id)).group_by(
                    Employee.department_id
                )
            )
        ).all()
    )
    scores = [
        DepartmentScore(
            DepartmentView(d.id, d.code, d.name),
            int(earned.get(d.id, 0)),
            int(members.get(d.id, 0)),
        )
        for d in await session.scalars(
            select(Department).where(Department.active).order_by(Department.id)
        )
    ]
    return sorted(scores, key=lambda s: (-s.tokens, s.department.id))


async def leaderboard(db: Database, *, since: datetime, limit: int = 5) -> Leaderboard:
    """People by tokens earned (since `since`, and ever); departments by all they earned.

    Earned tokens are the ones that came from the issuance account: thanks, grants, quests,
    meetings and goals. Chip-ins and refunds move tokens that were already earned.
    """
    async with db.read() as session:
        issuance = await system_account_id(session, SystemAccount.ISSUANCE)

        async def people(start: datetime | None) -> list[PersonScore]:
            earned = func.sum(Transfer.amount).label("earned")
            query = (
                select(Employee, Department, earned)
                .join(Account, Account.employee_id == Employee.id)
                .join(Transfer, Transfer.to_account_id == Account.id)
                .join(Department, Department.id == Employee.department_id)
                .where(Transfer.from_account_id == issuance)
                .group_by(Employee.id, Department.id)
                .order_by(earned.desc(), Employee.id)
                .limit(limit)
            )
            if start is not None:
                query = query.where(Transfer.created_at >= start)
            return [
                PersonScore(e.first_name, e.username, DepartmentView(d.id, d.code, d.name), int(n))
                for e, d, n in (await session.execute(query))
            ]

        departments = await department_scores(session, issuance)
        return Leaderboard(await people(since), await people(None), departments)


async def export_csv(db: Database, *, since: datetime | None = None) -> str:
    """The journal as CSV: one row per transfer, accounts named the way people know them."""
    async with db.read() as session:
        labels: dict[int, str] = {}
        rows = await session.execute(
            select(Account, Employee, Department)
            .outerjoin(Employee, Employee.id == Account.employee_id)
            .outerjoin(Department, Department.id == Account.department_id)
        )
        for account, employee, department in rows:
            if employee is not None:
                handle = f"@{employee.username}" if employee.username else employee.telegram_id
                labels[account.id] = f"employee:{handle}"
            elif department is not None:
                labels[account.id] = f"department:{department.code}"
            else:
                labels[account.id] = f"system:{account.code}"
        query = select(Transfer).order_by(Transfer.id)
        if since is not None:
            query = query.where(Transfer.created_at >= since)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["id", "time_utc", "from", "to", "amount", "kind", "reason", "key"])
        for t in await session.scalars(query):
            writer.writerow(
                [
                    t.id,
                    t.created_at.isoformat(timespec="seconds"),
                    labels[t.from_account_id],
                    labels[t.to_account_id],
                    t.amount,
                    t.kind,
                    _cell(t.reason),
                    t.idempotency_key,
                ]
            )
        return out.getvalue()


def _cell(text: str) -> str:
    """Keep spreadsheet programs from running a reason that looks like a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text
