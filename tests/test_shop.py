"""The reward shop as people use it: /shop, /redeem, admins' Approve / Reject, /redemptions,
/rewards, stock and per-person limits, and requests that expire when nobody decides."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.db import Database
from bot.jobs import expire_redemptions
from bot.models import Redemption, utcnow
from bot.services import ledger, shop
from tests.fake_telegram import Person, Telegram
from tests.helpers import (
    ALICE,
    BORIS,
    CAROL,
    DMITRY,
    EVE,
    PEOPLE,
    command_update,
    ledger_books,
    said,
)

JOINED = PEOPLE  # Eve never joins


async def give(tg: Telegram, person: Person, amount: int) -> None:
    """The admin grants `person` tokens of their own."""
    assert person.username is not None
    answer = await tg.send(ALICE, f"/grant @{person.username} {amount} for the shop")
    assert "Granted" in said(answer, ALICE.id)


async def fill_wallet(tg: Telegram, person: Person, amount: int) -> None:
    """`person` is given tokens and chips them all in to their department's wallet."""
    await give(tg, person, amount)
    await tg.send(person, f"/chipin {amount}")


async def me(tg: Telegram, person: Person) -> str:
    return said(await tg.send(person, "/me"), person.id)


@pytest.fixture
async def company(staff: Telegram) -> Telegram:
    """Alice (admin, Sales), Boris (Marketing; a second admin where a test says so), Carol
    (Sales), Dmitry (Marketing)."""
    return staff


async def make_admin(tg: Telegram, person: Person) -> None:
    answer = await tg.send(ALICE, f"/roles @{person.username} admin")
    assert "now has the admin role" in said(answer, ALICE.id)


def request_to(tg: Telegram, admin: Person, number: int) -> dict[str, Any]:
    """The copy of request #number the admin was sent when it was made, as it looks now."""
    heads = (f"🎁 Request #{number}:", f"🎁 Заявка №{number} от ")
    return next(m for m in tg.api.sent(admin.id) if m["text"].startswith(heads))


async def reward_ids(db: Database) -> dict[str, int]:
    return {r.code: r.id for r in await shop.rewards(db, include_inactive=True)}


async def books(db: Database) -> tuple[Any, ...]:
    """Everything a bad request must leave alone: the journal, every person's and department's
    balance, the rewards (price, stock, limits, on/off) and every redemption's state."""
    transfers, balances = await ledger_books(db, JOINED)
    async with db.read() as session:
        redemptions = (
            await session.execute(
                select(Redemption.id, Redemption.status, Redemption.fulfilled_at).order_by(
                    Redemption.id
                )
            )
        ).all()
    return transfers, balances, await shop.rewards(db, include_inactive=True), redemptions


# -- the shop ---------------------------------------------------------------------------------


async def test_the_shop_lists_every_seeded_reward_with_price_kind_and_a_redeem_button(
    company: Telegram, db: Database
) -> None:
    answer = await company.send(CAROL, "/shop")

    (message,) = answer
    text = message["text"]
    assert text.startswith("🛍 The shop:")
    for line in [
        "<b>Coffee break</b> — 20 tokens (from your tokens) · /redeem coffee",
        "<b>A donation to charity</b> — 50 tokens (from your tokens) · /redeem charity",
        "<b>Pizza for the department</b> — 100 tokens (from the department wallet) · /redeem pizza",
        "<b>Team lunch</b> — 250 tokens (from the department wallet) · /redeem lunch",
        "<b>An extra day off</b> — 300 tokens (from your tokens, 1 per person a month)",
        "<b>Corporate party</b> — 1000 tokens (from the department wallet) · /redeem party",
    ]:
        assert line in text
    ids = await reward_ids(db)
    assert Telegram.buttons(company.last_message(CAROL.id)) == [
        ("Coffee break — 20", f"shop:{ids['coffee']}:{CAROL.id}"),
        ("A donation to charity — 50", f"shop:{ids['charity']}:{CAROL.id}"),
        ("Pizza for the department — 100", f"shop:{ids['pizza']}:{CAROL.id}"),
        ("Team lunch — 250", f"shop:{ids['lunch']}:{CAROL.id}"),
        ("An extra day off — 300", f"shop:{ids['day_off']}:{CAROL.id}"),
        ("Corporate party — 1000", f"shop:{ids['party']}:{CAROL.id}"),
    ]


async def test_a_russian_speaker_sees_the_shop_in_russian(company: Telegram) -> None:
    text = said(await company.send(DMITRY, "/shop"))

    assert text.startswith("🛍 Магазин:")
    assert "<b>Кофе-брейк</b> — 20 токенов (из ваших токенов) · /redeem coffee" in text
    assert "<b>Пицца для отдела</b> — 100 токенов (из кошелька отдела)" in text
    assert "<b>Дополнительный выходной</b> — 300 токенов (из ваших токенов, 1 раз в месяц" in text
    assert "Пожертвование на благотворительность" in text and "Корпоратив" in text
    labels = [label for label, _ in Telegram.buttons(company.last_message(DMITRY.id))]
    assert labels[0] == "Кофе-брейк — 20" and len(labels) == 6


# -- redeeming --------------------------------------------------------------------------------


async def test_redeeming_reserves_the_price_and_asks_every_admin_to_approve_or_reject(
    company: Telegram,
) -> None:
    await make_admin(company, BORIS)
    await give(company, CAROL, 100)

    answer = await company.send(CAROL, "/redeem coffee")

    assert said(answer, CAROL.id) == (
        "Requested: Coffee break. 20 tokens are reserved until an admin approves it; "
        "I will tell you."
    )
    assert "Your balance: <b>80 tokens</b>" in await me(company, CAROL)
    to_alice, to_boris = request_to(company, ALICE, 1), request_to(company, BORIS, 1)
    assert to_alice["text"] == (
        "🎁 Request #1: Carol asks for <b>Coffee break</b> — 20 tokens, paid personally."
    )
    assert Telegram.buttons(to_alice) == [
        ("✅ Approve", "rdm:approve:1"),
        ("❌ Reject", "rdm:reject:1"),
        ("💬 Reject with a reason", "rdm:why:1"),
    ]
    assert to_boris["text"] == (
        "🎁 Заявка №1 от Carol: <b>Кофе-брейк</b> — 20 токенов, из личных токенов."
    )
    assert Telegram.buttons(to_boris) == [
        ("✅ Одобрить", "rdm:approve:1"),
        ("❌ Отклонить", "rdm:reject:1"),
        ("💬 Отклонить с причиной", "rdm:why:1"),
    ]
    pending = said(await company.send(ALICE, "/redemptions"))
    assert "⏳ 🎁 Request #1: Carol asks for <b>Coffee break</b>" in pending


async def test_pressing_redeem_under_the_shop_reserves_the_price_like_the_command(
    company: Telegram, db: Database
) -> None:
    await give(company, CAROL, 100)
    await company.send(CAROL, "/shop")
    listing = company.last_message(CAROL.id)
    (coffee,) = [data for label, data in Telegram.buttons(listing) if label.startswith("Coffee")]

    answer = await company.press(CAROL, listing, coffee)

    assert "Requested: Coffee break. 20 tokens are reserved" in said(answer, CAROL.id)
    assert "Your balance: <b>80 tokens</b>" in await me(company, CAROL)
    assert Telegram.buttons(request_to(company, ALICE, 1))[0] == ("✅ Approve", "rdm:approve:1")
    assert (await ledger.verify(db)).clean


async def test_a_double_tap_on_redeem_asks_for_the_reward_once(
    company: Telegram, db: Database
) -> None:
    await give(company, CAROL, 100)
    await company.send(CAROL, "/shop")
    listing = company.last_message(CAROL.id)
    (coffee,) = [data for label, data in Telegram.buttons(listing) if label.startswith("Coffee")]

    await company.press(CAROL, listing, coffee)
    await company.press(CAROL, listing, coffee)

    assert "Your balance: <b>80 tokens</b>" in await me(company, CAROL)
    requests = [m for m in company.api.sent(ALICE.id) if m["text"].startswith("🎁 Request #")]
    assert len(requests) == 1
    assert (await ledger.verify(db)).clean


async def test_a_department_reward_is_paid_from_the_department_wallet(
    company: Telegram,
) -> None:
    await give(company, CAROL, 30)
    await fill_wallet(company, ALICE, 120)

    answer = await company.send(CAROL, "/redeem pizza")

    assert said(answer, CAROL.id).startswith("Proposed: Pizza for the department.")
    carol = await me(company, CAROL)
    assert "Your balance: <b>30 tokens</b>" in carol
    assert "Sales wallet: 20 tokens" in carol  # reserved while the department decides
    await company.press(ALICE, company.last_message(ALICE.id), "back:1")  # Alice, of Sales
    assert request_to(company, ALICE, 1)["text"] == (
        "🎁 Request #1: Carol asks for <b>Pizza for the department</b> — 100 tokens, "
        "paid by the Sales wallet. Backed by Alice."
    )
    await company.press(ALICE, request_to(company, ALICE, 1), "rdm:approve:1")
    assert "Sales wallet: 20 tokens" in await me(company, CAROL)
    assert "Кошелёк отдела «Маркетинг»: 0 токенов" in await me(company, BORIS)


async def test_rejecting_a_department_reward_refunds_the_department_wallet(
    company: Telegram,
) -> None:
    await fill_wallet(company, CAROL, 100)
    await company.send(CAROL, "/redeem pizza")
    await company.press(ALICE, company.last_message(ALICE.id), "back:1")
    assert "Sales wallet: 0 tokens" in await me(company, CAROL)

    answer = await company.press(ALICE, request_to(company, ALICE, 1), "rdm:reject:1")

    assert "rejected; 100 tokens are back" in said(answer, CAROL.id)
    carol = await me(company, CAROL)
    assert "Sales wallet: 100 tokens" in carol and "Your balance: <b>0 tokens</b>" in carol


async def test_approving_tells_the_requester_in_their_language_and_every_admin_who_decided(
    company: Telegram, db: Database
) -> None:
    await make_admin(company, BORIS)
    await give(company, DMITRY, 100)
    await company.send(DMITRY, "/redeem coffee")

    answer = await company.press(ALICE, request_to(company, ALICE, 1), "rdm:approve:1")

    assert "Request #1 approved." in said(answer)
    assert said(answer, DMITRY.id) == (
        "✅ Ваша заявка на «Кофе-брейк» одобрена (потрачено 20 токенов). Наслаждайтесь!"
    )
    to_alice, to_boris = request_to(company, ALICE, 1), request_to(company, BORIS, 1)
    assert to_alice["text"].endswith("\n✅ Approved by Alice.")
    assert Telegram.buttons(to_alice) == [("📦 Fulfilled", "rdm:fulfil:1")]
    assert to_boris["text"].endswith("\n✅ Одобрено: Alice.")
    assert Telegram.buttons(to_boris) == [("📦 Выполнено", "rdm:fulfil:1")]
    assert "Ваш баланс: <b>80 токенов</b>" in await me(company, DMITRY)  # spent, not refunded
    assert (await ledger.verify(db)).clean


async def test_redemptions_lists_pending_and_owed_requests_until_they_are_fulfilled(
    company: Telegram,
) -> None:
    await give(company, CAROL, 100)
    await company.send(CAROL, "/redeem coffee")
    await company.send(CAROL, "/redeem charity")
    await company.press(ALICE, request_to(company, ALICE, 1), "rdm:approve:1")

    answer = await company.send(ALICE, "/redemptions")

    assert sorted(call["text"] for call in answer) == [
        "⏳ 🎁 Request #2: Carol asks for <b>A donation to charity</b> — 50 tokens, "
        "paid personally.",
        "📋 Approved, still owed: 🎁 Request #1: Carol asks for <b>Coffee break</b> — 20 tokens, "
        "paid personally.",
    ]
    (owed_message,) = [
        m for m in company.api.sent(ALICE.id) if m["text"].startswith("📋 Approved, still owed")
    ]
    assert Telegram.buttons(owed_message) == [("📦 Fulfilled", "rdm:fulfil:1")]

    pressed = await company.press(ALICE, owed_message, "rdm:fulfil:1")

    assert "Marked as fulfilled." in said(pressed)
    assert company.api.messages[(ALICE.id, owed_message["message_id"])]["text"].endswith(
        "📦 Fulfilled."
    )
    original = request_to(company, ALICE, 1)  # the copy sent with the request follows suit
    assert original["text"].endswith("📦 Fulfilled.") and Telegram.buttons(original) == []
    left = said(await company.send(ALICE, "/redemptions"))
    assert "Request #2" in left and "Request #1" not in left


async def test_pressing_fulfilled_twice_is_not_an_error(company: Telegram) -> None:
    await give(company, CAROL, 100)
    await company.send(CAROL, "/redeem coffee")
    await company.press(ALICE, request_to(company, ALICE, 1), "rdm:approve:1")
    approved = request_to(company, ALICE, 1)

    first = await company.press(ALICE, approved, "rdm:fulfil:1")
    second = await company.press(ALICE, approved, "rdm:fulfil:1")

    assert "Marked as fulfilled." in said(first)
    assert "Marked as fulfilled." in said(second)
    assert "something went wrong" not in said(second)
    assert request_to(company, ALICE, 1)["text"].endswith("\n📦 Fulfilled.")


async def test_rejecting_a_redemption_refunds_the_tokens_and_the_stock(
    company: Telegram,
) -> None:
    await company.send(ALICE, "/rewards stock coffee 1")
    await give(company, CAROL, 100)
    await company.send(CAROL, "/redeem coffee")
    assert "(from your tokens, 0 left)" in said(await company.send(CAROL, "/shop"))

    answer = await company.press(ALICE, request_to(company, ALICE, 1), "rdm:reject:1")

    assert "Request #1 rejected; the tokens went back." in said(answer)
    assert "❌ Your request for Coffee break was rejected; 20 tokens are back." in said(
        answer, CAROL.id
    )
    assert "Your balance: <b>100 tokens</b>" in await me(company, CAROL)
    assert "(from your tokens, 1 left)" in said(await company.send(CAROL, "/shop"))
    rejected = request_to(company, ALICE, 1)
    assert "\n❌ Rejected by Alice." in rejected["text"]
    assert Telegram.buttons(rejected) == []
    assert "Nothing is waiting" in said(await company.send(ALICE, "/redemptions"))


async def test_an_admin_rejects_with_a_reason_that_the_requester_sees(
    company: Telegram,
) -> None:
    await give(company, DMITRY, 100)
    await company.send(DMITRY, "/redeem coffee")

    answer = await company.send(ALICE, "/redemptions reject 1 the machine is broken")

    assert "Request #1 rejected; the tokens went back." in said(answer, ALICE.id)
    assert said(answer, DMITRY.id) == (
        "❌ Ваша заявка на «Кофе-брейк» отклонена, вам вернули 20 токенов. "
        "Причина: the machine is broken"
    )
    assert request_to(company, ALICE, 1)["text"].endswith(
        "❌ Rejected by Alice. Reason: the machine is broken"
    )
    assert "Ваш баланс: <b>100 токенов</b>" in await me(company, DMITRY)


async def test_an_admin_approves_with_the_redemptions_command(company: Telegram) -> None:
    await give(company, CAROL, 100)
    await company.send(CAROL, "/redeem coffee")

    answer = await company.send(ALICE, "/redemptions approve 1")

    assert "Request #1 approved." in said(answer, ALICE.id)
    assert "was approved (20 tokens spent)" in said(answer, CAROL.id)
    assert Telegram.buttons(request_to(company, ALICE, 1)) == [("📦 Fulfilled", "rdm:fulfil:1")]


async def test_when_a_second_admin_presses_later_they_are_told_it_was_decided_and_nothing_changes(
    company: Telegram, db: Database
) -> None:
    await make_admin(company, BORIS)
    await give(company, CAROL, 100)
    await company.send(CAROL, "/redeem coffee")
    boris_copy = request_to(company, BORIS, 1)  # as Boris saw it, Approve / Reject and all
    await company.press(ALICE, request_to(company, ALICE, 1), "rdm:approve:1")
    before = await books(db)

    late = await company.press(BORIS, boris_copy, "rdm:reject:1")
    again = await company.press(ALICE, request_to(company, ALICE, 1), "rdm:approve:1")

    assert said(late) == "По заявке №1 уже есть решение."
    assert said(again) == "Request #1 has already been decided."
    assert [call["method"] for call in late + again] == ["answerCallbackQuery"] * 2
    assert await books(db) == before
    assert "Your balance: <b>80 tokens</b>" in await me(company, CAROL)
    assert request_to(company, BORIS, 1)["text"].endswith("✅ Одобрено: Alice.")


async def test_the_same_redeem_delivered_twice_reserves_once_and_asks_the_admins_once(
    company: Telegram, db: Database
) -> None:
    await give(company, CAROL, 100)
    update = command_update(company, CAROL, "/redeem coffee", 777, update_id=9001)

    await company.app.process_update(update)
    await company.app.process_update(update)

    assert "Your balance: <b>80 tokens</b>" in await me(company, CAROL)
    asked = [m for m in company.api.sent(ALICE.id) if m["text"].startswith("🎁 Request")]
    assert len(asked) == 1
    assert (await ledger.verify(db)).clean


# -- stock and limits -------------------------------------------------------------------------


async def test_stock_runs_out_and_a_rejection_gives_the_unit_back(company: Telegram) -> None:
    saved = await company.send(ALICE, "/rewards stock coffee 1")
    assert "Saved: • <b>Coffee break</b> — 20 tokens (from your tokens, 1 left)" in said(saved)
    await give(company, CAROL, 100)
    await give(company, DMITRY, 100)
    assert "Requested: Coffee break" in said(await company.send(CAROL, "/redeem coffee"))

    refused = await company.send(DMITRY, "/redeem coffee")

    assert said(refused) == "Эта награда закончилась."
    assert "Ваш баланс: <b>100 токенов</b>" in await me(company, DMITRY)
    await company.press(ALICE, request_to(company, ALICE, 1), "rdm:reject:1")
    again = await company.send(DMITRY, "/redeem coffee")
    assert "Заявка принята: Кофе-брейк" in said(again, DMITRY.id)
    assert "Ваш баланс: <b>80 токенов</b>" in await me(company, DMITRY)


async def test_an_extra_day_off_is_limited_to_one_per_person_a_month(company: Telegram) -> None:
    await give(company, CAROL, 700)
    await give(company, DMITRY, 300)
    assert "Requested: An extra day off" in said(await company.send(CAROL, "/redeem day_off"))
    await company.press(ALICE, request_to(company, ALICE, 1), "rdm:approve:1")

    refused = await company.send(CAROL, "/redeem day_off")

    assert said(refused) == "You have already used this reward's limit for this period (1)."
    assert "Your balance: <b>400 tokens</b>" in await me(company, CAROL)
    other = await company.send(DMITRY, "/redeem day_off")  # the limit is per person
    assert "Заявка принята: Дополнительный выходной" in said(other, DMITRY.id)


async def test_a_rejected_day_off_does_not_count_against_the_limit(company: Telegram) -> None:
    await give(company, CAROL, 300)
    await company.send(CAROL, "/redeem day_off")
    await company.press(ALICE, request_to(company, ALICE, 1), "rdm:reject:1")

    answer = await company.send(CAROL, "/redeem day_off")

    assert "Requested: An extra day off" in said(answer, CAROL.id)


async def test_last_months_day_off_does_not_count_against_this_months_limit(
    company: Telegram, db: Database
) -> None:
    await give(company, CAROL, 600)
    settings = company.app.bot_data["settings"]
    await shop.redeem(
        db,
        telegram_id=CAROL.id,
        reward_ref="day_off",
        key="last-month",
        tz=settings.tz,
        now=utcnow() - timedelta(days=40),
    )

    answer = await company.send(CAROL, "/redeem day_off")

    assert "Requested: An extra day off" in said(answer, CAROL.id)
    assert "Your balance: <b>0 tokens</b>" in await me(company, CAROL)


# -- requests nobody decides on ---------------------------------------------------------------


async def age(db: Database, redemption_id: int, days: int) -> None:
    """Pretend request #redemption_id was made `days` days ago."""
    async with db.transaction() as session:
        await session.execute(
            update(Redemption)
            .where(Redemption.id == redemption_id)
            .values(created_at=utcnow() - timedelta(days=days))
        )


async def test_the_daily_job_expires_a_request_nobody_decided_and_refunds_it(
    company: Telegram, db: Database
) -> None:
    await company.send(ALICE, "/rewards stock coffee 3")
    await give(company, CAROL, 100)
    await company.send(CAROL, "/redeem coffee")
    await company.send(CAROL, "/redeem charity")
    await age(db, 1, days=15)  # older than the 14 days allowed
    await age(db, 2, days=13)
    (job,) = company.app.job_queue.get_jobs_by_name("expire")  # type: ignore[union-attr]
    before = len(company.api.calls)

    await job.run(company.app)

    told = [c.params["text"] for c in company.api.calls[before:] if c.method == "sendMessage"]
    assert told == [
        "⌛ Nobody decided on your request for Coffee break in time; 20 tokens are back."
    ]  # no trailing space where there is no reason
    assert "Your balance: <b>50 tokens</b>" in await me(company, CAROL)  # 100 − 50 for charity
    assert "(from your tokens, 3 left)" in said(await company.send(CAROL, "/shop"))
    expired = request_to(company, ALICE, 1)
    assert "⌛ Expired without a decision." in expired["text"]
    assert Telegram.buttons(expired) == []
    still = said(await company.send(ALICE, "/redemptions"))
    assert "Request #2" in still and "Request #1" not in still
    late = await company.press(ALICE, expired, "rdm:approve:1")  # a stale client's button
    assert said(late) == "Request #1 has already been decided."
    assert (await ledger.verify(db)).clean


async def test_expiring_refunds_each_stale_request_once(company: Telegram, db: Database) -> None:
    await give(company, CAROL, 100)
    await company.send(CAROL, "/redeem coffee")
    later = utcnow() + timedelta(days=15)

    first = await shop.expire_stale(db, older_than=timedelta(days=14), now=later)
    second = await shop.expire_stale(db, older_than=timedelta(days=14), now=later)

    assert [(r.id, r.status) for r in first] == [(1, "expired")]
    assert second == []
    assert "Your balance: <b>100 tokens</b>" in await me(company, CAROL)
    assert (await ledger.verify(db)).clean


async def test_the_expiry_job_called_directly_tells_the_requester_in_their_language(
    company: Telegram, db: Database
) -> None:
    await give(company, DMITRY, 100)
    await company.send(DMITRY, "/redeem coffee")
    await age(db, 1, days=30)
    context = company.app.context_types.context(company.app)
    before = len(company.api.calls)

    await expire_redemptions(context)

    assert any(
        call.params.get("chat_id") == DMITRY.id
        and "так и не приняли решение, вам вернули 20 токенов" in call.params["text"]
        for call in company.api.calls[before:]
    )
    assert "Ваш баланс: <b>100 токенов</b>" in await me(company, DMITRY)


# -- managing rewards -------------------------------------------------------------------------


async def test_an_admin_adds_a_reward_that_everyone_sees_in_their_language(
    company: Telegram,
) -> None:
    answer = await company.send(
        ALICE, "/rewards add tshirt 150 personal Branded T-shirt | Фирменная футболка"
    )

    assert said(answer) == (
        "Saved: • <b>Branded T-shirt</b> — 150 tokens (from your tokens) · /redeem tshirt"
    )
    assert "<b>Branded T-shirt</b> — 150 tokens" in said(await company.send(CAROL, "/shop"))
    assert "<b>Фирменная футболка</b> — 150 токенов" in said(await company.send(DMITRY, "/shop"))
    await give(company, CAROL, 150)
    assert "Requested: Branded T-shirt" in said(await company.send(CAROL, "/redeem tshirt"))


async def test_a_new_department_reward_is_paid_from_the_wallet(company: Telegram) -> None:
    await company.send(ALICE, "/rewards add cake 40 department Cake | Торт")
    await fill_wallet(company, CAROL, 40)

    await company.send(CAROL, "/redeem cake")
    await company.press(ALICE, company.last_message(ALICE.id), "back:1")

    assert "Sales wallet: 0 tokens" in await me(company, CAROL)
    assert "paid by the Sales wallet" in request_to(company, ALICE, 1)["text"]


async def test_a_new_price_is_what_the_next_redemption_reserves(company: Telegram) -> None:
    answer = await company.send(ALICE, "/rewards price coffee 35")

    assert "Saved: • <b>Coffee break</b> — 35 tokens" in said(answer)
    assert "Coffee break — 35" in [
        label for label, _ in Telegram.buttons((await company.send(CAROL, "/shop"))[0])
    ]
    await give(company, CAROL, 100)
    await company.send(CAROL, "/redeem coffee")
    assert "Your balance: <b>65 tokens</b>" in await me(company, CAROL)


async def test_a_limit_an_admin_sets_is_enforced(company: Telegram) -> None:
    answer = await company.send(ALICE, "/rewards limit coffee 2 week")

    assert "(from your tokens, 2 per person a week)" in said(answer)
    await give(company, CAROL, 100)
    await company.send(CAROL, "/redeem coffee")
    await company.send(CAROL, "/redeem coffee")
    refused = await company.send(CAROL, "/redeem coffee")
    assert said(refused) == "You have already used this reward's limit for this period (2)."
    assert "Your balance: <b>60 tokens</b>" in await me(company, CAROL)
    lifted = await company.send(ALICE, "/rewards limit coffee none")
    assert "per person" not in said(lifted)
    assert "Requested: Coffee break" in said(await company.send(CAROL, "/redeem coffee"))


async def test_stock_none_makes_a_reward_unlimited_again(company: Telegram) -> None:
    await company.send(ALICE, "/rewards stock coffee 0")
    await give(company, CAROL, 100)
    assert said(await company.send(CAROL, "/redeem coffee")) == "That reward is out of stock."

    answer = await company.send(ALICE, "/rewards stock coffee none")

    assert "left" not in said(answer)
    assert "Requested: Coffee break" in said(await company.send(CAROL, "/redeem coffee"))


async def test_a_reward_switched_off_is_hidden_and_unavailable_until_switched_on(
    company: Telegram,
) -> None:
    await give(company, CAROL, 100)
    await company.send(CAROL, "/shop")
    old_listing = company.last_message(CAROL.id)
    (coffee,) = [
        data for label, data in Telegram.buttons(old_listing) if label.startswith("Coffee")
    ]

    off = await company.send(ALICE, "/rewards off coffee")

    assert said(off) == (
        "Saved: <s>• <b>Coffee break</b> — 20 tokens (from your tokens) · /redeem coffee</s> (off)"
    )
    assert "Coffee break" not in said(await company.send(CAROL, "/shop"))
    assert "<s>• <b>Coffee break</b>" in said(await company.send(ALICE, "/rewards"))
    refused = await company.send(CAROL, "/redeem coffee")
    assert said(refused) == "That reward is not available any more."
    pressed = await company.press(CAROL, old_listing, coffee)
    assert said(pressed) == "That reward is not available any more."
    assert "Your balance: <b>100 tokens</b>" in await me(company, CAROL)

    on = await company.send(ALICE, "/rewards on coffee")

    assert "(off)" not in said(on)
    assert "Coffee break" in said(await company.send(CAROL, "/shop"))
    assert "Requested: Coffee break" in said(await company.send(CAROL, "/redeem coffee"))


async def test_rewards_without_arguments_lists_every_reward_and_how_to_change_them(
    company: Telegram,
) -> None:
    text = said(await company.send(ALICE, "/rewards"))

    assert text.startswith("Rewards:")
    assert text.count("/redeem ") == 6
    assert "/rewards add code 100 personal|department" in text


async def test_a_name_of_exactly_one_hundred_characters_is_accepted(company: Telegram) -> None:
    name = "n" * 100

    answer = await company.send(ALICE, f"/rewards add long 10 personal {name}")

    assert f"<b>{name}</b> — 10 tokens" in said(answer)


# -- bad input --------------------------------------------------------------------------------


@pytest.fixture
async def busy_shop(company: Telegram) -> Telegram:
    """Carol has 400 tokens and a day off pending (#1); her coffee was rejected (#2); charity is
    out of stock; the team lunch is switched off; the Sales wallet has 300 tokens."""
    await give(company, CAROL, 700)
    await fill_wallet(company, ALICE, 300)
    await company.send(CAROL, "/redeem day_off")
    await company.send(CAROL, "/redeem coffee")
    await company.press(ALICE, request_to(company, ALICE, 2), "rdm:reject:2")
    await company.send(ALICE, "/rewards stock charity 0")
    await company.send(ALICE, "/rewards off lunch")
    return company


LONG = "x" * 101
NOT_ALLOWED = "Sorry, only admins can do that."
REWARDS_USAGE = "Usage: /rewards add code 100 personal|department"


@pytest.mark.parametrize(
    ("sender", "command", "answer"),
    [
        (CAROL, "/redeem party", "Not enough tokens: 1000 needed, 300 available."),
        (CAROL, "/redeem charity", "That reward is out of stock."),
        (CAROL, "/redeem day_off", "You have already used this reward's limit for this period"),
        (CAROL, "/redeem lunch", "That reward is not available any more."),
        (CAROL, "/redeem nachos", "There is no reward “nachos”: see /shop."),
        (CAROL, "/redeem 99999", "There is no reward “99999”: see /shop."),
        (CAROL, "/redeem 99999999999999999999", "There is no reward “99999999999999999999”"),
        (CAROL, "/redeem", "Usage: /redeem pizza (the codes are in /shop)"),
        (CAROL, "/redeem coffee pizza", "Usage: /redeem pizza"),
        (DMITRY, "/redeem coffee", "Не хватает токенов: нужно 20, есть 0."),
        (DMITRY, "/redeem pizza", "Не хватает токенов: нужно 100, есть 0."),  # an empty wallet
        (EVE, "/redeem coffee", "You have not joined yet"),
        (EVE, "/shop", "You have not joined yet"),
        (CAROL, "/redemptions", NOT_ALLOWED),
        (CAROL, "/redemptions approve 1", NOT_ALLOWED),
        (CAROL, "/rewards", NOT_ALLOWED),
        (CAROL, "/rewards price coffee 1", NOT_ALLOWED),
        (DMITRY, "/rewards off coffee", "это доступно только админам"),
        (ALICE, "/redemptions approve 2", "Request #2 has already been decided."),
        (ALICE, "/redemptions reject 2 twice", "Request #2 has already been decided."),
        (ALICE, "/redemptions approve 99999", "There is no request #99999."),
        (ALICE, "/redemptions reject 999999999999", "There is no request #999999999999."),
        (ALICE, "/redemptions approve", "Usage: /redemptions, or /redemptions reject 12 reason"),
        (ALICE, "/redemptions reject abc", "Usage: /redemptions"),
        (ALICE, f"/redemptions reject {10**30}", f"There is no request #{10**30}."),
        (ALICE, "/redemptions approve ١", "Usage: /redemptions"),
        (CAROL, "/redeem ١", "There is no reward “١”"),
        (ALICE, "/redemptions explode 1", "Usage: /redemptions"),
        (ALICE, f"/redemptions reject 1 {'r' * 201}", "at most 200 characters"),
        (ALICE, "/rewards price coffee 0", "“0” is not an amount"),
        (ALICE, "/rewards price coffee -5", "“-5” is not an amount"),
        (ALICE, "/rewards price coffee abc", "“abc” is not an amount"),
        (ALICE, "/rewards price coffee 2000000", "the most is 1000000"),
        (ALICE, "/rewards price nachos 10", "There is no reward “nachos”"),
        (ALICE, "/rewards price coffee", REWARDS_USAGE),
        (ALICE, "/rewards stock coffee -1", "“-1” is not an amount"),
        (ALICE, "/rewards limit coffee 0", REWARDS_USAGE),
        (ALICE, "/rewards limit coffee 1 year", REWARDS_USAGE),
        (ALICE, "/rewards off", REWARDS_USAGE),
        (ALICE, "/rewards explode coffee", REWARDS_USAGE),
        (ALICE, "/rewards add mug 0 personal Mug", "“0” is not an amount"),
        (ALICE, "/rewards add mug -5 personal Mug", "“-5” is not an amount"),
        (ALICE, "/rewards add mug abc personal Mug", "“abc” is not an amount"),
        (ALICE, "/rewards add mug 10 gift Mug", REWARDS_USAGE),
        (ALICE, "/rewards add mug 10 personal", REWARDS_USAGE),
        (ALICE, "/rewards add m 10 personal Mug", REWARDS_USAGE),
        (ALICE, "/rewards add mug 10 personal | Кружка", REWARDS_USAGE),
        (ALICE, f"/rewards add mug 10 personal {LONG}", "too long: at most 100 characters"),
        (ALICE, f"/rewards add mug 10 personal Mug | {'ж' * 101}", "at most 100 characters"),
        (ALICE, "/rewards add coffee 10 personal Coffee", "“coffee” already exists"),
        (ALICE, "/rewards add 123 10 personal Mug", REWARDS_USAGE),  # /redeem 123 means #123
        (ALICE, "/rewards price coffee 25 tokens", REWARDS_USAGE),
        (ALICE, "/rewards stock coffee 5 more", REWARDS_USAGE),
    ],
)
async def test_bad_requests_are_answered_clearly_and_change_nothing(
    busy_shop: Telegram, db: Database, sender: Person, command: str, answer: str
) -> None:
    before = await books(db)

    calls = await busy_shop.send(sender, command)

    assert answer in said(calls, sender.id)
    assert [call["chat_id"] for call in calls] == [sender.id]  # nobody else is told anything
    assert await books(db) == before


@pytest.mark.parametrize(
    ("presser", "data", "answer"),
    [
        (CAROL, "rdm:approve:1", NOT_ALLOWED),  # forged by someone who is not an admin
        (CAROL, "rdm:reject:1", NOT_ALLOWED),
        (CAROL, "rdm:fulfil:2", NOT_ALLOWED),
        (ALICE, "rdm:approve:abc", "This button no longer works."),
        (ALICE, "rdm:explode:1", "This button no longer works."),
        (ALICE, "rdm:approve:1:2", "This button no longer works."),
        (ALICE, "rdm:approve:9999999999999", "This button no longer works."),
        (ALICE, "rdm:approve:99999", "There is no request #99999."),
        (ALICE, "rdm:fulfil:999999999999", "There is no request #999999999999."),
        (ALICE, "rdm:approve:2", "Request #2 has already been decided."),
        (ALICE, "rdm:fulfil:1", "Request #1 is not approved, so it cannot be fulfilled."),
        (CAROL, "shop:99999:{carol}", "There is no reward “99999”: see /shop."),
        (CAROL, "shop:{coffee}:{dmitry}", "This button is not for you."),
        (CAROL, "shop:abc:{carol}", "This button no longer works."),
        (CAROL, "shop:{coffee}:{carol_wide}", "This button no longer works."),  # "１２…"
        (ALICE, "rdm:approve:١", "This button no longer works."),  # an Arabic-Indic 1
        (ALICE, "rdm:fulfil:٢", "This button no longer works."),
        (CAROL, "shop:{coffee}", "This button no longer works."),
        (CAROL, "shop:{charity}:{carol}", "That reward is out of stock."),
        (CAROL, "shop:{lunch}:{carol}", "That reward is not available any more."),
        (CAROL, "explode", "This button no longer works."),
    ],
)
async def test_forged_and_stale_buttons_are_answered_clearly_and_change_nothing(
    busy_shop: Telegram, db: Database, presser: Person, data: str, answer: str
) -> None:
    ids = await reward_ids(db)
    wide = str(CAROL.id).translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    data = data.format(carol=CAROL.id, carol_wide=wide, dmitry=DMITRY.id, **ids)
    await busy_shop.send(presser, "/help")  # any message of the bot's in the presser's chat
    before = await books(db)

    calls = await busy_shop.press(presser, busy_shop.last_message(presser.id), data)

    assert answer in said(calls)
    assert {call.get("chat_id") for call in calls} <= {None, presser.id}
    assert [c["method"] for c in calls] == ["answerCallbackQuery"]
    assert await books(db) == before


# -- rejecting with a reason by button -------------------------------------------------------


async def test_an_admin_rejects_by_button_with_a_reason_the_requester_reads(
    company: Telegram, db: Database
) -> None:
    await give(company, CAROL, 100)
    await company.send(CAROL, "/redeem coffee")
    request = request_to(company, ALICE, 1)
    assert ("💬 Reject with a reason", "rdm:why:1") in Telegram.buttons(request)

    await company.press(ALICE, request, "rdm:why:1")
    question = company.last_message(ALICE.id)
    assert question["text"] == (
        "Why is request #1 rejected? Reply to this message with the reason; the requester will"
        " see it."
    )
    (asking,) = [
        c for c in company.api.calls_to("sendMessage") if "#1 rejected?" in c.params["text"]
    ]
    assert asking.params["reply_markup"]["force_reply"] is True  # the client opens a reply
    answer = await company.send(ALICE, "the machine is broken", reply_to=question)

    assert "Request #1 rejected" in said(answer, ALICE.id)
    assert said(answer, CAROL.id) == (
        "❌ Your request for Coffee break was rejected; 20 tokens are back."
        " Reason: the machine is broken"
    )
    assert "Your balance: <b>100 tokens</b>" in await me(company, CAROL)
    again = await company.send(ALICE, "a second reply", reply_to=question)
    assert said(again, ALICE.id) == "Request #1 has already been decided."
    assert (await ledger.verify(db)).clean


async def test_a_reason_from_someone_who_is_not_an_admin_rejects_nothing(
    company: Telegram, db: Database
) -> None:
    await give(company, CAROL, 100)
    await company.send(CAROL, "/redeem coffee")
    await company.press(ALICE, request_to(company, ALICE, 1), "rdm:why:1")
    question = company.last_message(ALICE.id)
    before = await books(db)

    # Carol cannot reply to a message in Alice's chat; a forged reply is refused all the same.
    answer = await company.send(CAROL, "no coffee for me", reply_to=question)

    assert "only admins can do that" in said(answer, CAROL.id)
    assert await books(db) == before


async def test_a_reply_to_any_other_message_is_not_taken_for_a_reason(company: Telegram) -> None:
    await company.send(CAROL, "/help")
    answer = await company.send(CAROL, "thanks!", reply_to=company.last_message(CAROL.id))

    assert "/help" in said(answer, CAROL.id)  # the usual pointer, nothing rejected
