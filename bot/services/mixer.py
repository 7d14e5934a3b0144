"""The weekly mixer: rounds of cross-department pairs, "We met", and the client pains discussed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.db import Database
from bot.domain.errors import AlreadyConfirmed, MixerOver, NotInPair
from bot.domain.ledger import SystemAccount
from bot.domain.mixer import clean_pain, prompt_for, topic_for, week_number
from bot.domain.pairing import pair
from bot.domain.roles import Role, require
from bot.models import (
    Department,
    Employee,
    MixerGroup,
    MixerMember,
    MixerRound,
    MixerWaiting,
    utcnow,
)
from bot.services import ledger
from bot.services.directory import (
    EMPLOYEE_WIDTH,
    EmployeeView,
    changing,
    employee_rows,
    employee_view,
    require_employee,
)


@dataclass(frozen=True)
class GroupView:
    id: int
    prompt: int
    members: list[EmployeeView]
    confirmed: list[int]  # employee ids who pressed "We met"
    pain: str | None
    met: bool


@dataclass(frozen=True)
class RoundView:
    id: int
    period: str
    topic: int
    groups: list[GroupView]
    waiting: list[EmployeeView]


@dataclass(frozen=True)
class Confirmation:
    group: GroupView
    everyone_met: bool
    reward: int


async def _round_view(session: AsyncSession, round_: MixerRound) -> RoundView:
    groups = list(
        await session.scalars(
            select(MixerGroup).where(MixerGroup.round_id == round_.id).order_by(MixerGroup.id)
        )
    )
    rows = await session.execute(
        employee_rows()
        .add_columns(MixerMember.group_id, MixerMember.confirmed_at)
        .join(MixerMember, MixerMember.employee_id == Employee.id)
        .where(MixerMember.group_id.in_([g.id for g in groups]))
        .order_by(MixerMember.id)
    )
    members: dict[int, list[EmployeeView]] = {}
    confirmed: dict[int, list[int]] = {}
    for row in rows:
        person, (group_id, confirmed_at) = employee_view(row), row[EMPLOYEE_WIDTH:]
        members.setdefault(group_id, []).append(person)
        if confirmed_at is not None:
            confirmed.setdefault(group_id, []).append(person.id)
    waiting_rows = await session.execute(
        employee_rows()
        .join(MixerWaiting, MixerWaiting.employee_id == Employee.id)
        .where(MixerWaiting.round_id == round_.id)
    )
    return RoundView(
        id=round_.id,
        period=round_.period,
        topic=int(round_.topic),
        groups=[
            GroupView(
                g.id,
                int(g.prompt),
                members.get(g.id, []),
                confirmed.get(g.id, []),
                g.pain,
                g.met_at is not None,
            )
            for g in groups
        ],
        waiting=[employee_view(row) for row in waiting_rows],
    )


async def plan_round(db: Database, period: str) -> RoundView:
    """This week's groups: made once per period (a second call returns the same round)."""
    async with db.transaction() as session:
        existing = await session.scalar(select(MixerRound).where(MixerRound.period == period))
        if existing is not None:
            return await _round_view(session, existing)
        departments = list(
            await session.scalars(
                select(Department.id).where(Department.active).order_by(Department.id)
            )
        )
        people = (
            await session.execute(
                select(Employee.id, Employee.department_id).where(
                    ~Employee.paused, Employee.department_id.in_(departments)
                )
            )
        ).all()
        # The first department meets everyone else: with Marketing, Sales and Other, marketers
        # meet sellers and the Other people alike.
        first = {pid for pid, dep in people if departments and dep == departments[0]}
        others = {pid for pid, _ in people} - first
        a, b = aliased(MixerMember), aliased(MixerMember)
        met_rows = await session.execute(
            select(a.employee_id, b.employee_id, func.count())
            .join(b, (a.group_id == b.group_id) & (a.employee_id < b.employee_id))
            .group_by(a.employee_id, b.employee_id)
        )
        met = {(x, y): n for x, y, n in met_rows}
        previous = await session.scalar(select(MixerRound).order_by(MixerRound.id.desc()))
        waiting_first: list[int] = []
        if previous is not None:
            waiting_first = list(
                await session.scalars(
                    select(MixerWaiting.employee_id).where(MixerWaiting.round_id == previous.id)
                )
            )
        plan = pair(sorted(first), sorted(others), met, week_number(period), waiting_first)
        round_ = MixerRound(period=period, topic=str(topic_for(period)))
        session.add(round_)
        await session.flush()
        for index, people_in_group in enumerate(plan.groups):
            group = MixerGroup(round_id=round_.id, prompt=str(prompt_for(period, index)))
            session.add(group)
            await session.flush()
            session.add_all(
                MixerMember(group_id=group.id, employee_id=person) for person in people_in_group
            )
        session.add_all(
            MixerWaiting(round_id=round_.id, employee_id=person) for person in plan.waiting
        )
        await session.flush()
        return await _round_view(session, round_)


async def latest_round(db: Database) -> RoundView | None:
    async with db.read() as session:
        round_ = await session.scalar(select(MixerRound).order_by(MixerRound.id.desc()))
        return await _round_view(session, round_) if round_ else None


async def unconfirmed(db: Database, period: str) -> list[tuple[EmployeeView, GroupView]]:
    """The people of the period's round who have not pressed "We met", with their group;
    people who have paused themselves since are left alone."""
    async with db.read() as session:
        round_ = await session.scalar(select(MixerRound).where(MixerRound.period == period))
        if round_ is None:
            return []
        view = await _round_view(session, round_)
    return [
        (person, group)
        for group in view.groups
        for person in group.members
        if person.id not in group.confirmed and not person.paused
    ]


async def confirm(
    db: Database, *, telegram_id: int, group_id: int, reward: int, now: datetime | None = None
) -> Confirmation:
    """A member presses "We met"; when everyone in the group has, each earns `reward` once."""
    now = now or utcnow()
    async with db.transaction() as session:
        person = await require_employee(session, telegram_id)
        group = await session.get(MixerGroup, group_id, with_for_update=True)
        latest = await session.scalar(select(func.max(MixerRound.id)))
        if group is None:
            raise NotInPair()
        if group.round_id != latest:
            raise MixerOver()
        member = await session.scalar(
            select(MixerMember).where(
                MixerMember.group_id == group_id, MixerMember.employee_id == person.id
            )
        )
        if member is None:
            raise NotInPair()
        if member.confirmed_at is not None:
            raise AlreadyConfirmed()
        member.confirmed_at = now
        await session.flush()
        members = list(
            await session.scalars(select(MixerMember).where(MixerMember.group_id == group_id))
        )
        everyone = all(m.confirmed_at is not None for m in members)
        if everyone and group.met_at is None:
            group.met_at = now
            issuance = await ledger.system_account_id(session, SystemAccount.ISSUANCE)
            views = {
                v.id: v
                for v in [
                    employee_view(row)
                    for row in await session.execute(
                        employee_rows().where(Employee.id.in_([m.employee_id for m in members]))
                    )
                ]
            }
            for m in members:
                if reward:
                    await ledger.post(
                        session,
                        key=f"mixer:{group_id}:{m.employee_id}",
                        from_account=issuance,
                        to_account=views[m.employee_id].account_id,
                        amount=reward,
                        kind="mixer",
                        reason="mixer meeting",
                        at=now,
                    )
        round_ = await session.get(MixerRound, group.round_id)
        assert round_ is not None
        view = await _round_view(session, round_)
    return Confirmation(
        next(g for g in view.groups if g.id == group_id), everyone, reward if everyone else 0
    )


async def require_member(db: Database, *, telegram_id: int, group_id: int) -> None:
    """Raise NotInPair unless the person is in the mixer group."""
    async with db.read() as session:
        person = await require_employee(session, telegram_id)
        member = await session.scalar(
            select(MixerMember.id).where(
                MixerMember.group_id == group_id, MixerMember.employee_id == person.id
            )
        )
    if member is None:
        raise NotInPair()


async def add_pain(db: Database, *, telegram_id: int, group_id: int, text: str) -> str:
    """Note the client pain a group discussed; it appears in the digest."""
    pain = clean_pain(text)
    async with db.transaction() as session:
        person = await require_employee(session, telegram_id)
        group = await session.get(MixerGroup, group_id)
        member = await session.scalar(
            select(MixerMember.id).where(
                MixerMember.group_id == group_id, MixerMember.employee_id == person.id
            )
        )
        if group is None or member is None:
            raise NotInPair()
        group.pain = pain
    return pain


async def set_paused(db: Database, *, telegram_id: int, paused: bool) -> None:
    async with changing(db) as session:
        person = await require_employee(session, telegram_id)
        employee = await session.get(Employee, person.id)
        assert employee is not None
        employee.paused = paused


async def report(db: Database, *, actor_telegram_id: int) -> RoundView | None:
    """Admins: the latest round, its groups and who pressed "We met"."""
    async with db.read() as session:
        actor = await require_employee(session, actor_telegram_id)
        require(actor.role, Role.ADMIN)
    return await latest_round(db)
