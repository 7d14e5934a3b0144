"""The token economy under load: redemptions, settlements, goals and thanks racing each other."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.db import Database
from bot.domain.errors import AllowanceExceeded, AlreadySettled, InsufficientTokens, OutOfStock
from bot.domain.goals import GoalSpec
from bot.domain.roles import Role
from bot.domain.shop import NewReward, RewardKind, Status
from bot.domain.thanks import ThanksRules
from bot.models import GoalAchievement, Redemption, Reward, Thanks, Transfer
from bot.services import directory, goals, ledger, shop, thanks
from tests.conftest import both_databases
from tests.helpers import Accounts, accounts, fund, open_company

TZ = ZoneInfo("Europe/Moscow")
NOW = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)  # a Wednesday: the whole race is in one week
ALICE, DORA = 1001, 1002  # admins, Marketing and Sales
BORIS, CAROL, DMITRY = 2001, 2002, 2003  # Marketing, Sales, Marketing
STAFF = {
    ALICE: ("Alice", "marketing"),
    DORA: ("Dora", "sales"),
    BORIS: ("Boris", "marketing"),
    CAROL: ("Carol", "sales"),
    DMITRY: ("Dmitry", "marketing"),
}


async def open_office(db: Database, extra: dict[int, tuple[str, str]] | None = None) -> Accounts:
    everyone = STAFF | (extra or {})
    await open_company(db, ["Marketing", "Sales"], everyone, admin_ids=[ALICE, DORA])
    return await accounts(db, everyone)


async def stock_reward(
    db: Database, code: str, price: int, *, stock: int | None = None
) -> shop.RewardView:
    reward = await shop.add_reward(
        db,
        actor_telegram_id=ALICE,
        reward=NewReward(code, code.title(), code.title(), price, RewardKind.PERSONAL),
    )
    if stock is None:
        return reward
    return await shop.change_reward(db, actor_telegram_id=ALICE, reward_ref=code, stock=stock)


async def stock_left(db: Database, code: str) -> int | None:
    async with db.read() as session:
        return await session.scalar(select(Reward.stock).where(Reward.code == code))


async def pending_count(db: Database) -> int:
    async with db.read() as session:
        return await session.scalar(
            select(func.count(Redemption.id)).where(Redemption.status == Status.PENDING.value)
        )


async def assert_books_clean(db: Database, transfers: int) -> None:
    report = await ledger.verify(db)
    assert report.clean, report
    assert report.transfers == transfers


def redeem(db: Database, telegram_id: int, code: str, key: str) -> Any:
    return shop.redeem(db, telegram_id=telegram_id, reward_ref=code, key=key, tz=TZ, now=NOW)


@both_databases()
async def test_fifty_concurrent_redemptions_with_funds_for_three_leave_three_pending(
    crowded_db: Database,
) -> None:
    db = crowded_db
    office = await open_office(db)
    await stock_reward(db, "gift", 100)
    await fund(db, BORIS, 300, by=ALICE)

    results = await asyncio.gather(
        *(redeem(db, BORIS, "gift", f"gift:{n}") for n in range(50)), return_exceptions=True
    )

    pending = [r for r in results if isinstance(r, shop.RedemptionView)]
    refused = [r for r in results if isinstance(r, InsufficientTokens)]
    assert [r for r in results if r not in pending and r not in refused] == []
    assert len(pending) == 3
    assert {(r.status, r.price) for r in pending} == {(Status.PENDING.value, 100)}
    assert len({r.id for r in pending}) == 3
    assert len(refused) == 47
    assert await pending_count(db) == 3
    assert await ledger.balance(db, office.people[BORIS]) == 0
    assert await ledger.balance(db, office.escrow) == 300
    await assert_books_clean(db, transfers=1 + 3)


@both_databases()
async def test_twenty_admins_pressing_approve_or_reject_at_once_settle_a_redemption_once(
    crowded_db: Database,
) -> None:
    db = crowded_db
    office = await open_office(db)
    await stock_reward(db, "voucher", 100, stock=5)
    await fund(db, BORIS, 100, by=ALICE)
    asked = await redeem(db, BORIS, "voucher", "voucher:boris")

    results = await asyncio.gather(
        *(
            shop.settle(
                db,
                actor_telegram_id=ALICE if n % 4 < 2 else DORA,
                redemption_id=asked.id,
                approve=n % 2 == 0,
                now=NOW,
            )
            for n in range(20)
        ),
        return_exceptions=True,
    )

    settled = [r for r in results if isinstance(r, shop.RedemptionView)]
    refused = [r for r in results if isinstance(r, AlreadySettled)]
    assert [r for r in results if r not in settled and r not in refused] == []
    assert len(settled) == 1
    assert len(refused) == 19
    winner = settled[0]
    assert winner.status in {Status.APPROVED.value, Status.REJECTED.value}
    assert {e.params["status"] for e in refused} == {winner.status}
    async with db.read() as session:
        stored = await session.get(Redemption, asked.id)
        journal = dict(
            (
                await session.execute(
                    select(Transfer.idempotency_key, Transfer.kind).where(
                        Transfer.idempotency_key.like(f"redemption:{asked.id}:%")
                    )
                )
            ).all()
        )
    assert stored is not None
    assert stored.status == winner.status
    approved = winner.status == Status.APPROVED.value
    assert journal == {
        f"redemption:{asked.id}:reserve": "reserve",
        f"redemption:{asked.id}:settle": "spend" if approved else "refund",
    }
    assert await ledger.balance(db, office.people[BORIS]) == (0 if approved else 100)
    assert await ledger.balance(db, office.escrow) == 0
    assert await ledger.balance(db, office.spent) == (100 if approved else 0)
    assert await stock_left(db, "voucher") == (4 if approved else 5)
    await assert_books_clean(db, transfers=1 + 2)


@both_databases()
async def test_two_leads_reaching_a_shared_goal_at_once_pay_each_department_once(
    crowded_db: Database,
) -> None:
    db = crowded_db
    office = await open_office(db)
    for username in ("boris", "carol"):
        await directory.set_role(
            db, actor_telegram_id=ALICE, target_username=username, role=Role.LEAD
        )
    await goals.create(
        db,
        actor_telegram_id=ALICE,
        goal=GoalSpec("leads", "Ten approved leads", 10, "once", 40, False, None, None),
        tz=TZ,
    )

    reports = await asyncio.gather(
        *(
            goals.report(
                db,
                actor_telegram_id=lead,
                code="leads",
                amount=5,
                key=f"kpi:{lead}",
                tz=TZ,
                now=NOW,
            )
            for lead in (BORIS, CAROL)
        )
    )

    assert sorted(report.reached for report in reports) == [[], [1]]
    assert max(report.goal.progress for report in reports) == 10
    assert await ledger.balance(db, office.wallets["marketing"]) == 40
    assert await ledger.balance(db, office.wallets["sales"]) == 40
    assert await ledger.balance(db, office.issuance) == -80
    async with db.read() as session:
        payouts = (
            await session.scalars(
                select(Transfer.to_account_id).where(Transfer.kind == "goal").order_by(Transfer.id)
            )
        ).all()
        achievements = await session.scalar(select(func.count(GoalAchievement.id)))
    assert sorted(payouts) == sorted(office.wallets.values())
    assert achievements == 1
    await assert_books_clean(db, transfers=2)


@both_databases()
async def test_thirty_concurrent_thanks_from_one_giver_spend_exactly_the_weekly_allowance(
    crowded_db: Database,
) -> None:
    db = crowded_db
    office = await open_office(db)
    rules = ThanksRules(weekly_allowance=5, pair_daily_cap=5, cross_multiplier=2)
    receivers = [CAROL, DMITRY, DORA]  # across the department line, within it, across

    results = await asyncio.gather(
        *(
            thanks.give(
                db,
                giver_telegram_id=BORIS,
                receiver=receivers[n % 3],
                amount=1,
                reason="for the deck",
                key=f"thanks:{n}",
                rules=rules,
                tz=TZ,
                now=NOW,
            )
            for n in range(30)
        ),
        return_exceptions=True,
    )

    given = [r for r in results if isinstance(r, thanks.ThanksResult)]
    refused = [r for r in results if isinstance(r, AllowanceExceeded)]
    assert [r for r in results if r not in given and r not in refused] == []
    assert len(given) == 5
    assert len(refused) == 25
    assert sorted(r.allowance_left for r in given) == [0, 1, 2, 3, 4]
    assert await thanks.allowance_left(db, BORIS, rules, TZ, NOW) == 0
    async with db.read() as session:
        counted = (await session.execute(select(func.count(), func.sum(Thanks.amount)))).one()
    assert tuple(counted) == (5, 5)
    paid = {receiver: 0 for receiver in receivers}
    for result in given:
        assert result.paid == (2 if result.cross_department else 1)
        paid[result.receiver.telegram_id] += result.paid
    for receiver in receivers:
        assert await ledger.balance(db, office.people[receiver]) == paid[receiver]
    assert await ledger.balance(db, office.people[BORIS]) == 0
    assert await ledger.balance(db, office.issuance) == -sum(paid.values())
    await assert_books_clean(db, transfers=5)


@both_databases()
async def test_ten_rich_employees_racing_for_three_in_stock_get_exactly_three(
    crowded_db: Database,
) -> None:
    db = crowded_db
    rich = {3000 + n: (f"Rich{n}", ("marketing", "sales")[n % 2]) for n in range(10)}
    office = await open_office(db, extra=rich)
    await stock_reward(db, "concert", 50, stock=3)
    for telegram_id in rich:
        await fund(db, telegram_id, 100, by=ALICE)

    results = await asyncio.gather(
        *(redeem(db, telegram_id, "concert", f"concert:{telegram_id}") for telegram_id in rich),
        return_exceptions=True,
    )

    pending = [r for r in results if isinstance(r, shop.RedemptionView)]
    refused = [r for r in results if isinstance(r, OutOfStock)]
    assert [r for r in results if r not in pending and r not in refused] == []
    assert len(pending) == 3
    assert {r.status for r in pending} == {Status.PENDING.value}
    assert len(refused) == 7
    assert await stock_left(db, "concert") == 0
    assert await pending_count(db) == 3
    winners = {r.requester_telegram_id for r in pending}
    for telegram_id in rich:
        expected = 50 if telegram_id in winners else 100
        assert await ledger.balance(db, office.people[telegram_id]) == expected
    assert await ledger.balance(db, office.escrow) == 150
    await assert_books_clean(db, transfers=10 + 3)
