"""No /kpi report can freeze the bot or mint without bound, every report reaches the admins
with its reporter, and an admin can void a report as if it had never been made."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.db import Database
from bot.domain.goals import payout, times_reached
from bot.domain.ledger import SystemAccount
from bot.models import Department, Redemption, Transfer
from bot.services import ledger
from bot.services import tokens as token_service
from tests.conftest import both_databases
from tests.fake_telegram import Telegram
from tests.helpers import ALICE, BORIS, CAROL, said

BIG = "/goal add big 1 week 100 repeat pizza@sales Big one"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"goal_report_max_targets": 3, "goal_payouts_per_period": 5}


@pytest.fixture
async def company(company: Telegram) -> Telegram:
    """Alice (admin, Sales), Boris (lead, Marketing), Carol (Sales); the goal "big" pays 100
    to each wallet and a pizza for Sales every single unit reported."""
    await company.send(ALICE, "/roles @boris lead")
    assert "Goal saved" in said(await company.send(ALICE, BIG))
    return company


async def books(db: Database) -> tuple[int, int, int, list[tuple[int, str]]]:
    """(Marketing wallet, Sales wallet, journal lines, owed rewards as (quantity, status))."""
    report = await ledger.verify(db)
    assert report.clean
    marketing = (await token_service.summary(db, BORIS.id)).department_balance
    sales = (await token_service.summary(db, CAROL.id)).department_balance
    async with db.read() as session:
        owed = (await session.execute(select(Redemption.quantity, Redemption.status))).all()
    return marketing, sales, report.transfers, [tuple(row) for row in owed]


@both_databases()
async def test_a_report_of_a_million_is_refused_at_once_and_pays_nothing(
    company: Telegram, db: Database
) -> None:
    before = await books(db)
    started = time.perf_counter()

    answer = await company.send(BORIS, "/kpi big 1000000")

    assert time.perf_counter() - started < 5  # not minutes: nothing loops per target
    assert said(answer, BORIS.id) == (
        "Один отчёт может добавить к цели «big» не больше 3. Если результат и правда такой, "
        "отправьте его частями или попросите админа."
    )
    assert await books(db) == before


@both_databases()
async def test_a_report_at_the_bound_pays_its_targets_as_one_transfer_per_wallet(
    company: Telegram, db: Database
) -> None:
    before = (await ledger.verify(db)).transfers

    answer = await company.send(BORIS, "/kpi big 3")

    assert "3/1 за неделю, достигнута 3 раза" in said(answer, BORIS.id)
    marketing, sales, transfers, owed = await books(db)
    assert (marketing, sales) == (300, 300)
    assert transfers == before + 2  # one per department wallet
    assert owed == [(3, "approved")]  # one owed reward, three pizzas


async def test_a_repeating_goal_stops_paying_at_the_periods_limit(
    company: Telegram, db: Database
) -> None:
    for _ in range(2):
        await company.send(BORIS, "/kpi big 3")  # 6 targets, 5 may be paid

    answer = await company.send(BORIS, "/kpi big 1")

    assert "уже выплачена максимальное число раз" in said(answer, BORIS.id)
    marketing, sales, _, owed = await books(db)
    assert (marketing, sales) == (500, 500)
    assert sum(quantity for quantity, _ in owed) == 5


async def test_every_report_reaches_the_admins_with_its_reporter_and_number(
    company: Telegram,
) -> None:
    answer = await company.send(BORIS, "/kpi big 2")

    to_alice = said(answer, ALICE.id).splitlines()
    assert to_alice[0] == (
        "📈 Boris reported +2 for “Big one”: now 2/1. Report #1; /goal void 1 undoes it."
    )
    # The pizzas the report unlocked: one owed reward, counted.
    assert to_alice[1].startswith("🎯 Reward #1: <b>Pizza for the department ×2</b>")


@both_databases()
async def test_a_voided_report_leaves_the_books_as_if_it_had_never_been_made(
    company: Telegram, db: Database
) -> None:
    await company.send(BORIS, "/kpi big 1")
    before = await books(db)
    await company.send(BORIS, "/kpi big 3")

    answer = await company.send(ALICE, "/goal void 2")

    assert said(answer, ALICE.id).startswith(
        "Report #2 (Boris, +3 for “Big one”) is voided, and what it paid has been taken back."
    )
    marketing, sales, transfers, owed = await books(db)
    assert (marketing, sales) == before[:2]
    assert transfers == before[2] + 4  # the report's two payouts and their two reversals
    assert owed == [*before[3], (3, "rejected")]
    again = await company.send(BORIS, "/kpi big 1")  # the next report pays the next target
    assert "2/1 за неделю, достигнута 2 раза" in said(again, BORIS.id)
    marketing, sales, _, owed = await books(db)
    assert (marketing, sales) == (200, 200)
    assert owed == [*before[3], (3, "rejected"), (1, "approved")]


@both_databases()
async def test_a_report_whose_payout_a_wallet_has_spent_cannot_be_voided(
    company: Telegram, db: Database
) -> None:
    await company.send(BORIS, "/kpi big 2")
    async with db.transaction() as session:  # Marketing spends its goal money elsewhere
        wallet = await token_service.department_account(session, await _department_id(db))
        issuance = await ledger.system_account_id(session, SystemAccount.ISSUANCE)
        await ledger.post(
            session,
            key="spent",
            from_account=wallet.id,
            to_account=issuance,
            amount=150,
            kind="grant",
            reason="spent",
        )
    before = await books(db)

    answer = await company.send(ALICE, "/goal void 1")

    assert said(answer, ALICE.id) == (
        "Report #1 cannot be voided: the Marketing wallet has already spent what it paid. "
        "Taking it back needs 200 tokens, but the wallet holds 50 tokens. Nothing was changed."
    )
    assert await books(db) == before
    again = await company.send(BORIS, "/kpi big 1")
    assert "3/1 за неделю, достигнута 3 раза" in said(again, BORIS.id)  # it still counts


async def _department_id(db: Database, code: str = "marketing") -> int:
    async with db.read() as session:
        found = await session.scalar(select(Department.id).where(Department.code == code))
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("who", "command", "answer"),
    [
        (BORIS, "/goal void 1", "Простите, это доступно только админам"),
        (ALICE, "/goal void 99", "There is no report #99."),
        (ALICE, "/goal void 99999999999999999999", "There is no report #99999999999999999999."),
        (ALICE, "/goal void ١", "There is no report #١."),
        (ALICE, "/goal void abc", "There is no report #abc."),
    ],
)
async def test_a_void_that_cannot_be_done_is_answered_and_changes_nothing(
    company: Telegram, db: Database, who: Any, command: str, answer: str
) -> None:
    await company.send(BORIS, "/kpi big 1")
    before = await books(db)

    reply = said(await company.send(who, command), who.id)

    assert reply.startswith(answer)
    assert await books(db) == before


async def test_voiding_twice_says_it_is_already_voided(company: Telegram, db: Database) -> None:
    await company.send(BORIS, "/kpi big 1")
    await company.send(ALICE, "/goal void 1")
    before = await books(db)

    assert said(await company.send(ALICE, "/goal void 1")) == "Report #1 has already been voided."
    assert await books(db) == before


async def test_a_report_whose_reward_was_handed_over_cannot_be_voided(
    company: Telegram, db: Database
) -> None:
    await company.send(BORIS, "/kpi big 1")
    async with db.transaction() as session:
        owed = await session.scalar(select(Redemption))
        assert owed is not None
        owed.fulfilled_at = func.now()
    before = await books(db)

    answer = await company.send(ALICE, "/goal void 1")

    assert "already been handed over" in said(answer)
    assert await books(db) == before


@given(
    totals=st.lists(st.integers(1, 10**6), min_size=1, max_size=30),
    target=st.integers(1, 1000),
    repeating=st.booleans(),
    cap=st.integers(1, 50),
)
def test_payouts_over_any_reports_sum_to_the_targets_reached_and_never_pass_the_cap(
    totals: list[int], target: int, repeating: bool, cap: int
) -> None:
    paid = last = progress = 0
    for amount in totals:
        progress += amount
        due = payout(progress, target, repeating, paid=paid, last_ordinal=last, max_payouts=cap)
        assert due.first == last + 1 and due.count >= 0
        paid += due.count
        last += due.count
    assert paid == min(times_reached(progress, target, repeating), cap)


async def test_reversals_go_back_to_issuance(company: Telegram, db: Database) -> None:
    await company.send(BORIS, "/kpi big 1")
    await company.send(ALICE, "/goal void 1")

    async with db.read() as session:
        keys = (await session.scalars(select(Transfer.idempotency_key))).all()
    assert sum(key.startswith("goalvoid:1:") for key in keys) == 2
