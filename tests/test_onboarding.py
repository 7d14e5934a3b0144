"""Joining the game, /help, /lang and the command menu, as people see them in Telegram."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.db import Database
from bot.models import Employee
from bot.services import directory
from tests.fake_telegram import BOT_USERNAME, FakeBotApi, Person, Telegram
from tests.helpers import ALICE, BORIS, CAROL, menu, said


async def join(tg: Telegram, person: Person, department: str = "marketing") -> None:
    """`person` sends /start and presses the button of `department`, which must be there."""
    await tg.send(person, "/start")
    greeting = tg.last_message(person.id)
    (data,) = [d for _, d in tg.buttons(greeting) if d.startswith(f"dept:{department}:")]
    await tg.press(person, greeting, data)


async def employees(db: Database) -> int:
    async with db.transaction() as session:
        return await session.scalar(select(func.count(Employee.id))) or 0


@pytest.mark.parametrize(
    ("language_code", "greeting", "labels"),
    [
        ("ru", "Привет, Dana!", ["Маркетинг", "Продажи"]),
        ("en", "Hi, Dana!", ["Marketing", "Sales"]),
        ("en-GB", "Hi, Dana!", ["Marketing", "Sales"]),
        ("de", "Hi, Dana!", ["Marketing", "Sales"]),
        (None, "Привет, Dana!", ["Маркетинг", "Продажи"]),  # no language: the company default
    ],
)
async def test_start_greets_a_newcomer_in_their_client_language_and_asks_their_department(
    tg: Telegram, language_code: str | None, greeting: str, labels: list[str]
) -> None:
    dana = Person(3001, "Dana", "dana", language_code)

    answer = await tg.send(dana, "/start")

    assert greeting in said(answer)
    assert [label for label, _ in tg.buttons(tg.last_message(dana.id))] == labels


async def test_pressing_a_department_joins_it_and_the_confirmation_names_it(
    tg: Telegram, db: Database
) -> None:
    await tg.send(BORIS, "/start")
    greeting = tg.last_message(BORIS.id)
    (sales,) = [data for label, data in tg.buttons(greeting) if label == "Продажи"]

    answer = await tg.press(BORIS, greeting, sales)

    assert "Добро пожаловать в игру, Boris" in said(answer)
    assert "Продажи" in said(answer)
    assert tg.buttons(greeting) == []
    assert await employees(db) == 1
    me = said(await tg.send(BORIS, "/me"))
    assert "Продажи" in me and "сотрудник" in me


async def test_an_admin_from_the_configuration_is_told_they_are_an_admin_when_joining(
    tg: Telegram,
) -> None:
    await tg.send(ALICE, "/start")
    greeting = tg.last_message(ALICE.id)

    answer = await tg.press(ALICE, greeting, f"dept:sales:{ALICE.id}")

    assert "you are an admin" in said(answer)
    assert "admin" in said(await tg.send(ALICE, "/me"))


async def test_a_second_start_welcomes_back_and_does_not_add_the_employee_again(
    tg: Telegram, db: Database
) -> None:
    await join(tg, BORIS, "marketing")

    answer = await tg.send(BORIS, "/start")

    assert "С возвращением, Boris" in said(answer)
    assert "Маркетинг" in said(answer)
    assert tg.buttons(tg.last_message(BORIS.id)) == []
    assert await employees(db) == 1


async def test_pressing_a_department_button_again_keeps_the_first_choice(
    tg: Telegram, db: Database
) -> None:
    await tg.send(BORIS, "/start")
    greeting = tg.last_message(BORIS.id)
    await tg.press(BORIS, greeting, f"dept:marketing:{BORIS.id}")

    again = await tg.press(BORIS, greeting, f"dept:marketing:{BORIS.id}")
    other = await tg.press(BORIS, greeting, f"dept:sales:{BORIS.id}")

    assert "Вы уже в отделе «Маркетинг»" in said(again)
    assert "Вы уже в отделе «Маркетинг»" in said(other)
    assert await employees(db) == 1
    assert "Маркетинг" in said(await tg.send(BORIS, "/me"))


async def test_a_forged_department_button_gets_no_department_and_creates_nobody(
    tg: Telegram, db: Database
) -> None:
    await tg.send(CAROL, "/start")
    greeting = tg.last_message(CAROL.id)

    answer = await tg.press(CAROL, greeting, f"dept:nonexistent:{CAROL.id}")

    assert "There is no department “nonexistent”" in said(answer)
    assert await employees(db) == 0
    assert len(tg.buttons(greeting)) == 2  # the real buttons are still there to press


async def test_a_department_button_pressed_by_someone_else_is_not_for_them(
    tg: Telegram, db: Database
) -> None:
    await tg.send(BORIS, "/start")
    greeting = tg.last_message(BORIS.id)

    answer = await tg.press(CAROL, greeting, f"dept:marketing:{BORIS.id}")

    assert "This button is not for you" in said(answer)
    assert await employees(db) == 0
    await tg.press(BORIS, greeting, f"dept:marketing:{BORIS.id}")
    assert await employees(db) == 1


@pytest.mark.parametrize("data", ["zzz", "dept:marketing", f"dept:marketing:{CAROL.id}:x", "lang:"])
async def test_a_button_the_bot_never_sends_gets_an_answer_and_changes_nothing(
    tg: Telegram, db: Database, data: str
) -> None:
    await tg.send(CAROL, "/start")
    greeting = tg.last_message(CAROL.id)

    answer = await tg.press(CAROL, greeting, data)

    assert [call["method"] for call in answer] == ["answerCallbackQuery"]
    assert "This button no longer works" in said(answer)
    assert await employees(db) == 0


# In a group the bot speaks the company's language (DEFAULT_LANGUAGE: Russian), whoever asks.
IN_RUSSIAN = ("Давайте обсудим это в личном чате", "Открыть личный чат")


@pytest.mark.parametrize(
    ("sender", "command", "expected"),
    [
        (CAROL, "/start", IN_RUSSIAN),
        (BORIS, "/me", IN_RUSSIAN),
        (CAROL, "/shop", IN_RUSSIAN),
        (ALICE, "/roles @boris admin", IN_RUSSIAN),
        (ALICE, "/roles", IN_RUSSIAN),
    ],
)
async def test_private_commands_in_a_group_point_to_the_private_chat_and_change_nothing(
    tg: Telegram, db: Database, sender: Person, command: str, expected: tuple[str, str]
) -> None:
    await join(tg, ALICE, "sales")
    await join(tg, BORIS, "marketing")
    group = tg.group()
    before = [await directory.find(db, p.id) for p in (ALICE, BORIS, CAROL)]

    answer = await tg.send(sender, command, chat=group)

    assert [call["chat_id"] for call in answer] == [group["id"]]
    text, button = expected
    assert text in said(answer)
    buttons = tg.buttons(tg.last_message(group["id"]))
    assert buttons == [(button, f"https://t.me/{BOT_USERNAME}?start=go")]
    assert [await directory.find(db, p.id) for p in (ALICE, BORIS, CAROL)] == before
    assert await employees(db) == 2


async def test_help_lists_the_employee_commands_for_an_employee(tg: Telegram) -> None:
    await join(tg, BORIS)

    text = said(await tg.send(BORIS, "/help"))

    assert "Что я умею" in text
    for command in ("/start", "/help", "/me", "/lang"):
        assert command in text
    assert "/grant" not in text and "/roles" not in text


async def test_help_adds_the_admin_commands_for_an_admin(tg: Telegram) -> None:
    await join(tg, ALICE, "sales")

    text = said(await tg.send(ALICE, "/help"))

    assert "What I can do" in text and "Admins" in text
    for command in ("/me", "/lang", "/grant", "/roles"):
        assert command in text


async def test_help_in_a_group_shows_an_admin_only_what_everyone_may_do(tg: Telegram) -> None:
    await join(tg, ALICE, "sales")

    text = said(await tg.send(ALICE, "/help", chat=tg.group(-1001)))

    assert "/thanks" in text and "/me" in text
    assert "Admins" not in text and "/grant" not in text and "/roles" not in text


async def test_lang_en_switches_the_conversation_to_english(tg: Telegram) -> None:
    await join(tg, BORIS)

    answer = await tg.send(BORIS, "/lang en")

    assert "I will speak English with you" in said(answer)
    me = said(await tg.send(BORIS, "/me"))
    assert "Your balance" in me and "Marketing" in me


async def test_the_language_buttons_switch_the_language_both_ways(tg: Telegram) -> None:
    await join(tg, BORIS)
    await tg.send(BORIS, "/lang")
    choice = tg.last_message(BORIS.id)
    assert tg.buttons(choice) == [
        ("Русский", f"lang:ru:{BORIS.id}"),
        ("English", f"lang:en:{BORIS.id}"),
    ]

    await tg.press(BORIS, choice, f"lang:en:{BORIS.id}")
    assert "Your balance" in said(await tg.send(BORIS, "/me"))

    await tg.press(BORIS, choice, f"lang:ru:{BORIS.id}")
    assert "Ваш баланс" in said(await tg.send(BORIS, "/me"))


async def test_someone_else_cannot_press_my_language_button(tg: Telegram) -> None:
    await join(tg, BORIS)
    await join(tg, CAROL)
    await tg.send(BORIS, "/lang")
    choice = tg.last_message(BORIS.id)

    answer = await tg.press(CAROL, choice, f"lang:en:{BORIS.id}")

    assert "This button is not for you" in said(answer)
    assert "Ваш баланс" in said(await tg.send(BORIS, "/me"))


@pytest.mark.parametrize("command", ["/lang de", "/lang en ru", "/lang english"])
async def test_lang_with_an_unknown_language_answers_usage_and_keeps_the_language(
    tg: Telegram, command: str
) -> None:
    await join(tg, BORIS)

    answer = await tg.send(BORIS, command)

    assert "Как пользоваться: /lang ru или /lang en" in said(answer)
    assert "Ваш баланс" in said(await tg.send(BORIS, "/me"))


@pytest.mark.parametrize("command", ["/me", "/lang en", "/lang"])
async def test_a_newcomer_asking_for_their_tokens_or_language_is_asked_to_start_first(
    tg: Telegram, db: Database, command: str
) -> None:
    answer = await tg.send(CAROL, command)

    assert "You have not joined yet" in said(answer)
    assert await employees(db) == 0


async def test_start_up_sets_menus_for_russian_and_english_clients_without_admin_commands(
    tg: Telegram, api: FakeBotApi
) -> None:
    russian, english = menu(api, language="ru"), menu(api, language="en")

    assert list(russian) == list(english)
    assert {"start", "help", "me", "lang"} <= set(russian)
    assert not {"grant", "roles"} & set(russian)
    assert russian["start"] == "Вступить в игру"
    assert english["start"] == "Join the game"
    assert menu(api) == russian  # other client languages get the company default (ru)


async def test_an_admin_who_joins_gets_a_menu_with_grant_and_roles_in_their_language(
    tg: Telegram, api: FakeBotApi
) -> None:
    await join(tg, ALICE, "sales")

    own = menu(api, chat_id=ALICE.id)

    assert {"grant", "roles", "me"} <= set(own)
    assert own["grant"] == "Grant tokens"


@pytest.mark.parametrize("settings_overrides", [{"admin_ids": [ALICE.id, BORIS.id]}])
async def test_a_russian_speaking_admin_gets_the_admin_menu_in_russian(
    tg: Telegram, api: FakeBotApi
) -> None:
    await join(tg, BORIS)

    own = menu(api, chat_id=BORIS.id)

    assert own["grant"] == "Начислить токены"
    assert own["roles"] == "Лиды и админы"


async def test_an_employee_gets_a_menu_without_admin_commands_that_follows_their_language(
    tg: Telegram, api: FakeBotApi
) -> None:
    await join(tg, BORIS)
    assert menu(api, chat_id=BORIS.id) == menu(api, language="ru")

    await tg.send(BORIS, "/lang en")

    assert menu(api, chat_id=BORIS.id) == menu(api, language="en")


# -- the company chat's language ----------------------------------------------------------------


async def test_an_admin_sets_the_company_chats_language_with_lang_in_the_group(
    company: Telegram,
) -> None:
    group = company.group()
    before = said(await company.send(CAROL, "/top", chat=group), group["id"])
    assert before.startswith("🏆 Рейтинг")  # DEFAULT_LANGUAGE: Russian

    switched = await company.send(ALICE, "/lang en", chat=group)

    assert said(switched, group["id"]) == (
        "Done: in this chat I will speak English. Private chats keep each person's language."
    )
    assert said(await company.send(BORIS, "/top", chat=group), group["id"]).startswith(
        "🏆 Leaderboard"
    )
    assert "Ваш баланс" in said(await company.send(BORIS, "/me"), BORIS.id)  # his own language


@pytest.mark.parametrize(
    ("sender", "command", "answer"),
    [
        (CAROL, "/lang en", "Простите, это доступно только админам."),
        (
            ALICE,
            "/lang de",
            "/lang ru или /lang en (для админов: язык, на котором я пишу в этом чате)",
        ),
        (
            ALICE,
            "/lang",
            "/lang ru или /lang en (для админов: язык, на котором я пишу в этом чате)",
        ),
    ],
)
async def test_a_wrong_lang_in_the_group_is_answered_and_changes_nothing(
    company: Telegram, sender: Person, command: str, answer: str
) -> None:
    group = company.group()

    reply_ = await company.send(sender, command, chat=group)

    assert answer in said(reply_, group["id"])
    assert said(await company.send(CAROL, "/top", chat=group), group["id"]).startswith("🏆 Рейтинг")
