"""Departments, employees and roles."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, cast

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.domain.errors import NotRegistered, UnknownDepartment, UnknownUser
from bot.domain.ledger import SystemAccount
from bot.domain.roles import Role, check_role_change, require
from bot.i18n import LANGUAGES, catalog, t
from bot.models import Account, Department, Employee
from bot.services.batching import Batcher


@dataclass(frozen=True)
class DepartmentView:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class EmployeeView:
    id: int
    telegram_id: int
    first_name: str
    username: str | None
    language: str
    role: str
    paused: bool
    department: DepartmentView
    account_id: int


@dataclass(frozen=True)
class Registration:
    employee: EmployeeView
    created: bool


def department_code(name: str) -> str:
    """A stable code for a department name: `Customer Success` -> `customer_success`."""
    return re.sub(r"[^\w]+", "_", name.strip().casefold()).strip("_")[:32]


_EMPLOYEE_COLUMNS = (
    Employee.id,
    Employee.telegram_id,
    Employee.first_name,
    Employee.username,
    Employee.language,
    Employee.role,
    Employee.paused,
    Department.id,
    Department.code,
    Department.name,
    Account.id,
)
EMPLOYEE_WIDTH = len(_EMPLOYEE_COLUMNS)


def employee_rows() -> Select[Any]:
    """Employees with their department and token account, as plain columns: one row each.

    Columns rather than ORM objects: this runs for every update, and plain rows cost less.
    """
    rows: Any = (  # a Select of ten typed columns; callers add their own clauses
        select(*_EMPLOYEE_COLUMNS)
        .join(Department, Department.id == Employee.department_id)
        .join(Account, Account.employee_id == Employee.id)
    )
    return cast("Select[Any]", rows)


def employee_view(row: Sequence[Any]) -> EmployeeView:
    """The view of a row that starts with `employee_rows()`'s columns."""
    (eid, telegram_id, first_name, username, language, role, paused, did, code, name, account) = (
        row[:EMPLOYEE_WIDTH]
    )
    return EmployeeView(
        id=eid,
        telegram_id=telegram_id,
        first_name=first_name,
        username=username,
        language=language,
        role=role,
        paused=paused,
        department=DepartmentView(did, code, name),
        account_id=account,
    )


async def bootstrap(db: Database, departments: list[str], admin_ids: list[int]) -> None:
    """Create what must exist before anyone plays: system accounts, departments, first admins.

    Safe to run at every start: it only adds what is missing.
    """
    async with changing(db) as session:
        for code in SystemAccount:
            if await session.scalar(select(Account.id).where(Account.code == code.value)) is None:
                session.add(
                    Account(
                        kind="system",
                        code=code.value,
                        balance=0,
                        allow_negative=code is SystemAccount.ISSUANCE,
                    )
                )
        wanted = {department_code(name): name for name in departments}
        existing = {d.code: d for d in await session.scalars(select(Department))}
        for known, department in existing.items():
            department.active = known in wanted
        for new_code, name in wanted.items():
            if new_code not in existing:
                department = Department(code=new_code, name=name, active=True)
                session.add(department)
                await session.flush()
                session.add(Account(kind="department", department_id=department.id, balance=0))
        if admin_ids:
            for employee in await session.scalars(
                select(Employee).where(Employee.telegram_id.in_(admin_ids))
            ):
                employee.role = Role.ADMIN.value


async def list_departments(db: Database) -> list[DepartmentView]:
    async with db.read() as session:
        rows = await session.scalars(
            select(Department).where(Department.active).order_by(Department.id)
        )
        return [DepartmentView(d.id, d.code, d.name) for d in rows]


# Built once: these run for nearly every update, and building a statement costs more than
# running it. They run on the session's connection, past the ORM, for the same reason.
_BY_TELEGRAM_ID = employee_rows().where(Employee.telegram_id == bindparam("telegram_id"))
_BY_USERNAME = employee_rows().where(Employee.username == bindparam("username"))
_BY_TELEGRAM_IDS = employee_rows().where(Employee.telegram_id.in_(bindparam("ids", expanding=True)))


async def by_telegram_id(session: AsyncSession, telegram_id: int) -> EmployeeView | None:
    connection = await session.connection()
    row = (await connection.execute(_BY_TELEGRAM_ID, {"telegram_id": telegram_id})).first()
    return employee_view(row) if row else None


class _Remembered:
    """Employees as last read, by Telegram id: who is acting is looked up for every update.

    Employees change only through `changing()`, which forgets everything once its change is
    committed. A read that began before that commit is not kept, so nothing older than the
    latest change is ever served. `LIFETIME` bounds how long a change made by another process
    (a second bot, a shell) can go unseen.
    """

    LIFETIME = 30.0

    def __init__(self) -> None:
        self.views: dict[int, tuple[float, EmployeeView]] = {}
        self.generation = 0


def _remembered(db: Database) -> _Remembered:
    memo: _Remembered = db.memo.setdefault("employees", _Remembered())
    return memo


@asynccontextmanager
async def changing(db: Database) -> AsyncIterator[AsyncSession]:
    """A transaction that changes employees; what was remembered of them is then forgotten."""
    try:
        async with db.transaction() as session:
            yield session
    finally:
        remembered = _remembered(db)
        remembered.views.clear()
        remembered.generation += 1


async def find(db: Database, telegram_id: int) -> EmployeeView | None:
    """The employee behind a Telegram id, if registered: as remembered, or read.

    Lookups that arrive together are read together, with one query.
    """
    remembered = _remembered(db)
    known = remembered.views.get(telegram_id)
    if known is not None and known[0] > time.monotonic():
        return known[1]
    lookups = db.memo.get("lookups")
    if lookups is None:
        lookups = db.memo["lookups"] = Batcher(partial(_read_employees, db), workers=2)
    view: EmployeeView | None = await lookups.submit(telegram_id)
    return view


async def _read_employees(db: Database, telegram_ids: Sequence[int]) -> list[Any]:
    remembered, generation = _remembered(db), _remembered(db).generation
    async with db.read() as session:
        connection = await session.connection()
        rows = await connection.execute(_BY_TELEGRAM_IDS, {"ids": sorted(set(telegram_ids))})
        views = {view.telegram_id: view for view in map(employee_view, rows)}
    if generation == remembered.generation:  # nobody changed while this was read
        until = time.monotonic() + remembered.LIFETIME
        remembered.views.update((key, (until, view)) for key, view in views.items())
    return [views.get(telegram_id) for telegram_id in telegram_ids]


async def require_employee(session: AsyncSession, telegram_id: int) -> EmployeeView:
    """The registered employee behind a Telegram id, read inside the caller's transaction."""
    employee = await by_telegram_id(session, telegram_id)
    if employee is None:
        raise NotRegistered()
    return employee


async def register(
    db: Database,
    *,
    telegram_id: int,
    first_name: str,
    username: str | None,
    language: str,
    department_code: str,
    admin_ids: list[int],
) -> Registration:
    """Join the game in a department; a second call returns the employee already there."""
    async with changing(db) as session:
        current = await by_telegram_id(session, telegram_id)
        if current is not None:
            return Registration(current, created=False)
        department = await session.scalar(
            select(Department).where(Department.code == department_code, Department.active)
        )
        if department is None:
            raise UnknownDepartment(name=department_code[:32])
        await _release_username(session, username.lower() if username else None, keep=None)
        employee = Employee(
            telegram_id=telegram_id,
            first_name=first_name[:128],
            username=username.lower() if username else None,
            language=language,
            department_id=department.id,
            role=(Role.ADMIN if telegram_id in admin_ids else Role.EMPLOYEE).value,
        )
        session.add(employee)
        await session.flush()
        account = Account(kind="employee", employee_id=employee.id, balance=0)
        session.add(account)
        await session.flush()
        view = employee_view(
            (
                employee.id,
                employee.telegram_id,
                employee.first_name,
                employee.username,
                employee.language,
                employee.role,
                employee.paused,
                department.id,
                department.code,
                department.name,
                account.id,
            )
        )
        return Registration(view, created=True)


async def _release_username(session: AsyncSession, handle: str | None, keep: int | None) -> None:
    """An @username belongs to one Telegram account at a time: whoever had it before lets go,
    so thanks and grants to @handle always reach its current owner."""
    if handle is not None:
        await session.execute(
            update(Employee)
            .where(Employee.username == handle, Employee.id != (keep or 0))
            .values(username=None)
        )


async def refresh_profile(
    db: Database, telegram_id: int, first_name: str, username: str | None
) -> None:
    """Keep the name and @username current, so people can be found by them."""
    async with changing(db) as session:
        employee = await session.scalar(select(Employee).where(Employee.telegram_id == telegram_id))
        if employee is None:
            return
        name, handle = first_name[:128], username.lower() if username else None
        if employee.first_name != name or employee.username != handle:
            await _release_username(session, handle, keep=employee.id)
            employee.first_name, employee.username = name, handle


async def set_language(db: Database, telegram_id: int, language: str) -> None:
    async with changing(db) as session:
        employee = await session.scalar(select(Employee).where(Employee.telegram_id == telegram_id))
        if employee is None:
            raise NotRegistered()
        employee.language = language


async def find_by_username(session: AsyncSession, username: str) -> EmployeeView:
    connection = await session.connection()
    handle = username.lstrip("@").lower()
    row = (await connection.execute(_BY_USERNAME, {"username": handle})).first()
    if row is None:
        raise UnknownUser(name=username[:40])
    return employee_view(row)


async def find_department(session: AsyncSession, text: str) -> DepartmentView | None:
    """A department by its code or its name in any language ("sales", "Sales", "Продажи")."""
    wanted = text.strip().casefold()
    for department in await session.scalars(select(Department).where(Department.active)):
        names = {department.code, department.name.casefold()}
        names |= {
            t(language, f"department.{department.code}").casefold()
            for language in LANGUAGES
            if f"department.{department.code}" in catalog(language)
        }
        if wanted in names or department_code(text) == department.code:
            return DepartmentView(department.id, department.code, department.name)
    return None


async def staff(db: Database) -> list[EmployeeView]:
    """Everyone with a role above employee, admins first."""
    async with db.read() as session:
        rows = await session.execute(
            employee_rows()
            .where(Employee.role != Role.EMPLOYEE.value)
            .order_by(Employee.role, Employee.first_name)
        )
        return [employee_view(row) for row in rows]


@dataclass(frozen=True)
class PeoplePage:
    people: list[EmployeeView]
    page: int  # from 0, within 0..pages-1
    pages: int


async def people_page(db: Database, page: int, size: int) -> PeoplePage:
    """One page of everyone registered, by name: to choose someone without a @username."""
    async with db.read() as session:
        total = await session.scalar(select(func.count()).select_from(Employee)) or 0
        pages = max(1, -(-total // size))
        page = min(max(page, 0), pages - 1)
        rows = await session.execute(
            employee_rows()
            .order_by(Employee.first_name, Employee.id)
            .offset(page * size)
            .limit(size)
        )
        return PeoplePage([employee_view(row) for row in rows], page, pages)


async def set_role(
    db: Database,
    *,
    actor_telegram_id: int,
    target_username: str | None = None,
    target_telegram_id: int | None = None,
    role: Role,
) -> tuple[EmployeeView, Role]:
    """An admin changes someone's role, named by @username or by Telegram id; returns the
    employee and their former role."""
    async with changing(db) as session:
        actor = await require_employee(session, actor_telegram_id)
        require(actor.role, Role.ADMIN)
        if target_username is not None:
            target = await find_by_username(session, target_username)
        else:
            assert target_telegram_id is not None
            found = await by_telegram_id(session, target_telegram_id)
            if found is None:
                raise UnknownUser(name=str(target_telegram_id))
            target = found
        # Lock every admin row, so two admins cannot demote each other at the same moment.
        admins = (
            await session.scalars(
                select(Employee.id).where(Employee.role == Role.ADMIN.value).with_for_update()
            )
        ).all()
        former = Role(target.role)
        remaining = len(admins) - (1 if former is Role.ADMIN else 0)
        check_role_change(former, role, remaining)
        await session.execute(
            update(Employee).where(Employee.id == target.id).values(role=role.value)
        )
    return replace(target, role=role.value), former


async def admins(db: Database) -> list[EmployeeView]:
    async with db.read() as session:
        rows = await session.execute(
            employee_rows().where(Employee.role == Role.ADMIN.value).order_by(Employee.id)
        )
        return [employee_view(row) for row in rows]


async def lock(session: AsyncSession, employee_id: int) -> None:
    """Serialise one person's token actions: a row lock on PostgreSQL.

    FOR NO KEY UPDATE: it queues their other actions but not the foreign-key checks of rows
    that merely refer to them, so it cannot deadlock with someone paying them.

    SQLite needs none: its write transactions already run one at a time.
    """
    if session.get_bind().dialect.name != "sqlite":
        await session.execute(
            select(Employee.id).where(Employee.id == employee_id).with_for_update(key_share=True)
        )
