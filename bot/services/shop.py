"""The reward shop: rewards, redemptions with admin approval, chip-ins to department wallets."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database, rowcount
from bot.domain.commands import possible_id
from bot.domain.errors import (
    AlreadyBacked,
    AlreadySettled,
    NotApproved,
    NotBackedYet,
    NotYourDepartment,
    OutOfStock,
    OwnRequest,
    RedemptionLimit,
    RewardExists,
    RewardInactive,
    UnknownRedemption,
    UnknownReward,
)
from bot.domain.ledger import SystemAccount, check_amount
from bot.domain.periods import period_start
from bot.domain.roles import Role, at_least, require
from bot.domain.shop import DEFAULT_REWARDS, NewReward, RewardKind, Status
from bot.domain.text import ascii_number
from bot.models import Account, Department, Employee, Redemption, RedemptionNotice, Reward, utcnow
from bot.services import ledger
from bot.services.directory import (
    DepartmentView,
    EmployeeView,
    employee_rows,
    employee_view,
    lock,
    require_employee,
)
from bot.services.tokens import department_account


@dataclass(frozen=True)
class RewardView:
    id: int
    code: str
    name_en: str
    name_ru: str
    price: int
    kind: str
    stock: int | None
    per_person_limit: int | None
    limit_period: str
    active: bool

    def name(self, language: str) -> str:
        return self.name_ru if language == "ru" else self.name_en


@dataclass(frozen=True)
class RedemptionView:
    id: int
    reward: RewardView
    requester_telegram_id: int | None
    requester_name: str | None
    requester_language: str | None
    department: DepartmentView | None
    price: int
    status: str
    note: str | None
    decided_by: str | None
    created_at: datetime
    fulfilled: bool
    from_goal: bool
    backer: str | None = None  # the colleague who backed a department request
    quantity: int = 1  # an owed goal reward earned several times at once
    created: bool = False  # this very call made it (so only this call tells anyone)


@dataclass(frozen=True)
class Notice:
    chat_id: int
    message_id: int
    language: str


def reward_view(reward: Reward) -> RewardView:
    return RewardView(
        reward.id,
        reward.code,
        reward.name_en,
        reward.name_ru,
        reward.price,
        reward.kind,
        reward.stock,
        reward.per_person_limit,
        reward.limit_period,
        reward.active,
    )


async def seed_rewards(db: Database) -> None:
    """Stock the shop with sensible defaults the first time the bot starts."""
    async with db.transaction() as session:
        if await session.scalar(select(func.count(Reward.id))):
            return
        for item in DEFAULT_REWARDS:
            session.add(
                Reward(
                    code=item.code,
                    name_en=item.name_en,
                    name_ru=item.name_ru,
                    price=item.price,
                    kind=item.kind.value,
                    per_person_limit=item.per_person_limit,
                    limit_period="month",
                )
            )


async def rewards(db: Database, *, include_inactive: bool = False) -> list[RewardView]:
    async with db.read() as session:
        query = select(Reward).order_by(Reward.price, Reward.id)
        if not include_inactive:
            query = query.where(Reward.active)
        return [reward_view(r) for r in await session.scalars(query)]


async def find_reward(session: AsyncSession, ref: int | str) -> Reward:
    number = ref if isinstance(ref, int) else ascii_number(ref, max_digits=12)
    reward: Reward | None
    if number is not None:
        reward = await session.get(Reward, number) if possible_id(number) else None
    else:
        reward = await session.scalar(select(Reward).where(Reward.code == str(ref).lower()))
    if reward is None:
        raise UnknownReward(name=str(ref)[:32])
    return reward


async def redemption_view(session: AsyncSession, redemption: Redemption) -> RedemptionView:
    reward = await session.get(Reward, redemption.reward_id)
    assert reward is not None
    requester = (
        await session.get(Employee, redemption.employee_id) if redemption.employee_id else None
    )
    department = (
        await session.get(Department, redemption.department_id)
        if redemption.department_id
        else None
    )
    decider = await session.get(Employee, redemption.decided_by) if redemption.decided_by else None
    backer = await session.get(Employee, redemption.backer_id) if redemption.backer_id else None
    return RedemptionView(
        id=redemption.id,
        reward=reward_view(reward),
        requester_telegram_id=requester.telegram_id if requester else None,
        requester_name=requester.first_name if requester else None,
        requester_language=requester.language if requester else None,
        department=DepartmentView(department.id, department.code, department.name)
        if department
        else None,
        price=redemption.price,
        status=redemption.status,
        note=redemption.note,
        decided_by=decider.first_name if decider else None,
        created_at=redemption.created_at,
        fulfilled=redemption.fulfilled_at is not None,
        from_goal=redemption.goal_id is not None,
        backer=backer.first_name if backer else None,
        quantity=redemption.quantity,
    )


async def redeem(
    db: Database,
    *,
    telegram_id: int,
    reward_ref: int | str,
    key: str,
    tz: ZoneInfo,
    now: datetime | None = None,
) -> RedemptionView:
    """Ask for a reward: reserve its price in escrow and one unit of stock, pending approval.

    A department reward spends what the whole department earned: asked for by a member who is
    not a lead, it is only proposed until a colleague backs it (`back`)."""
    now = now or utcnow()
    async with db.transaction() as session:
        employee = await require_employee(session, telegram_id)
        await lock(session, employee.id)
        existing = await session.scalar(select(Redemption).where(Redemption.key == key))
        if existing is not None:
            return await redemption_view(session, existing)
        reward = await find_reward(session, reward_ref)
        if not reward.active:
            raise RewardInactive(name=reward.name_en)
        if reward.per_person_limit is not None:
            since = period_start(reward.limit_period, now, tz)
            taken = await session.scalar(
                select(func.count(Redemption.id)).where(
                    Redemption.reward_id == reward.id,
                    Redemption.employee_id == employee.id,
                    Redemption.status.in_([Status.PROPOSED, Status.PENDING, Status.APPROVED]),
                    Redemption.created_at >= since,
                )
            )
            if (taken or 0) >= reward.per_person_limit:
                raise RedemptionLimit(limit=reward.per_person_limit, period=reward.limit_period)
        status = Status.PENDING
        if reward.kind == RewardKind.DEPARTMENT:
            payer_id = (await department_account(session, employee.department.id)).id
            if not at_least(employee.role, Role.LEAD) and await _colleagues(session, employee):
                status = Status.PROPOSED
        else:
            payer_id = employee.account_id
        taken_stock = await session.execute(
            update(Reward)
            .where(Reward.id == reward.id, or_(Reward.stock.is_(None), Reward.stock > 0))
            .values(stock=Reward.stock - 1)
        )
        if rowcount(taken_stock) != 1:
            raise OutOfStock(name=reward.name_en)
        redemption = Redemption(
            key=key,
            reward_id=reward.id,
            employee_id=employee.id,
            department_id=employee.department.id if reward.kind == RewardKind.DEPARTMENT else None,
            account_id=payer_id,
            price=reward.price,
            status=status.value,
            created_at=now,
        )
        session.add(redemption)
        await session.flush()
        await ledger.post(
            session,
            key=f"redemption:{redemption.id}:reserve",
            from_account=payer_id,
            to_account=await ledger.system_account_id(session, SystemAccount.ESCROW),
            amount=reward.price,
            kind="reserve",
            reason=reward.name_en,
            actor_id=employee.id,
            at=now,
        )
        return replace(await redemption_view(session, redemption), created=True)


async def _colleagues(session: AsyncSession, employee: EmployeeView) -> list[EmployeeView]:
    rows = await session.execute(
        employee_rows()
        .where(Employee.department_id == employee.department.id, Employee.id != employee.id)
        .order_by(Employee.id)
    )
    return [employee_view(row) for row in rows]


async def department_told(db: Database, r: RedemptionView) -> list[EmployeeView]:
    """Who hears of a department request: its department, but for the one who asked."""
    if r.department is None or r.requester_telegram_id is None:
        return []
    async with db.read() as session:
        requester = await require_employee(session, r.requester_telegram_id)
        return await _colleagues(session, requester)


async def back(
    db: Database, *, actor_telegram_id: int, redemption_id: int, now: datetime | None = None
) -> RedemptionView:
    """A colleague backs a proposed department request; it then waits for the admins."""
    async with db.transaction() as session:
        actor = await require_employee(session, actor_telegram_id)
        redemption = (
            await session.get(Redemption, redemption_id) if possible_id(redemption_id) else None
        )
        if redemption is None:
            raise UnknownRedemption(id=redemption_id)
        department = (
            await session.get(Department, redemption.department_id)
            if redemption.department_id
            else None
        )
        if department is None or redemption.goal_id is not None:
            raise UnknownRedemption(id=redemption_id)
        if department.id != actor.department.id:
            raise NotYourDepartment(department=department.code)
        if redemption.employee_id == actor.id:
            raise OwnRequest()
        backed = await session.execute(
            update(Redemption)
            .where(Redemption.id == redemption.id, Redemption.status == Status.PROPOSED.value)
            .values(status=Status.PENDING.value, backer_id=actor.id)
        )
        redemption = await session.get(Redemption, redemption.id, populate_existing=True)
        assert redemption is not None
        if rowcount(backed) != 1:
            if redemption.backer_id is not None:
                backer = await session.get(Employee, redemption.backer_id)
                raise AlreadyBacked(id=redemption.id, name=backer.first_name if backer else "")
            raise AlreadySettled(id=redemption.id, status=redemption.status)
        return replace(await redemption_view(session, redemption), created=True)


async def _settle_reason(session: AsyncSession, reward_id: int, note: str | None) -> str:
    """What a settling transfer says: the reward, and the admin's note if there is one."""
    name = await session.scalar(select(Reward.name_en).where(Reward.id == reward_id))
    return f"{name}: {note}" if note else str(name)


async def _close(
    session: AsyncSession,
    redemption_id: int,
    status: Status,
    *,
    decided_by: int | None,
    note: str | None,
    now: datetime,
) -> Redemption:
    """Move a pending redemption to `status` exactly once and post its settling transfer; one
    still proposed may be rejected or expire, not approved."""
    if not possible_id(redemption_id):
        raise UnknownRedemption(id=redemption_id)
    open_ = [Status.PENDING.value]
    if status is not Status.APPROVED:
        open_.append(Status.PROPOSED.value)
    changed = await session.execute(
        update(Redemption)
        .where(Redemption.id == redemption_id, Redemption.status.in_(open_))
        .values(status=status.value, decided_by=decided_by, decided_at=now, note=note)
    )
    redemption = await session.get(Redemption, redemption_id, populate_existing=True)
    if redemption is None:
        raise UnknownRedemption(id=redemption_id)
    if rowcount(changed) != 1:
        if redemption.status == Status.PROPOSED.value:
            raise NotBackedYet(id=redemption_id)
        raise AlreadySettled(id=redemption_id, status=redemption.status)
    assert redemption.account_id is not None
    escrow = await ledger.system_account_id(session, SystemAccount.ESCROW)
    if status is Status.APPROVED:
        to_account, kind = await ledger.system_account_id(session, SystemAccount.SPENT), "spend"
    else:
        to_account, kind = redemption.account_id, "refund"
        await session.execute(
            update(Reward)
            .where(Reward.id == redemption.reward_id, Reward.stock.is_not(None))
            .values(stock=Reward.stock + 1)
        )
    await ledger.post(
        session,
        key=f"redemption:{redemption.id}:settle",
        from_account=escrow,
        to_account=to_account,
        amount=redemption.price,
        kind=kind,
        reason=await _settle_reason(session, redemption.reward_id, note),
        actor_id=decided_by,
        at=now,
    )
    return redemption


async def settle(
    db: Database,
    *,
    actor_telegram_id: int,
    redemption_id: int,
    approve: bool,
    note: str | None = None,
    now: datetime | None = None,
) -> RedemptionView:
    """An admin approves (the tokens are spent) or rejects (refunded) a pending redemption."""
    async with db.transaction() as session:
        actor = await require_employee(session, actor_telegram_id)
        require(actor.role, Role.ADMIN)
        redemption = await _close(
            session,
            redemption_id,
            Status.APPROVED if approve else Status.REJECTED,
            decided_by=actor.id,
            note=note,
            now=now or utcnow(),
        )
        return await redemption_view(session, redemption)


async def expire_stale(
    db: Database, *, older_than: timedelta, now: datetime | None = None
) -> list[RedemptionView]:
    """Void and refund pending (or never backed) redemptions nobody decided on in time."""
    now = now or utcnow()
    async with db.transaction() as session:
        stale = list(
            await session.scalars(
                select(Redemption.id).where(
                    Redemption.status.in_([Status.PENDING.value, Status.PROPOSED.value]),
                    Redemption.created_at < now - older_than,
                )
            )
        )
    expired = []
    for redemption_id in stale:
        try:
            async with db.transaction() as session:
                redemption = await _close(
                    session, redemption_id, Status.EXPIRED, decided_by=None, note=None, now=now
                )
                expired.append(await redemption_view(session, redemption))
        except AlreadySettled:
            continue  # an admin decided it a moment ago
    return expired


async def mark_fulfilled(
    db: Database, *, actor_telegram_id: int, redemption_id: int, now: datetime | None = None
) -> RedemptionView:
    async with db.transaction() as session:
        actor = await require_employee(session, actor_telegram_id)
        require(actor.role, Role.ADMIN)
        redemption = (
            await session.get(Redemption, redemption_id) if possible_id(redemption_id) else None
        )
        if redemption is None:
            raise UnknownRedemption(id=redemption_id)
        if redemption.status != Status.APPROVED.value:
            raise NotApproved(id=redemption_id)
        marked = await session.execute(
            update(Redemption)
            .where(Redemption.id == redemption.id, Redemption.fulfilled_at.is_(None))
            .values(fulfilled_at=now or utcnow())
        )
        redemption = await session.get(Redemption, redemption.id, populate_existing=True)
        assert redemption is not None
        # Only the press that marked it tells the requester.
        return replace(await redemption_view(session, redemption), created=rowcount(marked) == 1)


async def open_redemptions(db: Database, *, actor_telegram_id: int) -> list[RedemptionView]:
    """Pending ones, then approved ones not yet fulfilled, oldest first."""
    async with db.read() as session:
        actor = await require_employee(session, actor_telegram_id)
        require(actor.role, Role.ADMIN)
        rows = await session.scalars(
            select(Redemption)
            .where(
                or_(
                    Redemption.status == Status.PENDING.value,
                    (Redemption.status == Status.APPROVED.value)
                    & Redemption.fulfilled_at.is_(None),
                )
            )
            .order_by(Redemption.status.desc(), Redemption.id)
        )
        return [await redemption_view(session, r) for r in rows]


async def add_notice(db: Database, redemption_id: int, notice: Notice) -> None:
    async with db.transaction() as session:
        session.add(
            RedemptionNotice(
                redemption_id=redemption_id,
                chat_id=notice.chat_id,
                message_id=notice.message_id,
                language=notice.language,
            )
        )


async def notices(db: Database, redemption_id: int) -> list[Notice]:
    async with db.read() as session:
        rows = await session.scalars(
            select(RedemptionNotice).where(RedemptionNotice.redemption_id == redemption_id)
        )
        return [Notice(n.chat_id, n.message_id, n.language) for n in rows]


async def noticed(db: Database, chat_id: int, message_id: int) -> int | None:
    """The redemption a message of the bot's is about, if it is one of its notices."""
    async with db.read() as session:
        return await session.scalar(
            select(RedemptionNotice.redemption_id).where(
                RedemptionNotice.chat_id == chat_id, RedemptionNotice.message_id == message_id
            )
        )


async def pending(db: Database, redemption_id: int) -> RedemptionView:
    """A redemption still waiting for the admins; AlreadySettled (or NotBackedYet) otherwise."""
    async with db.read() as session:
        redemption = (
            await session.get(Redemption, redemption_id) if possible_id(redemption_id) else None
        )
        if redemption is None:
            raise UnknownRedemption(id=redemption_id)
        if redemption.status == Status.PROPOSED.value:
            raise NotBackedYet(id=redemption_id)
        if redemption.status != Status.PENDING.value:
            raise AlreadySettled(id=redemption_id, status=redemption.status)
        return await redemption_view(session, redemption)


async def chip_in(
    db: Database, *, telegram_id: int, amount: int, key: str, reason: str = ""
) -> tuple[int, int]:
    """Move tokens from an employee to their department's wallet; returns both new balances."""
    check_amount(amount)
    async with db.transaction() as session:
        employee: EmployeeView = await require_employee(session, telegram_id)
        wallet = await department_account(session, employee.department.id)
        await ledger.post(
            session,
            key=f"chipin:{key}",
            from_account=employee.account_id,
            to_account=wallet.id,
            amount=amount,
            kind="chipin",
            reason=reason or "chip-in",
            actor_id=employee.id,
        )
        balances = dict(
            (
                await session.execute(
                    select(Account.id, Account.balance).where(
                        Account.id.in_([employee.account_id, wallet.id])
                    )
                )
            ).all()
        )
        return balances[employee.account_id], balances[wallet.id]


async def add_reward(db: Database, *, actor_telegram_id: int, reward: NewReward) -> RewardView:
    async with db.transaction() as session:
        actor = await require_employee(session, actor_telegram_id)
        require(actor.role, Role.ADMIN)
        if await session.scalar(select(Reward.id).where(Reward.code == reward.code)):
            raise RewardExists(name=reward.code)
        row = Reward(
            code=reward.code,
            name_en=reward.name_en,
            name_ru=reward.name_ru,
            price=reward.price,
            kind=reward.kind.value,
            limit_period="month",
        )
        session.add(row)
        await session.flush()
        return reward_view(row)


async def change_reward(
    db: Database, *, actor_telegram_id: int, reward_ref: str, **changes: object
) -> RewardView:
    """Change a reward's price, stock, per-person limit, limit period or active flag."""
    allowed = {"price", "stock", "per_person_limit", "limit_period", "active"}
    assert set(changes) <= allowed, changes
    async with db.transaction() as session:
        actor = await require_employee(session, actor_telegram_id)
        require(actor.role, Role.ADMIN)
        reward = await find_reward(session, reward_ref)
        for name, value in changes.items():
            setattr(reward, name, value)
        await session.flush()
        return reward_view(reward)
