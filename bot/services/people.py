"""Importing people from a list: everyone in one transaction, or nobody."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.domain.people import PersonRow, RowProblem
from bot.domain.roles import Role
from bot.models import Account, Employee
from bot.services.directory import changing, find_department


@dataclass
class ImportResult:
    added: list[PersonRow] = field(default_factory=list)
    changed: list[tuple[PersonRow, list[str]]] = field(default_factory=list)  # what changed
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def imported(self) -> bool:
        return not self.problems


class _Undo(Exception):
    """Raised inside the transaction to roll back a dry run or a file with problems."""


async def import_people(
    db: Database, rows: list[PersonRow], *, default_language: str, dry_run: bool = False
) -> ImportResult:
    """Add or update everyone in `rows`; a second import of the same rows changes nothing.

    An unknown department stops the whole import, with the line it is on; so does a file that
    would leave the company without an admin. `dry_run` reports the same and stores nothing.
    """
    result = ImportResult()
    try:
        async with changing(db) as session:
            had_admin = await _any_admin(session)
            for row in rows:
                department = await find_department(session, row.department)
                if department is None:
                    result.problems.append(
                        RowProblem(row.line, f"no department {row.department[:40]!r}")
                    )
                    continue
                language = row.language or default_language
                employee = await session.scalar(
                    select(Employee).where(Employee.telegram_id == row.telegram_id)
                )
                if employee is None:
                    employee = Employee(
                        telegram_id=row.telegram_id,
                        first_name=row.name,
                        username=None,
                        language=language,
                        department_id=department.id,
                        role=row.role.value,
                    )
                    session.add(employee)
                    await session.flush()
                    session.add(Account(kind="employee", employee_id=employee.id, balance=0))
                    result.added.append(row)
                    continue
                wanted = {
                    "first_name": row.name,
                    "department_id": department.id,
                    "role": row.role.value,
                    "language": row.language or employee.language,
                }
                changes = [
                    name for name, value in wanted.items() if getattr(employee, name) != value
                ]
                for name in changes:
                    setattr(employee, name, wanted[name])
                if changes:
                    result.changed.append((row, changes))
                else:
                    result.unchanged += 1
            await session.flush()
            if had_admin and not await _any_admin(session):
                result.problems.append(RowProblem(0, "the file would leave the company no admin"))
            if result.problems or dry_run:
                raise _Undo
    except _Undo:
        pass
    return result


async def _any_admin(session: AsyncSession) -> bool:
    query = select(Employee.id).where(Employee.role == Role.ADMIN.value).limit(1)
    return await session.scalar(query) is not None
