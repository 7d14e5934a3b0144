"""Random days in the token economy: after every step the books balance and match a model.

Each example plays a list of operations (thanks, chip-ins, grants, redemptions and their
replays, colleagues backing department requests, approvals, rejections, expiries, time
passing) against a fresh SQLite copy, predicts
each outcome from an in-memory model, and after every step checks the ledger's promises.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.db import Database
from bot.domain.errors import (
    AllowanceExceeded,
    AlreadyBacked,
    AlreadySettled,
    InsufficientTokens,
    NotBackedYet,
    NotYourDepartment,
    OutOfStock,
    OwnRequest,
    PairCapReached,
    RedemptionLimit,
    ThanksToSelf,
    TruceError,
    UnknownRedemption,
    UnknownReward,
)
from bot.domain.periods import local_day, period_start, week_start
from bot.domain.shop import NewReward, RewardKind, Status
from bot.domain.thanks import ThanksRules
from bot.models import Account, Redemption, Reward, Transfer
from bot.services import directory, ledger, shop, thanks, tokens
from tests.helpers import (
    Accounts,
    accounts,
    database,
    migrated_sqlite,
    open_company,
    sqlite_copy,
    sqlite_url,
)

TZ = ZoneInfo("Europe/Moscow")
START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # a Monday morning
STALE_AFTER = timedelta(days=7)
OPENING_BALANCE = 150
RULES = ThanksRules(weekly_allowance=5, pair_daily_cap=3, cross_multiplier=2)
ADMINS = [1001, 1002]
# Telegram id -> (name, department code); the first two are the admins.
PEOPLE = {
    1001: ("Alice", "marketing"),
    1002: ("Dora", "sales"),
    2001: ("Boris", "marketing"),
    2002: ("Carol", "sales"),
    2003: ("Dmitry", "marketing"),
    2004: ("Erin", "sales"),
}
PERSON_IDS = list(PEOPLE)
DEPARTMENTS = {"marketing": "Marketing", "sales": "Sales"}
# Who can be granted tokens: people by Telegram id, departments by name.
HOLDERS: list[int | str] = [*PERSON_IDS, *DEPARTMENTS.values()]


@dataclass(frozen=True)
class RewardSpec:
    code: str
    price: int
    kind: RewardKind
    stock: int | None
    limit: int | None
    period: str


REWARDS = [
    RewardSpec("coffee", 20, RewardKind.PERSONAL, stock=None, limit=None, period="month"),
    RewardSpec("day_off", 120, RewardKind.PERSONAL, stock=None, limit=1, period="month"),
    RewardSpec("mug", 30, RewardKind.PERSONAL, stock=1, limit=2, period="week"),
    RewardSpec("pizza", 60, RewardKind.DEPARTMENT, stock=2, limit=None, period="month"),
    RewardSpec("lunch", 150, RewardKind.DEPARTMENT, stock=None, limit=1, period="week"),
]

# --- Operations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Thank:
    giver: int  # index into PERSON_IDS
    receiver: int
    amount: int


@dataclass(frozen=True)
class ChipIn:
    who: int
    amount: int


@dataclass(frozen=True)
class Grant:
    to: int  # index into HOLDERS
    amount: int


@dataclass(frozen=True)
class Redeem:
    who: int
    reward: int  # index into REWARDS


@dataclass(frozen=True)
class RedeemAgain:
    """Send an earlier accepted redemption's key again (a button pressed twice)."""

    earlier: int  # taken modulo the number of accepted redemptions


@dataclass(frozen=True)
class Back:
    """A colleague (or anyone: the service must refuse the wrong ones) backs a request."""

    which: int  # taken modulo the number of redemptions so far
    who: int  # index into PERSON_IDS


@dataclass(frozen=True)
class Settle:
    which: int  # taken modulo the number of redemptions so far, whatever their status
    approve: bool
    admin: int  # index into ADMINS


@dataclass(frozen=True)
class AskForNothing:
    """Bad input: redeem a reward, or settle a redemption, that does not exist."""

    reward: str
    redemption: int


@dataclass(frozen=True)
class Expire:
    """The expiry job runs now, or (far) as if nobody had looked at the shop for two months."""

    far: bool


@dataclass(frozen=True)
class Wait:
    hours: int


Operation = (
    Thank | ChipIn | Grant | Redeem | RedeemAgain | Back | Settle | AskForNothing | Expire | Wait
)
OPEN = {Status.PROPOSED.value, Status.PENDING.value}  # still holding their price in escrow

person = st.integers(0, len(PERSON_IDS) - 1)
# Thanks to someone else (a step of 1..5 round the table), now and then to oneself.
thanks_to_others = st.builds(
    lambda giver, step, amount: Thank(giver, (giver + step) % len(PERSON_IDS), amount),
    person,
    st.integers(1, len(PERSON_IDS) - 1),
    st.integers(1, 4),
)
thanks_to_oneself = st.builds(lambda who: Thank(who, who, 1), person)
redemptions = st.builds(Redeem, who=person, reward=st.integers(0, len(REWARDS) - 1))
settlements = st.builds(
    Settle, which=st.integers(0, 20), approve=st.booleans(), admin=st.integers(0, 1)
)
operations = st.lists(
    st.one_of(
        thanks_to_others,
        thanks_to_others,
        thanks_to_oneself,
        st.builds(ChipIn, who=person, amount=st.integers(1, 80)),
        st.builds(Grant, to=st.integers(0, len(HOLDERS) - 1), amount=st.integers(10, 200)),
        redemptions,
        redemptions,
        redemptions,
        st.builds(RedeemAgain, earlier=st.integers(0, 20)),
        st.builds(Back, which=st.integers(0, 20), who=person),
        st.builds(Back, which=st.integers(0, 20), who=person),
        settlements,
        settlements,
        st.builds(
            AskForNothing,
            reward=st.sampled_from(["caviar", "0", "99", "3000000000", "9" * 20]),
            redemption=st.sampled_from([0, 999, 2**31, 999_999_999_999]),
        ),
        st.builds(Expire, far=st.booleans()),
        st.builds(Wait, hours=st.integers(1, 200)),
    ),
    min_size=10,
    max_size=25,
)

# --- The office, built once and copied for every example --------------------------------------


@dataclass(frozen=True)
class Office(Accounts):
    """The accounts, and the books as they stand before the first step."""

    opening: dict[int, int]  # account id -> balance before the first step
    transfers: int  # transfers before the first step


async def open_office(db: Database) -> Office:
    await open_company(db, list(DEPARTMENTS.values()), PEOPLE, admin_ids=ADMINS)
    for spec in REWARDS:
        reward = await shop.add_reward(
            db,
            actor_telegram_id=ADMINS[0],
            reward=NewReward(spec.code, spec.code, spec.code, spec.price, spec.kind),
        )
        await shop.change_reward(
            db,
            actor_telegram_id=ADMINS[0],
            reward_ref=reward.code,
            stock=spec.stock,
            per_person_limit=spec.limit,
            limit_period=spec.period,
        )
    # Everyone starts with something to spend, so most examples reach the shop's rules.
    for holder in HOLDERS:
        await tokens.grant(
            db,
            actor_telegram_id=ADMINS[0],
            target=holder,
            amount=OPENING_BALANCE,
            reason="welcome",
            key=f"welcome:{holder}",
        )
    found = await accounts(db, PEOPLE)
    async with db.read() as session:
        return Office(
            **vars(found),
            opening=dict((await session.execute(select(Account.id, Account.balance))).all()),
            transfers=await session.scalar(select(func.count(Transfer.id))) or 0,
        )


# --- The model ------------------------------------------------------------------------------


@dataclass
class ModelRedemption:
    key: str
    who: int  # Telegram id
    reward: RewardSpec
    payer: int  # account id
    created_at: datetime
    status: str = Status.PENDING.value
    backer: int | None = None  # Telegram id of the colleague who backed a department request


@dataclass(frozen=True)
class ModelThanks:
    giver: int
    receiver: int
    amount: int
    week: date
    day: date


@dataclass
class Model:
    """What the economy should hold, kept in memory alongside the real one."""

    office: Office
    balances: dict[int, int]
    stock: dict[str, int | None]
    clock: datetime = START
    transfers: int = 0
    redemptions: dict[int, ModelRedemption] = field(default_factory=dict)
    given: list[ModelThanks] = field(default_factory=list)

    def move(self, payer: int, payee: int, amount: int) -> None:
        self.balances[payer] -= amount
        self.balances[payee] += amount
        self.transfers += 1

    def close(self, redemption_id: int, status: Status) -> None:
        """Settle an open redemption: spend its reservation, or refund it and its stock."""
        redemption = self.redemptions[redemption_id]
        assert redemption.status in OPEN
        assert status is not Status.APPROVED or redemption.status == Status.PENDING.value
        redemption.status = status.value
        if status is Status.APPROVED:
            self.move(self.office.escrow, self.office.spent, redemption.reward.price)
            return
        self.move(self.office.escrow, redemption.payer, redemption.reward.price)
        if self.stock[redemption.reward.code] is not None:
            self.stock[redemption.reward.code] += 1  # type: ignore[operator]


def department_of(telegram_id: int) -> str:
    return PEOPLE[telegram_id][1]


# --- Playing one operation ------------------------------------------------------------------


async def thank(db: Database, model: Model, key: str, op: Thank) -> None:
    giver, receiver = PERSON_IDS[op.giver], PERSON_IDS[op.receiver]
    week, day = week_start(model.clock, TZ), local_day(model.clock, TZ)
    used = sum(t.amount for t in model.given if t.giver == giver and t.week == week)
    to_pair = sum(
        t.amount for t in model.given if (t.giver, t.receiver, t.day) == (giver, receiver, day)
    )
    expected: type[TruceError] | None = None
    if giver == receiver:
        expected = ThanksToSelf
    elif op.amount > RULES.weekly_allowance - used:
        expected = AllowanceExceeded
    elif op.amount > RULES.pair_daily_cap - to_pair:
        expected = PairCapReached
    sending = thanks.give(
        db,
        giver_telegram_id=giver,
        receiver=receiver,
        amount=op.amount,
        reason="for the help",
        key=key,
        rules=RULES,
        tz=TZ,
        now=model.clock,
    )
    if expected is not None:
        with pytest.raises(expected):
            await sending
        event(f"thanks refused: {expected.__name__}")
        return
    result = await sending
    cross = department_of(giver) != department_of(receiver)
    assert (result.cross_department, result.replayed) == (cross, False)
    assert result.paid == op.amount * (RULES.cross_multiplier if cross else 1)
    assert result.allowance_left == RULES.weekly_allowance - used - op.amount
    model.move(model.office.issuance, model.office.people[receiver], result.paid)
    model.given.append(ModelThanks(giver, receiver, op.amount, week, day))
    event("thanks across departments" if cross else "thanks within a department")


async def chip_in(db: Database, model: Model, key: str, op: ChipIn) -> None:
    who = PERSON_IDS[op.who]
    own, wallet = model.office.people[who], model.office.wallets[department_of(who)]
    chipping = shop.chip_in(db, telegram_id=who, amount=op.amount, key=key)
    if model.balances[own] < op.amount:
        with pytest.raises(InsufficientTokens):
            await chipping
        event("chip-in refused")
        return
    model.move(own, wallet, op.amount)
    assert await chipping == (model.balances[own], model.balances[wallet])
    event("chip-in applied")


async def grant(db: Database, model: Model, key: str, op: Grant) -> None:
    target = HOLDERS[op.to]
    granted = await tokens.grant(
        db, actor_telegram_id=ADMINS[0], target=target, amount=op.amount, reason="bonus", key=key
    )
    assert not granted.replayed
    if isinstance(target, int):
        account = model.office.people[target]
    else:
        account = model.office.wallets[directory.department_code(target)]
    model.move(model.office.issuance, account, op.amount)


async def redeem(db: Database, model: Model, key: str, op: Redeem) -> None:
    who, reward = PERSON_IDS[op.who], REWARDS[op.reward]
    personal = reward.kind is RewardKind.PERSONAL
    payer = model.office.people[who] if personal else model.office.wallets[department_of(who)]
    since = period_start(reward.period, model.clock, TZ)
    taken = sum(
        1
        for r in model.redemptions.values()
        if (r.who, r.reward) == (who, reward)
        and r.status in OPEN | {Status.APPROVED.value}
        and (since is None or r.created_at >= since)
    )
    expected: type[TruceError] | None = None
    if reward.limit is not None and taken >= reward.limit:
        expected = RedemptionLimit
    elif model.stock[reward.code] == 0:
        expected = OutOfStock
    elif model.balances[payer] < reward.price:
        expected = InsufficientTokens
    asking = shop.redeem(
        db, telegram_id=who, reward_ref=reward.code, key=key, tz=TZ, now=model.clock
    )
    if expected is not None:
        with pytest.raises(expected):
            await asking
        event(f"redemption refused: {expected.__name__}")
        return
    view = await asking
    # A member's department request waits for a colleague; an admin's goes straight on.
    status = Status.PENDING if personal or who in ADMINS else Status.PROPOSED
    assert (view.status, view.price, view.reward.code) == (
        status.value,
        reward.price,
        reward.code,
    )
    assert view.requester_telegram_id == who
    assert (view.department.code if view.department else None) == (
        None if personal else department_of(who)
    )
    assert view.id not in model.redemptions
    model.redemptions[view.id] = ModelRedemption(key, who, reward, payer, model.clock, status.value)
    model.move(payer, model.office.escrow, reward.price)
    if model.stock[reward.code] is not None:
        model.stock[reward.code] -= 1  # type: ignore[operator]
    event(f"{reward.kind.value} redemption reserved")


async def redeem_again(db: Database, model: Model, op: RedeemAgain) -> None:
    if not model.redemptions:
        return
    ids = list(model.redemptions)
    redemption_id = ids[op.earlier % len(ids)]
    earlier = model.redemptions[redemption_id]
    view = await shop.redeem(
        db,
        telegram_id=earlier.who,
        reward_ref=earlier.reward.code,
        key=earlier.key,
        tz=TZ,
        now=model.clock,
    )
    assert (view.id, view.status) == (redemption_id, earlier.status)
    event("redemption replayed")


async def back(db: Database, model: Model, op: Back) -> None:
    if not model.redemptions:
        return
    ids = list(model.redemptions)
    redemption_id = ids[op.which % len(ids)]
    r, who = model.redemptions[redemption_id], PERSON_IDS[op.who]
    expected: type[TruceError] | None = None
    if r.reward.kind is RewardKind.PERSONAL:
        expected = UnknownRedemption
    elif department_of(who) != department_of(r.who):
        expected = NotYourDepartment
    elif who == r.who:
        expected = OwnRequest
    elif r.status != Status.PROPOSED.value:
        expected = AlreadyBacked if r.backer is not None else AlreadySettled
    backing = shop.back(db, actor_telegram_id=who, redemption_id=redemption_id)
    if expected is not None:
        with pytest.raises(expected):
            await backing
        event(f"backing refused: {expected.__name__}")
        return
    view = await backing
    assert (view.status, view.backer) == (Status.PENDING.value, PEOPLE[who][0])
    r.status, r.backer = Status.PENDING.value, who
    event("department request backed")


async def settle(db: Database, model: Model, op: Settle) -> None:
    if not model.redemptions:
        return
    ids = list(model.redemptions)
    redemption_id = ids[op.which % len(ids)]
    current = model.redemptions[redemption_id].status
    settling = shop.settle(
        db,
        actor_telegram_id=ADMINS[op.admin],
        redemption_id=redemption_id,
        approve=op.approve,
        now=model.clock,
    )
    if current == Status.PROPOSED.value and op.approve:
        with pytest.raises(NotBackedYet):
            await settling
        event("approval refused: not backed yet")
        return
    if current not in OPEN:
        with pytest.raises(AlreadySettled) as refused:
            await settling
        assert refused.value.params == {"id": redemption_id, "status": current}
        event("settlement refused: already settled")
        return
    view = await settling
    status = Status.APPROVED if op.approve else Status.REJECTED
    assert (view.id, view.status) == (redemption_id, status.value)
    assert view.decided_by == PEOPLE[ADMINS[op.admin]][0]
    model.close(redemption_id, status)
    event(f"redemption {status.value}")


async def ask_for_nothing(db: Database, model: Model, key: str, op: AskForNothing) -> None:
    with pytest.raises(UnknownReward):
        await shop.redeem(
            db, telegram_id=PERSON_IDS[0], reward_ref=op.reward, key=key, tz=TZ, now=model.clock
        )
    with pytest.raises(UnknownRedemption):
        await shop.settle(
            db, actor_telegram_id=ADMINS[0], redemption_id=op.redemption, approve=True
        )
    event("unknown reward and redemption refused")


async def expire(db: Database, model: Model, op: Expire) -> None:
    now = model.clock + (timedelta(days=60) if op.far else timedelta(0))
    stale = [
        redemption_id
        for redemption_id, r in model.redemptions.items()
        if r.status in OPEN and r.created_at < now - STALE_AFTER
    ]
    expired = await shop.expire_stale(db, older_than=STALE_AFTER, now=now)
    assert sorted(view.id for view in expired) == sorted(stale)
    assert {view.status for view in expired} <= {Status.EXPIRED.value}
    for redemption_id in stale:
        model.close(redemption_id, Status.EXPIRED)
    event("expiry voided some" if stale else "expiry voided none")


async def step(db: Database, model: Model, key: str, op: Operation) -> None:
    if isinstance(op, Thank):
        await thank(db, model, key, op)
    elif isinstance(op, ChipIn):
        await chip_in(db, model, key, op)
    elif isinstance(op, Grant):
        await grant(db, model, key, op)
    elif isinstance(op, Redeem):
        await redeem(db, model, key, op)
    elif isinstance(op, RedeemAgain):
        await redeem_again(db, model, op)
    elif isinstance(op, Back):
        await back(db, model, op)
    elif isinstance(op, Settle):
        await settle(db, model, op)
    elif isinstance(op, AskForNothing):
        await ask_for_nothing(db, model, key, op)
    elif isinstance(op, Expire):
        await expire(db, model, op)
    else:
        model.clock += timedelta(hours=op.hours)


# --- The promises, checked after every step -------------------------------------------------


async def check(db: Database, model: Model) -> None:
    office = model.office
    async with db.read() as session:
        balances = dict((await session.execute(select(Account.id, Account.balance))).all())
        stock = dict((await session.execute(select(Reward.code, Reward.stock))).all())
        redemptions = {
            redemption_id: (status, price)
            for redemption_id, status, price in await session.execute(
                select(Redemption.id, Redemption.status, Redemption.price)
            )
        }
    assert sum(balances.values()) == 0
    assert {a: b for a, b in balances.items() if a != office.issuance and b < 0} == {}
    assert balances[office.escrow] == sum(
        price for status, price in redemptions.values() if status in OPEN
    )
    assert all(left is None or left >= 0 for left in stock.values()), stock
    report = await ledger.verify(db)
    assert report.clean, report
    # And the books say what the model expects, to the token.
    assert balances == model.balances
    assert stock == model.stock
    assert redemptions == {
        redemption_id: (r.status, r.reward.price) for redemption_id, r in model.redemptions.items()
    }
    assert report.transfers == model.transfers


async def play(url: str, office: Office, ops: list[Operation]) -> None:
    async with database(url) as db:
        model = Model(
            office=office,
            balances=dict(office.opening),
            stock={spec.code: spec.stock for spec in REWARDS},
            transfers=office.transfers,
        )
        await check(db, model)
        for index, op in enumerate(ops):
            await step(db, model, f"op:{index}", op)
            await check(db, model)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Office]:
    """One migrated SQLite file with the office and the shop set up, copied for each example."""
    path = migrated_sqlite(tmp_path_factory, "economy")

    async def build() -> Office:
        async with database(sqlite_url(path)) as db:
            return await open_office(db)

    return path, asyncio.run(build())


BORIS, CAROL, DMITRY, ERIN = 2, 3, 4, 5  # indices into PERSON_IDS: Marketing, Sales, ...
MARKETING, SALES = 6, 7  # indices into HOLDERS


@settings(max_examples=40, deadline=None)
@given(ops=operations)
@example(
    ops=[
        Redeem(who=BORIS, reward=1),  # a day off: Boris has 150, 30 left
        Redeem(who=BORIS, reward=1),  # refused: one a month
        Redeem(who=CAROL, reward=3),  # pizza from the Sales wallet: 90 left, 1 in stock
        Settle(which=1, approve=False, admin=1),  # rejected unbacked: refunded, 2 in stock
        RedeemAgain(earlier=1),  # the pizza's key again: still the rejected one
        Settle(which=0, approve=True, admin=0),  # the day off is spent
        Settle(which=0, approve=False, admin=1),  # refused: already approved
        Redeem(who=BORIS, reward=1),  # refused: the approved one counts too
        Thank(giver=BORIS, receiver=CAROL, amount=3),  # across: Carol gets 6
        Thank(giver=BORIS, receiver=CAROL, amount=1),  # refused: the pair's daily cap
        Thank(giver=BORIS, receiver=DMITRY, amount=2),  # within: Dmitry gets 2
        Thank(giver=BORIS, receiver=DMITRY, amount=1),  # refused: the allowance is spent
        Grant(to=SALES, amount=70),  # Sales has 220
        ChipIn(who=CAROL, amount=6),  # and 226
        Redeem(who=CAROL, reward=4),  # lunch for Sales proposed: 76 left
        Back(which=2, who=CAROL),  # refused: her own request
        Back(which=2, who=BORIS),  # refused: Marketing backing Sales
        Settle(which=2, approve=True, admin=0),  # refused: not backed yet
        Back(which=2, who=ERIN),  # a colleague backs it: with the admins now
        Back(which=2, who=ERIN),  # refused: already backed
        Redeem(who=CAROL, reward=4),  # refused: one a week
        Redeem(who=ERIN, reward=4),  # refused: Sales has 76, lunch is 150
        Wait(hours=24 * 6),
        Expire(far=False),  # six days old: too fresh to expire
        Wait(hours=24 * 2),
        Thank(giver=BORIS, receiver=DMITRY, amount=1),  # a new week, a new allowance
        Expire(far=False),  # now the lunch is stale: Sales has 226 again
        ChipIn(who=BORIS, amount=31),  # refused: Boris has 30
        Redeem(who=BORIS, reward=0),  # coffee: 10 left
        Redeem(who=DMITRY, reward=2),  # the last mug
        Redeem(who=ERIN, reward=2),  # refused: out of stock
        AskForNothing(reward="9" * 20, redemption=999_999_999_999),  # bad input changes nothing
        Expire(far=True),  # nobody decided for two months: coffee and mug refunded
    ]
)
def test_any_day_in_the_economy_keeps_the_books_balanced_and_as_the_model_expects(
    template: tuple[Path, Office], ops: list[Operation]
) -> None:
    source, office = template
    # Hypothesis reuses the test's fixtures across examples, so each one gets its own file.
    with sqlite_copy(source) as url:
        asyncio.run(play(url, office, ops))
