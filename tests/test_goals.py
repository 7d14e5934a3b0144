"""Shared goals as people use them: admins define them with /goal, leads report with /kpi, and
reaching the target pays both departments (and may unlock a reward) exactly once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.db import Database
from bot.models import Redemption
from bot.services import goals, ledger
from bot.services import tokens as token_service
from tests.fake_telegram import Person, Telegram
from tests.helpers import ALICE, BORIS, CAROL, EVE, command_update, join, said

LEADS = "/goal add leads 10 month 50 repeat pizza@sales Approved leads"


@pytest.fixture
def group(tg: Telegram) -> dict[str, Any]:
    return tg.group()


@pytest.fixture
async def company(group: dict[str, Any], company: Telegram) -> Telegram:
    """Alice (admin, Sales), Boris (lead, Marketing), Carol (Sales); the group is the company
    chat (it speaks the company language, Russian); the goal "leads" is defined."""
    await company.send(ALICE, "/roles @boris lead")
    await company.send(ALICE, "/setup_chat", chat=group)
    assert "Goal saved" in said(await company.send(ALICE, LEADS))
    return company


async def wallets(db: Database) -> tuple[int, int]:
    """(Marketing wallet, Sales wallet)."""
    marketing = await token_service.summary(db, BORIS.id)
    sales = await token_service.summary(db, CAROL.id)
    return marketing.department_balance, sales.department_balance


async def owed_rewards(db: Database) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count(Redemption.id))) or 0


async def books(tg: Telegram, db: Database) -> tuple[Any, ...]:
    """Everything a bad command must leave alone: the goals and their progress, the journal,
    both wallets and the rewards owed."""
    report = await ledger.verify(db)
    assert report.clean
    tz = tg.app.bot_data["settings"].tz
    return (
        await goals.active_goals(db, tz),
        report.transfers,
        await wallets(db),
        await owed_rewards(db),
    )


def told_in(tg: Telegram, chat_id: int, text: str) -> int:
    """How many messages in the chat contain `text`."""
    return sum(text in m.get("text", "") for m in tg.api.sent(chat_id))


async def test_an_admin_defines_a_goal_and_goal_lists_it(tg: Telegram) -> None:
    await join(tg, ALICE, "sales")

    answer = await tg.send(ALICE, "/goal add launch 5 once 100 Joint product launch")

    assert said(answer) == (
        "Goal saved: 🎯 Joint product launch (launch): 0/5 so far\n"
        "Reward: 100 tokens to each department"
    )
    listed = said(await tg.send(ALICE, "/goal"))
    assert listed.startswith("Shared goals:\n🎯 Joint product launch (launch): 0/5 so far")
    assert "100 tokens to each department" in listed
    assert "/goal add code target week|month|once" in listed


async def test_a_goal_with_a_reward_names_both_in_the_goal_list(company: Telegram) -> None:
    listed = said(await company.send(ALICE, "/goal"))

    assert "🎯 Approved leads (leads): 0/10 this month" in listed
    assert "50 tokens to each department; Pizza for the department (Sales)" in listed


async def test_a_lead_reports_progress_and_sees_where_the_goal_stands(
    company: Telegram, db: Database
) -> None:
    answer = await company.send(BORIS, "/kpi leads 3")

    assert said(answer, BORIS.id) == "Записал. 🎯 Approved leads (leads): 3/10 за месяц"
    assert await wallets(db) == (0, 0)
    again = await company.send(BORIS, "/kpi leads +2")
    assert "5/10 за месяц" in said(again)


async def test_reaching_the_target_pays_both_wallets_once_and_tells_the_chat(
    company: Telegram, db: Database, group: dict[str, Any]
) -> None:
    await company.send(BORIS, "/kpi leads 3")

    answer = await company.send(BORIS, "/kpi leads 7")

    assert "10/10 за месяц, достигнута 1 раз" in said(answer, BORIS.id)
    assert "🎉 Общая цель достигнута: <b>Approved leads</b> (10)!" in said(answer, BORIS.id)
    chat = said(answer, group["id"])
    assert chat.startswith("🎉 Общая цель достигнута: <b>Approved leads</b> (10)!")
    assert "Награда: 50 токенов каждому отделу; Пицца для отдела (отдел «Продажи»)." in chat
    assert await wallets(db) == (50, 50)
    carol = said(await company.send(CAROL, "/me"))
    assert "Sales wallet: 50 tokens" in carol

    more = await company.send(BORIS, "/kpi leads 2")

    assert "12/10 за месяц, достигнута 1 раз" in said(more)
    assert "Общая цель достигнута" not in said(more)
    assert group["id"] not in [call["chat_id"] for call in more]
    assert await wallets(db) == (50, 50)
    assert told_in(company, group["id"], "Общая цель достигнута") == 1
    assert (await ledger.verify(db)).clean


async def test_reaching_the_target_unlocks_a_pizza_that_admins_see_as_owed(
    company: Telegram, db: Database
) -> None:
    await company.send(BORIS, "/kpi leads 10")

    owed = await company.send(ALICE, "/redemptions")

    (call,) = owed
    assert call["text"] == (
        "📋 Approved, still owed: 🎯 Reward #1: <b>Pizza for the department</b> (Sales), "
        "earned by the shared goal “Approved leads”."
    )
    listing = company.last_message(ALICE.id)
    assert Telegram.buttons(listing) == [("📦 Fulfilled", "rdm:fulfil:1")]
    await company.press(ALICE, listing, "rdm:fulfil:1")
    assert "Nothing is waiting" in said(await company.send(ALICE, "/redemptions"))
    assert await wallets(db) == (50, 50)  # the pizza was paid by the goal, not by a wallet


async def test_a_reward_a_goal_unlocks_is_sent_to_every_admin_to_fulfil(
    company: Telegram, db: Database
) -> None:
    answer = await company.send(BORIS, "/kpi leads 10")

    (notice,) = [m for m in company.api.sent(ALICE.id) if "Reward #1" in m["text"]]
    assert notice["text"] == (
        "🎯 Reward #1: <b>Pizza for the department</b> (Sales), "
        "earned by the shared goal “Approved leads”."
    )
    assert Telegram.buttons(notice) == [("📦 Fulfilled", "rdm:fulfil:1")]
    assert ALICE.id in [call["chat_id"] for call in answer]

    await company.press(ALICE, notice, "rdm:fulfil:1")

    assert "📦" in company.api.messages[(ALICE.id, notice["message_id"])]["text"]
    assert "Nothing is waiting" in said(await company.send(ALICE, "/redemptions"))


async def test_a_repeating_goal_pays_again_each_time_the_target_is_reached(
    company: Telegram, db: Database
) -> None:
    await company.send(BORIS, "/kpi leads 10")

    answer = await company.send(BORIS, "/kpi leads 10")

    assert "20/10 за месяц, достигнута 2 раза" in said(answer, BORIS.id)
    assert await wallets(db) == (100, 100)
    assert await owed_rewards(db) == 2
    assert "reached 2 times" in said(await company.send(CAROL, "/me"))


async def test_reports_that_cross_the_target_twice_pay_twice(
    company: Telegram, db: Database
) -> None:
    await company.send(BORIS, "/kpi leads 10")
    await company.send(BORIS, "/kpi leads 6")
    answer = await company.send(BORIS, "/kpi leads 9")

    assert "25/10 за месяц, достигнута 2 раза" in said(answer, BORIS.id)
    assert await wallets(db) == (100, 100)
    assert await owed_rewards(db) == 2


async def test_a_goal_that_does_not_repeat_pays_once_however_far_it_goes(
    company: Telegram, db: Database
) -> None:
    await company.send(ALICE, "/goal add launch 5 month 100 Joint launch")

    first = await company.send(BORIS, "/kpi launch 5")
    await company.send(BORIS, "/kpi launch 5")
    second = await company.send(BORIS, "/kpi launch 5")

    assert "Общая цель достигнута" in said(first)
    assert "15/5 за месяц, достигнута 1 раз" in said(second)
    assert "Общая цель достигнута" not in said(second)
    assert await wallets(db) == (100, 100)
    assert await owed_rewards(db) == 0


async def test_a_new_month_starts_the_progress_again_at_the_companys_midnight(
    company: Telegram, db: Database
) -> None:
    tz = company.app.bot_data["settings"].tz  # Europe/Moscow, three hours ahead of UTC
    january = datetime(2027, 1, 31, 20, 0, tzinfo=UTC)  # 23:00 in Moscow
    february = datetime(2027, 1, 31, 21, 30, tzinfo=UTC)  # 00:30 on 1 February in Moscow

    def report(amount: int, key: str, now: datetime) -> Any:
        return goals.report(
            db, actor_telegram_id=BORIS.id, code="leads", amount=amount, key=key, tz=tz, now=now
        )

    late_in_january = await report(8, "jan", january)
    early_in_february = await report(5, "feb-1", february)

    assert late_in_january.goal.progress == 8
    assert (early_in_february.goal.progress, early_in_february.reached) == (5, [])
    assert await wallets(db) == (0, 0)
    reached = await report(5, "feb-2", february)
    assert (reached.goal.progress, reached.reached) == (10, [1])
    assert await wallets(db) == (50, 50)


async def test_me_and_top_show_how_far_the_goals_are(company: Telegram) -> None:
    await company.send(BORIS, "/kpi leads 4")

    carol = said(await company.send(CAROL, "/me"))
    boris = said(await company.send(BORIS, "/me"))
    top = said(await company.send(CAROL, "/top"))

    assert "Shared goals:\n🎯 Approved leads (leads): 4/10 this month" in carol
    assert "Общие цели:\n🎯 Approved leads (leads): 4/10 за месяц" in boris
    assert "Shared goals:\n🎯 Approved leads (leads): 4/10 this month" in top


async def test_switching_a_goal_off_stops_it(company: Telegram, db: Database) -> None:
    await company.send(BORIS, "/kpi leads 9")

    answer = await company.send(ALICE, "/goal off leads")

    assert said(answer) == "Goal “leads” switched off."
    refused = await company.send(BORIS, "/kpi leads 1")
    assert "Активной цели «leads» нет" in said(refused)
    assert await wallets(db) == (0, 0)
    assert "No shared goals yet." in said(await company.send(ALICE, "/goal"))
    assert "Shared goals" not in said(await company.send(CAROL, "/me"))


async def test_a_goal_added_again_after_being_switched_off_starts_from_zero(
    company: Telegram, db: Database
) -> None:
    await company.send(BORIS, "/kpi leads 10")
    await company.send(BORIS, "/kpi leads 2")
    await company.send(ALICE, "/goal off leads")

    answer = await company.send(ALICE, "/goal add leads 5 month 30 Qualified leads")

    assert "Goal saved: 🎯 Qualified leads (leads): 0/5 this month\n" in said(answer)
    reached = await company.send(BORIS, "/kpi leads 5")
    assert "5/5 за месяц, достигнута 1 раз" in said(reached)
    assert "Общая цель достигнута: <b>Qualified leads</b> (5)" in said(reached)
    assert await wallets(db) == (80, 80)


async def test_a_lead_in_the_chat_is_told_there_and_the_chat_hears_it_once(
    company: Telegram, db: Database, group: dict[str, Any]
) -> None:
    answer = await company.send(BORIS, "/kpi leads 10", chat=group)

    assert told_in(company, group["id"], "Общая цель достигнута") == 1
    assert "Записал. 🎯 Approved leads (leads): 10/10" in said(answer, group["id"])
    assert await wallets(db) == (50, 50)


async def test_the_chat_hears_of_a_goal_in_the_company_language_whoever_reports_it(
    company: Telegram, group: dict[str, Any]
) -> None:
    await company.send(ALICE, "/roles @carol lead")
    await company.send(ALICE, "/goal add deals 3 week 20 pizza@marketing Joint deals")

    answer = await company.send(CAROL, "/kpi deals 3")

    assert "Reward: 20 tokens to each department; Pizza for the department (Marketing)." in said(
        answer, CAROL.id
    )
    assert "Награда: 20 токенов каждому отделу; Пицца для отдела (отдел «Маркетинг»)." in said(
        answer, group["id"]
    )


async def test_the_same_kpi_message_delivered_twice_counts_once(
    company: Telegram, db: Database, group: dict[str, Any]
) -> None:
    update = command_update(company, BORIS, "/kpi leads 10", 9001)

    await company.app.process_update(update)
    await company.app.process_update(update)

    assert "10/10 за месяц" in company.last_message(BORIS.id)["text"]
    assert await wallets(db) == (50, 50)
    assert await owed_rewards(db) == 1
    assert told_in(company, group["id"], "Общая цель достигнута") == 1
    assert told_in(company, BORIS.id, "Общая цель достигнута") == 1


NOT_ALLOWED = "only admins can do that"
NO_TITLE = "The goal needs a title after its numbers"
NOT_A_LEAD = "only leads and admins can do that"
GOAL_USAGE = "Usage: /goal add code target week|month|once tokens"


@pytest.mark.parametrize(
    ("sender", "command", "answer"),
    [
        (CAROL, "/kpi leads 3", NOT_A_LEAD),
        (EVE, "/kpi leads 3", "You have not joined yet"),
        (BORIS, "/kpi sales 3", "Активной цели «sales» нет: загляните в /top."),
        (BORIS, "/kpi leads three", "«three» — не количество"),
        (BORIS, "/kpi leads 0", "«0» — не количество"),
        (BORIS, "/kpi leads -2", "«-2» — не количество"),
        (BORIS, "/kpi leads 2.5", "«2.5» — не количество"),
        (BORIS, "/kpi leads 99999999", "не больше 1000000"),
        (BORIS, "/kpi leads", "Как пользоваться: /kpi leads 3"),
        (BORIS, "/kpi 3", "Как пользоваться: /kpi leads 3"),
        (CAROL, "/goal", NOT_ALLOWED),
        (CAROL, "/goal add deals 5 month 10 Deals", NOT_ALLOWED),
        (BORIS, "/goal off leads", "это доступно только админам"),
        (ALICE, "/goal add deals 5 year 10 Deals", "“year” is not a period: use week, month"),
        (ALICE, "/goal add deals 0 month 10 Deals", "“0” is not an amount"),
        (ALICE, "/goal add deals -5 month 10 Deals", "“-5” is not an amount"),
        (ALICE, "/goal add deals ten month 10 Deals", "“ten” is not an amount"),
        (ALICE, "/goal add deals 5 month ten Deals", "“ten” is not an amount"),
        (ALICE, "/goal add deals 5 month 10", GOAL_USAGE),
        (ALICE, "/goal add deals 5 month 10 repeat", NO_TITLE),
        (ALICE, "/goal add deals 5 month 10 repeat pizza@sales", NO_TITLE),
        (ALICE, "/goal add deals 5 month 0 Deals", "The goal pays nothing"),
        (ALICE, "/goal add d 5 month 10 Deals", "“d” cannot be a goal's code"),
        (ALICE, f"/goal add deals 5 month 10 {'x' * 201}", "too long: at most 200 characters"),
        (ALICE, "/goal add deals 5 month 10 nachos@sales Deals", "There is no reward “nachos”"),
        (ALICE, "/goal add deals 5 month 10 pizza@finance Deals", "no department “finance”"),
        (ALICE, "/goal add leads 5 week 10 Again", "A goal “leads” already exists"),
        (ALICE, "/goal off nachos", "There is no active goal “nachos”"),
        (ALICE, "/goal off", GOAL_USAGE),
        (ALICE, "/goal explode", GOAL_USAGE),
    ],
)
async def test_bad_goal_commands_are_answered_clearly_and_change_nothing(
    company: Telegram, db: Database, sender: Person, command: str, answer: str
) -> None:
    await company.send(BORIS, "/kpi leads 3")
    before = await books(company, db)

    calls = await company.send(sender, command)

    assert answer in said(calls, sender.id)
    assert [call["chat_id"] for call in calls] == [sender.id]  # nobody else is told anything
    assert await books(company, db) == before
