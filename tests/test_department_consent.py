"""A department reward spends what the whole department earned: the department consents and
is told.

A member's request is only proposed: its price is reserved and every colleague is asked, with
a Back button, in their own language; the first colleague to back it sends it to the admins.
A lead's request goes to the admins at once. The department hears when its wallet is
reserved, spent or refunded. And a double tap is one request, one notice per admin, one
confirmation.

Alice (admin, Sales), Boris (Marketing, Russian), Carol (Sales), Dmitry (Marketing, Russian).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.db import Database
from bot.jobs import expire_redemptions
from bot.models import Employee, Redemption, RedemptionNotice
from bot.services import ledger, shop
from tests.conftest import both_databases
from tests.fake_telegram import Person, Telegram
from tests.helpers import ALICE, BORIS, CAROL, DMITRY, said

LIMIT_RU = "Вы уже исчерпали лимит этой награды на этот период"
PIZZA_PROPOSED_RU = (
    "🗳 Boris предлагает награду для отдела: <b>Пицца для отдела</b> — 100 токенов из кошелька"
    " отдела «Маркетинг», пока в резерве. Заявка уйдёт админам, когда её поддержит кто-нибудь"
    " из отдела."
)


async def wallet(tg: Telegram, person: Person, amount: int) -> None:
    """The admin grants `person` tokens and they chip them all in to their department."""
    await tg.send(ALICE, f"/grant @{person.username} {amount} for the wallet")
    await tg.send(person, f"/chipin {amount}")


async def me(tg: Telegram, person: Person) -> str:
    return said(await tg.send(person, "/me"), person.id)


def requests_to_admin(tg: Telegram) -> list[dict[str, Any]]:
    return [m for m in tg.api.sent(ALICE.id) if m["text"].startswith("🎁 Request #")]


def asked_to_back(tg: Telegram, person: Person) -> list[dict[str, Any]]:
    return [m for m in tg.api.sent(person.id) if m["text"].startswith("🗳")]


async def redemption(db: Database, number: int) -> tuple[str, int | None]:
    async with db.read() as session:
        row = await session.get(Redemption, number)
        assert row is not None
        return row.status, row.backer_id


@pytest.fixture
async def company(staff: Telegram) -> Telegram:
    """Marketing's wallet holds 150 tokens."""
    await wallet(staff, DMITRY, 150)
    return staff


async def test_a_members_request_is_proposed_and_each_colleague_asked_in_their_language(
    company: Telegram, db: Database
) -> None:
    answer = await company.send(BORIS, "/redeem pizza")

    assert said(answer, BORIS.id).startswith("Предложение отправлено: Пицца для отдела.")
    assert "Из кошелька отдела в резерве 100 токенов." in said(answer, BORIS.id)
    (ask,) = asked_to_back(company, DMITRY)
    assert ask["text"] == PIZZA_PROPOSED_RU
    assert Telegram.buttons(ask) == [("👍 Поддержать", "back:1")]
    assert asked_to_back(company, ALICE) == asked_to_back(company, CAROL) == []  # Sales
    assert requests_to_admin(company) == []  # the admins wait for the department
    assert "Кошелёк отдела «Маркетинг»: 50 токенов" in await me(company, DMITRY)
    assert await redemption(db, 1) == ("proposed", None)


async def test_a_colleague_backs_it_and_the_admins_decide(company: Telegram, db: Database) -> None:
    await company.send(BORIS, "/redeem pizza")
    (ask,) = asked_to_back(company, DMITRY)

    pressed = await company.press(DMITRY, ask, "back:1")

    (toast,) = [c["text"] for c in pressed if c["method"] == "answerCallbackQuery"]
    assert toast == "Вы поддержали заявку, теперь решают админы."
    assert company.api.messages[(DMITRY.id, ask["message_id"])]["text"] == (
        f"{PIZZA_PROPOSED_RU}\n\n✅ Заявку поддерживает Dmitry."
    )
    assert company.api.sent(BORIS.id)[-1]["text"] == (
        "👍 Dmitry поддерживает вашу заявку №1 (Пицца для отдела), теперь решают админы."
    )
    (request,) = requests_to_admin(company)
    assert request["text"].endswith("paid by the Marketing wallet. Backed by Dmitry.")
    assert await redemption(db, 1) == ("pending", await _id(db, DMITRY))

    await company.press(ALICE, request, "rdm:approve:1")

    assert company.api.sent(DMITRY.id)[-1]["text"] == (
        "💸 Кошелёк отдела «Маркетинг» оплатил награду <b>Пицца для отдела</b>: 100 токенов."
        " Заявка от Boris."
    )
    assert asked_to_back(company, CAROL) == []
    assert (await ledger.verify(db)).clean


async def _id(db: Database, person: Person) -> int:
    async with db.read() as session:
        found = await session.scalar(select(Employee.id).where(Employee.telegram_id == person.id))
        assert found is not None
        return int(found)


@pytest.mark.parametrize(
    ("presser", "answer"),
    [
        (BORIS, "Свою заявку поддержать нельзя: нужен кто-то из коллег."),
        (CAROL, "Only members of that department can back this request."),
        (ALICE, "Only members of that department can back this request."),
    ],
)
async def test_the_requester_and_other_departments_cannot_back_it(
    company: Telegram, db: Database, presser: Person, answer: str
) -> None:
    await company.send(BORIS, "/redeem pizza")
    await company.send(presser, "/help")
    before = len(company.api.calls)

    pressed = await company.press(presser, company.last_message(presser.id), "back:1")

    assert said(pressed) == answer
    assert [c.method for c in company.api.calls[before:]] == ["answerCallbackQuery"]
    assert await redemption(db, 1) == ("proposed", None)
    assert requests_to_admin(company) == []


@pytest.mark.parametrize(
    ("data", "answer"),
    [
        ("back:٣", "Эта кнопка больше не работает."),
        ("back:1:2", "Эта кнопка больше не работает."),
        ("back:99999", "Заявки №99999 нет."),
        ("back:2", "Заявки №2 нет."),  # a personal request: nothing to back
    ],
)
async def test_forged_back_buttons_change_nothing(
    company: Telegram, db: Database, data: str, answer: str
) -> None:
    await company.send(BORIS, "/redeem pizza")
    await company.send(ALICE, "/grant @dmitry 20 for coffee")
    await company.send(DMITRY, "/redeem coffee")
    before = await ledger.verify(db)

    pressed = await company.press(DMITRY, company.last_message(DMITRY.id), data)

    assert said(pressed) == answer
    assert await redemption(db, 1) == ("proposed", None)
    assert (await ledger.verify(db)).transfers == before.transfers


async def test_a_second_backing_is_told_who_backed_it_first(company: Telegram) -> None:
    await company.send(BORIS, "/redeem pizza")
    (ask,) = asked_to_back(company, DMITRY)
    await company.press(DMITRY, ask, "back:1")

    again = await company.press(DMITRY, ask, "back:1")

    assert said(again) == "Заявку №1 уже поддерживает Dmitry."
    assert len(requests_to_admin(company)) == 1


async def test_an_admin_cannot_approve_what_the_department_has_not_backed(
    company: Telegram, db: Database
) -> None:
    await company.send(BORIS, "/redeem pizza")

    answer = await company.send(ALICE, "/redemptions approve 1")

    assert said(answer, ALICE.id) == "Request #1 is waiting for its department to back it."
    assert await redemption(db, 1) == ("proposed", None)
    # Rejecting it is allowed: the wallet gets its tokens back, and the department is told.
    await company.send(ALICE, "/redemptions reject 1 not this month")
    assert "Кошелёк отдела «Маркетинг»: 150 токенов" in await me(company, DMITRY)
    assert company.api.sent(DMITRY.id)[-2]["text"] == (
        "↩️ Награду для отдела не одобрили: <b>Пицца для отдела</b>."
        " В кошелёк отдела «Маркетинг» вернули 100 токенов."
    )


async def test_a_leads_request_goes_to_the_admins_and_the_department_is_told(
    company: Telegram,
) -> None:
    await company.send(ALICE, "/roles @boris lead")

    await company.send(BORIS, "/redeem pizza")

    assert len(requests_to_admin(company)) == 1
    (told,) = [m for m in company.api.sent(DMITRY.id) if m["text"].startswith("🔒")]
    assert told["text"] == (
        "🔒 Заявка от Boris на награду для отдела: <b>Пицца для отдела</b>. Решают админы,"
        " а пока из кошелька отдела «Маркетинг» в резерве 100 токенов."
    )
    assert Telegram.buttons(told) == []


async def test_a_proposal_nobody_backs_expires_and_the_wallet_gets_it_back(
    company: Telegram, db: Database
) -> None:
    await company.send(BORIS, "/redeem pizza")

    expired = await shop.expire_stale(db, older_than=timedelta(0))

    assert [(r.id, r.status) for r in expired] == [(1, "expired")]
    assert "Кошелёк отдела «Маркетинг»: 150 токенов" in await me(company, DMITRY)


async def test_a_proposed_reward_counts_against_its_limit(company: Telegram) -> None:
    await company.send(ALICE, "/rewards limit pizza 1 week")
    await company.send(BORIS, "/redeem pizza")

    answer = await company.send(BORIS, "/redeem pizza")  # before anyone backed the first

    assert said(answer, BORIS.id).startswith(LIMIT_RU)
    assert len(asked_to_back(company, DMITRY)) == 1  # no second proposal went out


# -- a double tap ------------------------------------------------------------------------------


@both_databases()
async def test_fifty_presses_of_one_redeem_button_make_one_request_one_notice_per_admin_and_one_confirmation(  # noqa: E501
    company: Telegram, db: Database
) -> None:
    await company.send(ALICE, "/roles @dmitry admin")  # two admins to tell
    await company.send(ALICE, "/grant @carol 100 for the shop")
    await company.send(CAROL, "/shop")
    listing = company.last_message(CAROL.id)
    (coffee,) = [data for label, data in Telegram.buttons(listing) if label.startswith("Coffee")]
    confirmations_before = len(company.api.sent(CAROL.id))

    await asyncio.gather(*(company.press(CAROL, listing, coffee) for _ in range(50)))

    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Redemption)) == 1
        assert await session.scalar(select(func.count()).select_from(RedemptionNotice)) == 2
    for admin in (ALICE, DMITRY):
        heads = ("🎁 Request #1", "🎁 Заявка №1")
        assert sum(m["text"].startswith(heads) for m in company.api.sent(admin.id)) == 1
    new = company.api.sent(CAROL.id)[confirmations_before:]
    assert [m["text"].split(".")[0] for m in new] == ["Requested: Coffee break"]
    toasts = [c.params.get("text", "") for c in company.api.calls_to("answerCallbackQuery")]
    assert sum(t == "You have already asked for this: request #1." for t in toasts) == 49
    assert "Your balance: <b>80 tokens</b>" in await me(company, CAROL)
    assert (await ledger.verify(db)).clean


async def test_when_the_expiry_job_voids_a_proposal_the_department_hears_its_wallet_is_refunded(
    company: Telegram, db: Database
) -> None:
    await company.send(BORIS, "/redeem pizza")
    async with db.transaction() as session:  # nobody backed it for three weeks
        row = await session.get(Redemption, 1)
        assert row is not None
        row.created_at = row.created_at - timedelta(days=21)
    context = company.app.context_types.context(company.app)

    await expire_redemptions(context)

    assert company.api.sent(DMITRY.id)[-1]["text"] == (
        "↩️ Награду для отдела не одобрили: <b>Пицца для отдела</b>."
        " В кошелёк отдела «Маркетинг» вернули 100 токенов."
    )
    assert "Кошелёк отдела «Маркетинг»: 150 токенов" in await me(company, DMITRY)
