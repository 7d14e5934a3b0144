"""/me says what matters: the thanks one may still give, what became of a reservation, and the
department wallet even before any movement of one's own."""

from __future__ import annotations

from typing import Any

from tests.fake_telegram import Person, Telegram
from tests.helpers import ALICE, BORIS, CAROL, said


async def me(tg: Telegram, person: Person) -> str:
    return said(await tg.send(person, "/me"), person.id)


def button_to(tg: Telegram, person: Person, data: str) -> dict[str, Any]:
    """The message sent to `person` that carries a button with callback `data`."""
    return next(m for m in tg.api.sent(person.id) if data in dict(Telegram.buttons(m)).values())


async def test_me_tells_how_much_of_the_weekly_thanks_is_left_in_both_languages(
    company: Telegram,
) -> None:
    assert "You can still give 5 tokens in thanks this week." in await me(company, ALICE)

    await company.send(ALICE, "/thanks @boris 2 for the pitch deck")
    await company.send(BORIS, "/thanks @alice 3 за помощь с презентацией")
    await company.send(BORIS, "/thanks @carol 1 за отзыв клиента")

    assert "You can still give 3 tokens in thanks this week." in await me(company, ALICE)
    assert "На этой неделе вы ещё можете подарить 1 токен." in await me(company, BORIS)


async def test_me_says_when_the_weeks_thanks_are_all_given(company: Telegram) -> None:
    await company.send(BORIS, "/thanks @alice 3 за запуск")
    await company.send(BORIS, "/thanks @carol 2 за запуск")

    assert "Все благодарности этой недели уже подарены; лимит обновится в понедельник." in await me(
        company, BORIS
    )


async def test_a_reservation_reads_as_spent_once_an_admin_approves_it(company: Telegram) -> None:
    await company.send(ALICE, "/grant @carol 50 for the shop")
    await company.send(CAROL, "/redeem coffee")
    assert "🎁 reserved: Coffee break" in await me(company, CAROL)

    await company.press(ALICE, button_to(company, ALICE, "rdm:approve:1"), "rdm:approve:1")

    text = await me(company, CAROL)
    assert "🎁 spent: Coffee break" in text and "reserved" not in text


async def test_a_rejected_reservation_reads_as_returned_beside_its_refund(
    company: Telegram,
) -> None:
    await company.send(ALICE, "/grant @boris 50 for the shop")
    await company.send(BORIS, "/redeem coffee")

    await company.press(ALICE, button_to(company, ALICE, "rdm:reject:1"), "rdm:reject:1")

    text = await me(company, BORIS)
    assert "🎁 было в резерве, вернулось:" in text
    assert "↩️ возврат:" in text and "🎁 в резерве:" not in text


async def test_someone_whose_department_holds_tokens_is_not_told_there_are_none(
    company: Telegram,
) -> None:
    await company.send(ALICE, "/grant sales 300 for the launch")

    text = await me(company, CAROL)

    assert "Sales wallet: 300 tokens" in text
    assert "No tokens yet" not in text
    assert "No movements of your own yet" in text
