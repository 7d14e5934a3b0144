"""The weekly and monthly digest: scoreboard, thanks, redemptions, goals, meetings and the
cross-department index, computed with a fixed number of aggregate queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.domain.digest import CrossCounts
from bot.domain.ledger import SystemAccount
from bot.domain.shop import Status
from bot.models import (
    Account,
    Department,
    Employee,
    MixerGroup,
    MixerMember,
    MixerRound,
    Redemption,
    Reward,
    Thanks,
    Transfer,
)
from bot.services.goals import GoalView, active_goals
from bot.services.ledger import system_account_id
from bot.services.reports import DepartmentScore, department_of_account, department_scores

CHART_WEEKS = 8


@dataclass(frozen=True)
class Named:
    name: str
    amount: int


@dataclass(frozen=True)
class Digest:
    start: datetime
    end: datetime
    scores: list[DepartmentScore]
    top_givers: list[Named]
    top_receivers: list[Named]
    redemptions: list[Named]  # reward name (English and Russian joined by "|"), count
    goals: list[GoalView]
    meetings: int
    pains: list[str]
    cross: CrossCounts
    previous_cross: CrossCounts
    unanswered: list[str]  # people who left last mixer's invitation unanswered
    chart_weeks: list[datetime]
    chart_tokens: dict[str, list[int]]  # department code -> tokens per week
    chart_index: list[float | None]


async def _cross(session: AsyncSession, start: datetime, end: datetime) -> CrossCounts:
    thanks_row = (
        await session.execute(
            select(
                func.count(Thanks.id),
                func.coalesce(func.sum(case((Thanks.cross_department, 1), else_=0)), 0),
            ).where(Thanks.created_at >= start, Thanks.created_at < end)
        )
    ).one()
    per_group = (
        select(
            MixerMember.group_id,
            func.count(func.distinct(Employee.department_id)).label("departments"),
        )
        .join(Employee, Employee.id == MixerMember.employee_id)
        .join(MixerGroup, MixerGroup.id == MixerMember.group_id)
        .where(MixerGroup.met_at >= start, MixerGroup.met_at < end)
        .group_by(MixerMember.group_id)
        .subquery()
    )
    meetings_row = (
        await session.execute(
            select(
                func.count(per_group.c.group_id),
                func.coalesce(func.sum(case((per_group.c.departments > 1, 1), else_=0)), 0),
            )
        )
    ).one()
    return CrossCounts(
        int(thanks_row[0]), int(thanks_row[1]), int(meetings_row[0]), int(meetings_row[1])
    )


async def compute(
    db: Database,
    *,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    shame: bool = False,
    previous_start: datetime | None = None,
) -> Digest:
    """The digest of [start, end), compared with [previous_start, start): by default the
    period of the same length before it (a monthly digest passes the previous month)."""
    previous_start = previous_start or start - (end - start)
    async with db.read() as session:
        issuance = await system_account_id(session, SystemAccount.ISSUANCE)
        scores = await department_scores(session, issuance, start, end)
        departments = list(
            await session.scalars(
                select(Department).where(Department.active).order_by(Department.id)
            )
        )

        async def top(column: Any, amount: Any) -> list[Named]:
            rows = await session.execute(
                select(Employee.first_name, func.sum(amount).label("n"))
                .join(Thanks, column == Employee.id)
                .where(Thanks.created_at >= start, Thanks.created_at < end)
                .group_by(Employee.id, Employee.first_name)
                .order_by(func.sum(amount).desc(), Employee.id)
                .limit(3)
            )
            return [Named(name, int(n)) for name, n in rows]

        givers = await top(Thanks.giver_id, Thanks.amount)
        receivers = await top(Thanks.receiver_id, Thanks.paid)
        redeemed = [
            Named(f"{en}|{ru}", int(n))
            for en, ru, n in await session.execute(
                select(Reward.name_en, Reward.name_ru, func.count(Redemption.id))
                .join(Redemption, Redemption.reward_id == Reward.id)
                .where(
                    Redemption.status == Status.APPROVED.value,
                    Redemption.decided_at >= start,
                    Redemption.decided_at < end,
                )
                .group_by(Reward.id, Reward.name_en, Reward.name_ru)
                .order_by(func.count(Redemption.id).desc())
            )
        ]
        meetings = await session.scalar(
            select(func.count(MixerGroup.id)).where(
                MixerGroup.met_at >= start, MixerGroup.met_at < end
            )
        )
        # A pain counts when its meeting happened in the period, or its round started in it
        # (a meeting one person never confirmed still had its conversation).
        pains = list(
            await session.scalars(
                select(MixerGroup.pain)
                .join(MixerRound, MixerRound.id == MixerGroup.round_id)
                .where(
                    MixerGroup.pain.is_not(None),
                    or_(
                        and_(MixerGroup.met_at >= start, MixerGroup.met_at < end),
                        and_(
                            MixerGroup.met_at.is_(None),
                            MixerRound.created_at >= start,
                            MixerRound.created_at < end,
                        ),
                    ),
                )
                .order_by(MixerGroup.id)
            )
        )
        cross = await _cross(session, start, end)
        previous = await _cross(session, previous_start, start)
        unanswered: list[str] = []
        if shame:
            latest = await session.scalar(select(func.max(MixerRound.id)))
            unanswered = list(
                await session.scalars(
                    select(Employee.first_name)
                    .join(MixerMember, MixerMember.employee_id == Employee.id)
                    .join(MixerGroup, MixerGroup.id == MixerMember.group_id)
                    .where(MixerGroup.round_id == latest, MixerMember.confirmed_at.is_(None))
                    .order_by(Employee.first_name)
                    .limit(5)
                )
            )
        weeks = [end - timedelta(weeks=CHART_WEEKS - i) for i in range(CHART_WEEKS)]
        member, owner = department_of_account()
        bucket = case(
            *((Transfer.created_at >= w, i) for i, w in reversed(list(enumerate(weeks)))),
            else_=-1,
        )
        per_week = await session.execute(
            select(bucket, owner, func.sum(Transfer.amount))
            .select_from(Transfer)
            .join(Account, Account.id == Transfer.to_account_id)
            .outerjoin(member, member.id == Account.employee_id)
            .where(
                Transfer.from_account_id == issuance,
                Transfer.created_at >= weeks[0],
                Transfer.created_at < end,
            )
            .group_by(bucket, owner)
        )
        codes = {d.id: d.code for d in departments}
        chart_tokens = {d.code: [0] * CHART_WEEKS for d in departments}
        for week, department_id, total in per_week:
            if 0 <= week < CHART_WEEKS and department_id in codes:
                chart_tokens[codes[department_id]][week] = int(total)
        thanks_bucket = case(
            *((Thanks.created_at >= w, i) for i, w in reversed(list(enumerate(weeks)))),
            else_=-1,
        )
        index_rows = await session.execute(
            select(
                thanks_bucket,
                func.count(Thanks.id),
                func.sum(case((Thanks.cross_department, 1), else_=0)),
            )
            .where(and_(Thanks.created_at >= weeks[0], Thanks.created_at < end))
            .group_by(thanks_bucket)
        )
        counts = [[0, 0] for _ in range(CHART_WEEKS)]  # per week: [all, crossed]
        for week, total, crossed in index_rows:
            if 0 <= week < CHART_WEEKS:
                counts[week][0] += int(total)
                counts[week][1] += int(crossed or 0)
        meeting_bucket = case(
            *((MixerGroup.met_at >= w, i) for i, w in reversed(list(enumerate(weeks)))),
            else_=-1,
        )
        per_meeting = (
            select(
                meeting_bucket.label("week"),
                func.count(func.distinct(Employee.department_id)).label("departments"),
            )
            .join(MixerMember, MixerMember.group_id == MixerGroup.id)
            .join(Employee, Employee.id == MixerMember.employee_id)
            .where(MixerGroup.met_at >= weeks[0], MixerGroup.met_at < end)
            .group_by(MixerGroup.id, meeting_bucket)
            .subquery()
        )
        meeting_rows = await session.execute(
            select(
                per_meeting.c.week,
                func.count(),
                func.sum(case((per_meeting.c.departments > 1, 1), else_=0)),
            ).group_by(per_meeting.c.week)
        )
        for week, total, crossed in meeting_rows:
            if 0 <= week < CHART_WEEKS:
                counts[week][0] += int(total)
                counts[week][1] += int(crossed or 0)
        chart_index: list[float | None] = [
            crossed / total if total else None for total, crossed in counts
        ]
    goals = await active_goals(db, tz, end - timedelta(seconds=1))
    return Digest(
        start=start,
        end=end,
        scores=scores,
        top_givers=givers,
        top_receivers=receivers,
        redemptions=redeemed,
        goals=goals,
        meetings=int(meetings or 0),
        pains=[p for p in pains if p],
        cross=cross,
        previous_cross=previous,
        unanswered=unanswered,
        chart_weeks=weeks,
        chart_tokens=chart_tokens,
        chart_index=chart_index,
    )
