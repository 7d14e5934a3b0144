"""Admins grant tokens with /grant: to a person, to a department, or by replying in a group."""

from __future__ import annotations

import pytest

from bot.db import Database
from bot.services import ledger
from tests.fake_telegram import Person, Telegram
from tests.helpers import (
    ALICE,
    BORIS,
    CAROL,
    DMITRY,
    command_update,
    join,
    ledger_books,
    post,
    said,
)

# `company`: Alice (the admin) and Carol in Sales, Boris in Marketing; Dmitry never joins.
JOINED = (ALICE, BORIS, CAROL)


async def books(db: Database) -> tuple[int, list[tuple[int, int]]]:
    """How many transfers there are, and each joined person's own and department balance."""
    return await ledger_books(db, JOINED)


async def test_granting_a_person_pays_them_and_tells_them_in_their_own_language(
    company: Telegram, db: Database
) -> None:
    answer = await company.send(ALICE, "/grant @boris 50 great launch")

    assert "Granted 50 tokens to Boris: great launch" in said(answer, ALICE.id)
    assert said(answer, BORIS.id) == "Вам начислено 50 токенов: great launch"
    me = said(await company.send(BORIS, "/me"))
    assert "Ваш баланс: <b>50 токенов</b>" in me
    assert "+50" in me and "great launch" in me
    assert (await ledger.verify(db)).clean


async def test_an_english_speaker_is_told_about_a_grant_in_english(company: Telegram) -> None:
    answer = await company.send(ALICE, "/grant @Carol 1 first deal")

    assert said(answer, CAROL.id) == "You received 1 token: first deal"
    assert "Your balance: <b>1 token</b>" in said(await company.send(CAROL, "/me"))


async def test_granting_a_department_fills_its_wallet_and_not_a_persons_balance(
    company: Telegram,
) -> None:
    answer = await company.send(ALICE, "/grant marketing 100 joint launch")

    assert "Granted 100 tokens to Marketing: joint launch" in said(answer, ALICE.id)
    assert said(answer, BORIS.id) == ""  # a department grant sends no personal notice
    marketer = said(await company.send(BORIS, "/me"))
    assert "Кошелёк отдела «Маркетинг»: 100 токенов" in marketer
    assert "Ваш баланс: <b>0 токенов</b>" in marketer
    assert "Sales wallet: 0 tokens" in said(await company.send(CAROL, "/me"))


async def test_a_grant_replying_to_a_persons_message_in_a_group_pays_that_person(
    company: Telegram,
) -> None:
    group = company.group()
    message = await post(company, BORIS, "Закрыл сделку вместе с маркетингом!", group)

    answer = await company.send(
        ALICE, "/grant 5 closed a deal together", chat=group, reply_to=message
    )

    assert "Начислено 5 токенов — Boris" in said(answer, group["id"])  # the company's language
    assert "Вам начислено 5 токенов" in said(answer, BORIS.id)
    assert "Ваш баланс: <b>5 токенов</b>" in said(await company.send(BORIS, "/me"))


async def test_a_target_written_in_a_reply_wins_over_the_person_replied_to(
    company: Telegram,
) -> None:
    group = company.group()
    message = await post(company, DMITRY, "Hello all", group)

    to_person = await company.send(ALICE, "/grant @carol 3 helped", chat=group, reply_to=message)
    to_department = await company.send(ALICE, "/grant sales 7 helped", chat=group, reply_to=message)

    assert "Начислено 3 токена — Carol" in said(to_person, group["id"])
    assert "Начислено 7 токенов — Продажи" in said(to_department, group["id"])
    carol = said(await company.send(CAROL, "/me"))
    assert "Your balance: <b>3 tokens</b>" in carol
    assert "Sales wallet: 7 tokens" in carol


async def test_the_same_update_delivered_twice_grants_once(company: Telegram, db: Database) -> None:
    update = command_update(company, ALICE, "/grant @boris 50 great launch", 9001)

    await company.app.process_update(update)
    await company.app.process_update(update)

    notices = [m for m in company.api.sent(BORIS.id) if "Вам начислено" in m["text"]]
    assert len(notices) == 1
    transfers, balances = await books(db)
    assert transfers == 1
    assert balances[1] == (50, 0)


async def test_editing_a_grant_already_made_neither_grants_again_nor_claims_the_new_amount(
    company: Telegram, db: Database
) -> None:
    await company.app.process_update(
        command_update(company, ALICE, "/grant @boris 50 launch", 9002)
    )

    await company.app.process_update(
        command_update(company, ALICE, "/grant @boris 500 launch", 9002, edited=True)
    )

    reply = company.last_message(ALICE.id)["text"]
    assert "already been carried out" in reply and "500" not in reply
    assert (await books(db))[1][1] == (50, 0)


async def test_editing_a_failed_grant_to_fix_it_makes_the_grant(
    company: Telegram, db: Database
) -> None:
    await company.app.process_update(command_update(company, ALICE, "/grant @bors 50 launch", 9003))
    assert "I don't know @bors" in company.last_message(ALICE.id)["text"]

    await company.app.process_update(
        command_update(company, ALICE, "/grant @boris 50 launch", 9003, edited=True)
    )

    assert "Granted 50 tokens to Boris" in company.last_message(ALICE.id)["text"]
    assert (await books(db))[1][1] == (50, 0)


LONG_REASON = "x" * 201


@pytest.mark.parametrize(
    ("sender", "command", "answer"),
    [
        (BORIS, "/grant @carol 5 thanks", "это доступно только админам"),
        (DMITRY, "/grant @boris 5 thanks", "Вы ещё не в игре: нажмите /start"),
        (ALICE, "/grant", "Usage: /grant @username 50 reason"),
        (ALICE, "/grant @boris", "Usage: /grant @username 50 reason"),
        (ALICE, "/grant @boris thanks a lot", "“thanks” is not an amount"),
        (ALICE, "/grant @boris 0 thanks", "“0” is not an amount"),
        (ALICE, "/grant @boris -5 thanks", "“-5” is not an amount"),
        (ALICE, "/grant @boris 2.5 thanks", "“2.5” is not an amount"),
        (ALICE, "/grant @boris ten thanks", "“ten” is not an amount"),
        (ALICE, "/grant @boris 10001 thanks", "too many tokens at once: the most is 10000"),
        (ALICE, "/grant @boris 99999999999999999999 thanks", "the most is 10000"),
        (ALICE, "/grant @nobody 5 thanks", "I don't know @nobody yet"),
        (ALICE, "/grant @dmitry 5 thanks", "I don't know @dmitry yet"),
        (
            ALICE,
            "/grant finance 5 thanks",
            "“finance” is neither a @username I know nor a department",
        ),
        (ALICE, "/grant @boris 5", "Please add a reason"),
        (ALICE, f"/grant @boris 5 {LONG_REASON}", "The reason is too long: at most 200 characters"),
    ],
)
async def test_bad_grants_are_answered_clearly_and_change_nothing(
    company: Telegram, db: Database, sender: Person, command: str, answer: str
) -> None:
    before = await books(db)

    calls = await company.send(sender, command)

    assert answer in said(calls, sender.id)
    assert "Granted" not in said(calls) and "Начислено" not in said(calls)
    assert [call["chat_id"] for call in calls] == [sender.id]  # nobody else is told anything
    assert await books(db) == before


@pytest.mark.parametrize("settings_overrides", [{"grant_max": 100}])
async def test_a_configured_maximum_caps_a_single_grant(company: Telegram, db: Database) -> None:
    before = await books(db)

    refused = await company.send(ALICE, "/grant @boris 101 launch")

    assert "the most is 100" in said(refused)
    assert await books(db) == before
    allowed = await company.send(ALICE, "/grant @boris 100 launch")
    assert "Granted 100 tokens to Boris" in said(allowed)


async def test_a_reason_of_exactly_two_hundred_characters_is_accepted(company: Telegram) -> None:
    reason = "y" * 200

    answer = await company.send(ALICE, f"/grant @boris 5 {reason}")

    assert f"Granted 5 tokens to Boris: {reason}" in said(answer, ALICE.id)


async def test_replying_to_the_bots_own_message_grants_nothing(
    company: Telegram, db: Database
) -> None:
    group = company.group()
    await company.send(ALICE, "/me", chat=group)  # the bot answers in the group
    bot_message = company.last_message(group["id"])
    before = await books(db)

    answer = await company.send(ALICE, "/grant 5 thanks", chat=group, reply_to=bot_message)

    assert "Токены — для людей" in said(answer, group["id"])
    assert await books(db) == before


async def test_replying_to_someone_who_never_joined_grants_nothing(
    company: Telegram, db: Database
) -> None:
    group = company.group()
    message = await post(company, DMITRY, "Всем привет", group)
    before = await books(db)

    answer = await company.send(ALICE, "/grant 5 thanks", chat=group, reply_to=message)

    assert "Я пока не знаю Dmitry" in said(answer, group["id"])  # the group's language
    assert await books(db) == before


async def test_an_at_username_that_changed_hands_pays_its_new_owner(
    company: Telegram, db: Database
) -> None:
    """Carol gives up @carol and Dmitry takes it, before Carol writes to the bot again."""
    renamed_carol = Person(CAROL.id, CAROL.first_name, "carol_old", CAROL.language_code)
    new_owner = Person(DMITRY.id, DMITRY.first_name, "carol", DMITRY.language_code)
    await join(company, new_owner, "marketing")

    await company.send(ALICE, "/grant @carol 7 for the new handle")

    me = said(await company.send(new_owner, "/me"), DMITRY.id)
    assert "+7" in me and "for the new handle" in me
    assert "for the new handle" not in said(await company.send(renamed_carol, "/me"), CAROL.id)


# -- choosing the person from a list: nobody without a @username is beyond reach -------------

OLGA = Person(3001, "Ольга", None, "ru")  # Marketing, no @username


async def grant_list(tg: Telegram, admin: Person, command: str) -> dict:
    """`admin` sends `command` in private; returns the bot's list of people to choose from."""
    await tg.send(admin, command)
    return tg.last_message(admin.id)


def button_for(tg: Telegram, message: dict, name: str) -> str:
    """The callback data of the button naming `name`."""
    return next(data for text, data in tg.buttons(message) if text.startswith(name))


async def test_an_admin_chooses_someone_without_a_username_from_a_list_and_grants_once(
    company: Telegram, db: Database
) -> None:
    await join(company, OLGA, "marketing")
    listing = await grant_list(company, ALICE, "/grant 50 for the launch")

    assert listing["text"] == "Who gets 50 tokens (for the launch)? Choose a person:"
    labels = [text for text, _ in company.buttons(listing)]
    assert labels == [
        "Alice (@alice) · Sales",
        "Boris (@boris) · Marketing",
        "Carol (@carol) · Sales",
        "Ольга · Marketing",
    ]
    boris = button_for(company, listing, "Boris")
    answer = await company.press(ALICE, listing, button_for(company, listing, "Ольга"))

    assert "Granted 50 tokens to Ольга: for the launch" in said(answer, ALICE.id)
    assert company.buttons(listing) == []  # the list became the answer
    assert said(answer, OLGA.id) == "Вам начислено 50 токенов: for the launch"
    again = await company.press(ALICE, listing, boris)  # a button kept from the old list
    assert "This list has expired: send the command again" in said(again)
    assert "Ваш баланс: <b>50 токенов</b>" in said(await company.send(OLGA, "/me"))
    assert "Ваш баланс: <b>0 токенов</b>" in said(await company.send(BORIS, "/me"))
    assert (await ledger.verify(db)).transfers == 1


async def test_a_russian_speaking_admin_gets_the_list_in_russian(company: Telegram) -> None:
    await company.send(ALICE, "/roles @boris admin")

    listing = await grant_list(company, BORIS, "/grant 5 за помощь")

    assert listing["text"] == "Кому начислить 5 токенов (за помощь)? Выберите человека:"
    assert "Carol (@carol) · Продажи" in [text for text, _ in company.buttons(listing)]
    answer = await company.press(BORIS, listing, button_for(company, listing, "Carol"))
    assert "Начислено 5 токенов — Carol: за помощь" in said(answer, BORIS.id)


async def test_a_grant_replying_in_the_company_chat_reaches_someone_without_a_username(
    company: Telegram,
) -> None:
    await join(company, OLGA, "marketing")
    group = company.group()
    message = await post(company, OLGA, "Запустили лендинг!", group)

    answer = await company.send(ALICE, "/grant 7 for the landing", chat=group, reply_to=message)

    assert "Начислено 7 токенов — Ольга: for the landing" in said(answer, group["id"])
    assert said(answer, OLGA.id) == "Вам начислено 7 токенов: for the landing"


async def test_a_grant_without_a_person_in_the_company_chat_answers_usage(
    company: Telegram, db: Database
) -> None:
    before = await books(db)

    answer = await company.send(ALICE, "/grant 5 thanks", chat=company.group())

    assert "Как пользоваться: /grant @username 50 причина" in said(answer)
    assert company.buttons(company.last_message(company.group()["id"])) == []
    assert await books(db) == before


async def test_a_long_list_of_people_is_paged(company: Telegram, db: Database) -> None:
    newcomers = [Person(4000 + n, f"Worker {n:02}", None, "en") for n in range(1, 11)]
    for person in newcomers:
        await join(company, person, "sales")
    listing = await grant_list(company, ALICE, "/grant 3 for the help")
    first = company.buttons(listing)

    assert len(first) == 9 and first[-1][0] == "More ›"  # 8 of 13 people, then the next page
    await company.press(ALICE, listing, first[-1][1])
    second = company.buttons(listing)
    assert [text for text, _ in second] == [
        "Worker 06 · Sales",
        "Worker 07 · Sales",
        "Worker 08 · Sales",
        "Worker 09 · Sales",
        "Worker 10 · Sales",
        "‹ Back",
    ]
    answer = await company.press(ALICE, listing, button_for(company, listing, "Worker 10"))
    assert "Granted 3 tokens to Worker 10" in said(answer, ALICE.id)
    assert (await ledger.verify(db)).transfers == 1


@pytest.mark.parametrize(
    ("presser", "data", "answer"),
    [
        (BORIS, "grantto:2001.{command}:1001", "Эта кнопка не для вас"),
        (CAROL, "grantto:2001.{command}:2002", "only admins can do that"),
        (ALICE, "grantto:٢٠٠١.{command}:1001", "This button no longer works"),
        (ALICE, "grantto:２００１.{command}:1001", "This button no longer works"),
        (ALICE, "grantto:999999.{command}:1001", "This button no longer works"),
        (ALICE, "grantto:2001.9999:1001", "This list has expired"),
        (ALICE, "grantto:2001:1001", "This button no longer works"),
        (ALICE, "grantto:2001.{command}:١٠٠١", "This button no longer works"),
    ],
)
async def test_a_forged_or_foreign_list_button_grants_nothing(
    company: Telegram, db: Database, presser: Person, data: str, answer: str
) -> None:
    listing = await grant_list(company, ALICE, "/grant 50 launch")
    command = listing["message_id"] - 1  # the bot's list answers Alice's /grant just before it
    before = await books(db)

    calls = await company.press(presser, listing, data.format(command=command))

    assert answer in said(calls)
    assert [call["method"] for call in calls] == ["answerCallbackQuery"]
    assert await books(db) == before


async def test_an_admin_demoted_after_the_list_was_sent_cannot_use_it(
    company: Telegram, db: Database
) -> None:
    await company.send(ALICE, "/roles @carol admin")
    listing = await grant_list(company, CAROL, "/grant 50 launch")
    await company.send(ALICE, "/roles @carol employee")
    before = await books(db)

    calls = await company.press(CAROL, listing, button_for(company, listing, "Boris"))

    assert "only admins can do that" in said(calls)
    assert await books(db) == before
