"""Shared goals (a common KPI): progress reports and rewards paid exactly once per achievement."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.domain.errors import (
    GoalExists,
    InsufficientTokens,
    ReportAlreadyVoided,
    ReportRewardHandedOver,
    UnknownDepartment,
    UnknownGoal,
    UnknownReport,
)
from bot.domain.goals import GoalSpec, Payout, ReportWalletSpent, check_report, payout
from bot.domain.ledger import SystemAccount
from bot.domain.periods import period_key
from bot.domain.roles import Role, require
from bot.domain.shop import Status
from bot.models import (
    Department,
    Employee,
    Goal,
    GoalAchievement,
    GoalProgress,
    Redemption,
    Reward,
    Transfer,
    utcnow,
)
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
    reached: list[int]  # ordinals paid for by this report (empty if none)
    replayed: bool
    granted: list[RedemptionView] = field(default_factory=list)  # rewards owed for reaching it
    number: int = 0  # the report's number, for /goal void
    reporter: str = ""
    capped: bool = False  # the period's payouts are used up; progress still counts


@dataclass(frozen=True)
class VoidedReport:
    number: int
    goal: GoalView
    amount: int
    reporter: str
    reversed_tokens: int  # taken back from each department wallet
    rewards_withdrawn: int  # owed rewards (counted with their quantity) no longer owed


async def _progress(session: AsyncSession, goal: Goal, key: str) -> tuple[int, int]:
    """The period's progress (voided reports left out) and how many targets it has paid."""
    total = await session.scalar(
        select(func.coalesce(func.sum(GoalProgress.amount), 0)).where(
            GoalProgress.goal_id == goal.id,
            GoalProgress.period_key == key,
            GoalProgress.voided_at.is_(None),
        )
    )
    reached = await session.scalar(
        select(func.coalesce(func.sum(GoalAchievement.count), 0)).where(
            GoalAchievement.goal_id == goal.id, GoalAchievement.period_key == key
        )
    )
    return int(total or 0), int(reached or 0)


async def _last_ordinal(session: AsyncSession, goal: Goal, key: str) -> int:
    last = await session.scalar(
        select(func.max(GoalAchievement.ordinal + GoalAchievement.count - 1)).where(
            GoalAchievement.goal_id == goal.id, GoalAchievement.period_key == key
        )
    )
    return int(last or 0)


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
    max_targets: int = 1,
    max_payouts: int = 10,
    now: datetime | None = None,
) -> ProgressReport:
    """A lead reports progress; the targets it newly reaches pay both departments once.

    A report adds at most `max_targets` times the target, and a period pays at most
    `max_payouts` targets, so no report can mint without bound; however many targets one
    report reaches, its payout is one transfer per wallet and one owed reward."""
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
        check_report(amount, goal.target, max_targets, goal.code)
        current = period_key(goal.period, now, tz)
        before, paid = await _progress(session, goal, current)
        progress = GoalProgress(
            key=key,
            goal_id=goal.id,
            period_key=current,
            amount=amount,
            reporter_id=actor.id,
            created_at=now,
        )
        session.add(progress)
        await session.flush()
        due = payout(
            before + amount,
            goal.target,
            goal.repeating,
            paid=paid,
            last_ordinal=await _last_ordinal(session, goal, current),
            max_payouts=max_payouts,
        )
        granted = []
        if due.count:
            session.add(
                GoalAchievement(
                    goal_id=goal.id,
                    period_key=current,
                    ordinal=due.first,
                    count=due.count,
                    progress_id=progress.id,
                )
            )
            await session.flush()  # the unique constraint stops a second payout here
            owed = await _pay(session, goal, current, due, progress.id, actor.id, now)
            if owed is not None:
                granted.append(await redemption_view(session, owed))
        view = await _view(session, goal, tz, now)
        return ProgressReport(
            view,
            amount,
            list(range(due.first, due.first + due.count)),
            False,
            granted,
            number=progress.id,
            reporter=actor.first_name,
            capped=due.capped and goal.repeating,
        )


async def void_report(
    db: Database, *, actor_telegram_id: int, number: int, tz: ZoneInfo, now: datetime | None = None
) -> VoidedReport:
    """An admin voids a report: it stops counting, and exactly the payouts it caused are
    reversed through the ledger; a reward it unlocked that was already handed over stops it."""
    now = now or utcnow()
    async with db.transaction() as session:
        actor = await require_employee(session, actor_telegram_id)
        require(actor.role, Role.ADMIN)
        progress = await session.get(GoalProgress, number, with_for_update=True)
        if progress is None:
            raise UnknownReport(number=number)
        goal = await session.get(Goal, progress.goal_id, with_for_update=True)
        assert goal is not None
        if progress.voided_at is not None:
            raise ReportAlreadyVoided(number=number)
        achievements = (
            await session.scalars(
                select(GoalAchievement).where(GoalAchievement.progress_id == progress.id)
            )
        ).all()
        prefix = _payout_key(goal.id, progress.period_key, progress.id)
        owed = (await session.scalars(select(Redemption).where(Redemption.key == prefix))).all()
        if any(r.fulfilled_at is not None for r in owed):
            raise ReportRewardHandedOver(number=number)
        withdrawn = 0
        for redemption in owed:
            if redemption.status != Status.REJECTED.value:
                withdrawn += redemption.quantity
            redemption.status = Status.REJECTED.value
            redemption.decided_by = actor.id
            redemption.decided_at = now
        # What each wallet received for this report, taken back in one transfer per wallet.
        paid: dict[tuple[int, str], int] = {}
        for transfer in await session.scalars(
            select(Transfer)
            .where(Transfer.idempotency_key.startswith(f"{prefix}:"))
            .order_by(Transfer.id)
        ):
            wallet = (transfer.to_account_id, transfer.idempotency_key.rsplit(":", 1)[1])
            paid[wallet] = paid.get(wallet, 0) + transfer.amount
        issuance = await ledger.system_account_id(session, SystemAccount.ISSUANCE)
        for (wallet_id, department_code), amount in sorted(paid.items()):
            try:
                await ledger.post(
                    session,
                    key=f"goalvoid:{progress.id}:{department_code}",
                    from_account=wallet_id,
                    to_account=issuance,
                    amount=amount,
                    kind="goal",
                    reason=goal.title,
                    actor_id=actor.id,
                    at=now,
                )
            except InsufficientTokens as exc:
                raise ReportWalletSpent(
                    number=number,
                    department=department_code,
                    has=exc.params.get("has", 0),
                    needs=amount,
                ) from exc
        for achievement in achievements:
            await session.delete(achievement)
        progress.voided_at = now
        progress.voided_by = actor.id
        reporter = await session.get(Employee, progress.reporter_id)
        await session.flush()
        return VoidedReport(
            number=progress.id,
            goal=await _view(session, goal, tz, now),
            amount=progress.amount,
            reporter=reporter.first_name if reporter else "",
            reversed_tokens=max(paid.values(), default=0),
            rewards_withdrawn=withdrawn,
        )


def _payout_key(goal_id: int, period: str, progress_id: int) -> str:
    """What one report paid is keyed by the report, so a target reached again after a void is
    paid afresh; the "r" keeps these keys apart from the older per-target ones."""
    return f"goal:{goal_id}:{period}:r{progress_id}"


async def _pay(
    session: AsyncSession,
    goal: Goal,
    period: str,
    due: Payout,
    progress_id: int,
    actor_id: int,
    now: datetime,
) -> Redemption | None:
    """Pay the targets of one report at once: one transfer to each department wallet, and the
    goal's reward (if any), as many times over, as an approved redemption the admins now owe."""
    key = _payout_key(goal.id, period, progress_id)
    issuance = await ledger.system_account_id(session, SystemAccount.ISSUANCE)
    if goal.reward_tokens:
        departments = await session.scalars(select(Department).where(Department.active))
        for department in departments:
            wallet = await department_account(session, department.id)
            await ledger.post(
                session,
                key=f"{key}:{department.code}",
                from_account=issuance,
                to_account=wallet.id,
                amount=goal.reward_tokens * due.count,
                kind="goal",
                reason=goal.title,
                actor_id=actor_id,
                at=now,
            )
    if goal.reward_id is None:
        return None
    owed = Redemption(
        key=key,
        reward_id=goal.reward_id,
        department_id=goal.reward_department_id,
        goal_id=goal.id,
        price=0,
        quantity=due.count,
        status=Status.APPROVED.value,
        note=goal.title,
        decided_at=now,
        created_at=now,
    )
    session.add(owed)
    await session.flush()
    return owed
