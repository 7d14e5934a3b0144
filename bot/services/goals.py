"""Shared goals (a common KPI): progress reports and rewards paid exactly once per achievement."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.domain.errors import GoalExists, UnknownDepartment, UnknownGoal
from bot.domain.goals import GoalSpec, new_achievements
from bot.domain.ledger import SystemAccount
from bot.domain.periods import period_key
from bot.domain.roles import Role, require
from bot.domain.shop import Status
from bot.models import Department, Goal, GoalAchievement, GoalProgress, Redemption, Reward, utcnow
from bot.services import ledger
from bot.services.directory import find_department, require_employee
from bot.services.shop import (
    RedemptionView,
    RewardView,
    find_reward,
    redemption_view,
    reward_view,
)
from bot.services.tokens import department_account


@dataclass(frozen=True)
class GoalView:
    code: str
    title: str
    target: int
    period: str
    repeating: bool
    reward_tokens: int
    reward: RewardView | None
    reward_department: str | None
    progress: int  # in the current period
    times_reached: int  # in the current period


@dataclass(frozen=True)
class ProgressReport:
    goal: GoalView
    added: int
    reached: list[int]  # ordinals reached by this report (empty if none)
    replayed: bool
    granted: list[RedemptionView] = field(default_factory=list)  # rewards owed for reaching it


async def _progress(session: AsyncSession, goal: Goal, key: str) -> tuple[int, int]:
    total = await session.scalar(
        select(func.coalesce(func.sum(GoalProgress.amount), 0)).where(
            GoalProgress.goal_id == goal.id, GoalProgress.period_key == key
        )
    )
    reached = await session.scalar(
        select(func.count(GoalAchievement.id)).where(
            GoalAchievement.goal_id == goal.id, GoalAchievement.period_key == key
        )
    )
    return int(total or 0), int(reached or 0)


async def _view(session: AsyncSession, goal: Goal, tz: ZoneInfo, now: datetime) -> GoalView:
    total, reached = await _progress(session, goal, period_key(goal.period, now, tz))
    reward = await session.get(Reward, goal.reward_id) if goal.reward_id else None
    department = (
        await session.get(Department, goal.reward_department_id)
        if goal.reward_department_id
        else None
    )
    return GoalView(
        code=goal.code,
        title=goal.title,
        target=goal.target,
        period=goal.period,
        repeating=goal.repeating,
        reward_tokens=goal.reward_tokens,
        reward=reward_view(reward) if reward else None,
        reward_department=department.code if department else None,
        progress=total,
        times_reached=reached,
    )


async def active_goals(db: Database, tz: ZoneInfo, now: datetime | None = None) -> list[GoalView]:
    now = now or utcnow()
    async with db.read() as session:
        goals = await session.scalars(select(Goal).where(Goal.active).order_by(Goal.id))
        return [await _view(session, goal, tz, now) for goal in goals]


async def create(db: Database, *, actor_telegram_id: int, goal: GoalSpec, tz: ZoneInfo) -> GoalView:
    async with db.transaction() as session:
        actor = await require_employee(session, actor_telegram_id)
        require(actor.role, Role.ADMIN)
        existing = await session.scalar(select(Goal).where(Goal.code == goal.code))
        if existing is not None and existing.active:
            raise GoalExists(code=goal.code)
        reward_id = department_id = None
        if goal.reward_code is not None:
            reward_id = (await find_reward(session, goal.reward_code)).id
            department = await find_department(session, goal.reward_department or "")
            if department is None:
                raise UnknownDepartment(name=goal.reward_department or "")
            department_id = department.id
        if existing is not None:
            # A goal switched off keeps its history under a code no command can name ("~" is
            # not allowed in codes), so the new goal starts from zero instead of inheriting the
            # old one's progress and the targets it already paid for.
            existing.code = f"{existing.id}~{existing.code}"[:32]
            await session.flush()
        row = Goal(
            code=goal.code,
            title=goal.title,
            target=goal.target,
            period=goal.period,
            reward_tokens=goal.reward_tokens,
            repeating=goal.repeating,
            active=True,
            reward_id=reward_id,
            reward_department_id=department_id,
        )
        session.add(row)
        await session.flush()
        return await _view(session, row, tz, utcnow())


async def deactivate(db: Database, *, actor_telegram_id: int, code: str) -> None:
    async with db.transaction() as session:
        actor = await require_employee(session, actor_telegram_id)
        require(actor.role, Role.ADMIN)
        goal = await session.scalar(select(Goal).where(Goal.code == code.lower(), Goal.active))
        if goal is None:
            raise UnknownGoal(code=code[:32])
        goal.active = False


async def report(
    db: Database,
    *,
    actor_telegram_id: int,
    code: str,
    amount: int,
    key: str,
    tz: ZoneInfo,
    now: datetime | None = None,
) -> ProgressReport:
    """A lead reports progress; each newly reached target pays both departments once."""
    now = now or utcnow()
    async with db.transaction() as session:
        actor = await require_employee(session, actor_telegram_id)
        require(actor.role, Role.LEAD)
        goal = await session.scalar(
            select(Goal).where(Goal.code == code.lower(), Goal.active).with_for_update()
        )
        if goal is None:
            raise UnknownGoal(code=code[:32])
        if await session.scalar(select(GoalProgress.id).where(GoalProgress.key == key)):
            return ProgressReport(await _view(session, goal, tz, now), amount, [], replayed=True)
        current = period_key(goal.period, now, tz)
        before, _ = await _progress(session, goal, current)
        session.add(
            GoalProgress(
                key=key,
                goal_id=goal.id,
                period_key=current,
                amount=amount,
                reporter_id=actor.id,
                created_at=now,
            )
        )
        reached = list(new_achievements(before, before + amount, goal.target, goal.repeating))
        granted = []
        for ordinal in reached:
            session.add(GoalAchievement(goal_id=goal.id, period_key=current, ordinal=ordinal))
            await session.flush()  # the unique constraint stops a second payout here
            owed = await _pay(session, goal, current, ordinal, actor.id, now)
            if owed is not None:
                granted.append(await redemption_view(session, owed))
        await session.flush()
        view = await _view(session, goal, tz, now)
        return ProgressReport(view, amount, reached, False, granted)


async def _pay(
    session: AsyncSession, goal: Goal, period: str, ordinal: int, actor_id: int, now: datetime
) -> Redemption | None:
    """Pay one achievement: tokens to every department wallet, and the goal's reward (if any)
    as an approved redemption the admins now owe; returns that redemption."""
    issuance = await ledger.system_account_id(session, SystemAccount.ISSUANCE)
    if goal.reward_tokens:
        departments = await session.scalars(select(Department).where(Department.active))
        for department in departments:
            wallet = await department_account(session, department.id)
            await ledger.post(
                session,
                key=f"goal:{goal.id}:{period}:{ordinal}:{department.code}",
                from_account=issuance,
                to_account=wallet.id,
                amount=goal.reward_tokens,
                kind="goal",
                reason=goal.title,
                actor_id=actor_id,
                at=now,
            )
    if goal.reward_id is None:
        return None
    owed = Redemption(
        key=f"goal:{goal.id}:{period}:{ordinal}",
        reward_id=goal.reward_id,
        department_id=goal.reward_department_id,
        goal_id=goal.id,
        price=0,
        status=Status.APPROVED.value,
        note=goal.title,
        decided_at=now,
        created_at=now,
    )
    session.add(owed)
    await session.flush()
    return owed
