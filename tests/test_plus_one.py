""" "+1" under a thanks in the company chat: others add their own thanks to the same person for
the same reason, from their own allowance, one press each.

Alice (admin, Sales, English), Boris (Marketing, Russian), Carol (Sales, English), Dmitry
(Marketing, Russian); Eve never joined.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.db import Database
from bot.models import Thanks
from bot.services import ledger
from tests.fake_telegram import Person, Telegram
from tests.helpers import ALICE, BORIS, CAROL, DMITRY, EVE, said


@pytest.fixture
async def company(staff: Telegram) -> Telegram:
    return staff


async def thanks_post(tg: Telegram) -> dict[str, Any]:
    """Boris thanks Carol in the group; the bot's post, with its +1 button."""
    group = tg.group()
    await tg.send(BORIS, "/thanks @carol 2 for the demo", chat=group)
    return copy.deepcopy(tg.last_message(group["id"]))  # as posted, before any edit


def toast(calls: list[dict[str, Any]]) -> str:
    (text,) = [c.get("text", "") for c in calls if c["method"] == "answerCallbackQuery"]
    return str(text)


async def given(db: Database) -> list[tuple[int, int, str]]:
    async with db.read() as session:
        rows = await session.execute(
            select(Thanks.giver_id, Thanks.amount, Thanks.reason).order_by(Thanks.id)
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def test_a_thanks_post_in_a_group_carries_a_plus_one_button(company: Telegram) -> None:
    post = await thanks_post(company)

    assert post["text"] == (
        "🙏 Boris → Carol: спасибо, 4 токена (×2 за благодарность другому отделу!) — for the demo"
    )
    ((label, data),) = Telegram.buttons(post)
    assert label == "🙌 +1"
    assert data.startswith("plus:")


async def test_a_plus_one_thanks_the_same_person_for_the_same_reason(
    company: Telegram, db: Database
) -> None:
    post = await thanks_post(company)
    (_, data) = Telegram.buttons(post)[0]

    pressed = await company.press(DMITRY, post, data)

    assert toast(pressed).startswith(
        "🙌 Вы присоединились к благодарности: Carol получает от вас 2 токена."
    )
    assert said(pressed, CAROL.id) == (
        "🙏 Dmitry thanked you: 2 tokens (×2 across departments!) — for the demo"
    )
    edited = company.api.messages[(post["chat"]["id"], post["message_id"])]
    assert edited["text"] == f"{post['text']}\n🙌 +1 от Dmitry"
    assert Telegram.buttons(edited) == Telegram.buttons(post)  # others may still press

    await company.press(ALICE, edited, data)

    edited = company.api.messages[(post["chat"]["id"], post["message_id"])]
    assert edited["text"] == f"{post['text']}\n🙌 +1 от Dmitry, Alice"
    assert [(amount, reason) for _, amount, reason in await given(db)] == [
        (2, "for the demo"),
        (1, "for the demo"),
        (1, "for the demo"),
    ]
    assert (await ledger.verify(db)).clean


@pytest.mark.parametrize(
    ("presser", "answer"),
    [
        (BORIS, "Это ваша же благодарность: +1 ставят другие."),
        (CAROL, "Thanking yourself"),
        (EVE, "You have not joined yet"),
    ],
)
async def test_who_may_not_add_a_plus_one_is_told_and_nothing_changes(
    company: Telegram, db: Database, presser: Person, answer: str
) -> None:
    post = await thanks_post(company)
    (_, data) = Telegram.buttons(post)[0]
    before = await given(db)

    pressed = await company.press(presser, post, data)

    assert toast(pressed).startswith(answer)
    assert await given(db) == before
    assert company.api.messages[(post["chat"]["id"], post["message_id"])]["text"] == post["text"]


async def test_a_second_press_adds_nothing(company: Telegram, db: Database) -> None:
    post = await thanks_post(company)
    (_, data) = Telegram.buttons(post)[0]
    await company.press(DMITRY, post, data)
    before = await given(db)

    again = await company.press(DMITRY, post, data)

    assert toast(again) == "Вы уже поставили здесь +1."
    assert await given(db) == before


async def test_a_plus_one_comes_out_of_the_pressers_allowance(
    company: Telegram, db: Database
) -> None:
    await company.send(ALICE, "/thanks @dmitry 3 for everything")
    await company.send(ALICE, "/thanks @boris 2 for everything")  # Alice's allowance is spent
    post = await thanks_post(company)
    (_, data) = Telegram.buttons(post)[0]
    before = await given(db)

    pressed = await company.press(ALICE, post, data)

    assert toast(pressed) == "You have used up your weekly allowance (5); it renews on Monday."
    assert await given(db) == before


@pytest.mark.parametrize("data", ["plus:abc", "plus:-1001:٣", "plus:-1001:99999", "plus:"])
async def test_forged_plus_one_buttons_change_nothing(
    company: Telegram, db: Database, data: str
) -> None:
    post = await thanks_post(company)
    before = await given(db)

    pressed = await company.press(DMITRY, post, data)

    assert toast(pressed) == "Эта кнопка больше не работает."
    assert await given(db) == before


async def test_a_thanks_in_private_has_no_plus_one(company: Telegram) -> None:
    await company.send(BORIS, "/thanks @carol 1 for the demo")

    assert Telegram.buttons(company.last_message(BORIS.id)) == []
    async with company.app.bot_data["db"].read() as session:
        assert await session.scalar(select(func.count()).select_from(Thanks)) == 1
