"""Admins name leads and admins with /roles; the last admin cannot step down."""

from __future__ import annotations

import pytest

from tests.fake_telegram import FakeBotApi, Person, Telegram
from tests.helpers import ALICE, BORIS, CAROL, join, menu, post, said

# `company`: Alice (the admin, English), Boris (an employee, Russian), Carol (an employee, English).


def own_menu(api: FakeBotApi, person: Person) -> dict[str, str]:
    """The command menu Telegram shows in one person's private chat."""
    return menu(api, chat_id=person.id)


async def test_an_admin_makes_someone_a_lead_then_an_admin_then_an_employee_again(
    company: Telegram, api: FakeBotApi
) -> None:
    answer = await company.send(ALICE, "/roles @boris lead")
    assert "Boris (@boris) now has the lead role" in said(answer, ALICE.id)
    assert "Теперь вы лид в Truce" in said(answer, BORIS.id)
    assert "лид" in said(await company.send(BORIS, "/me"))
    assert "grant" not in own_menu(api, BORIS)

    answer = await company.send(ALICE, "/roles @boris admin")
    assert "Boris (@boris) now has the admin role" in said(answer, ALICE.id)
    assert "Теперь вы админ в Truce" in said(answer, BORIS.id)
    menu = own_menu(api, BORIS)
    assert menu["grant"] == "Начислить токены" and menu["roles"] == "Лиды и админы"
    assert "Начислено 5 токенов" in said(await company.send(BORIS, "/grant @carol 5 спасибо"))

    answer = await company.send(ALICE, "/roles @boris employee")
    assert "Boris (@boris) now has the employee role" in said(answer, ALICE.id)
    assert "Теперь вы сотрудник в Truce" in said(answer, BORIS.id)
    assert "grant" not in own_menu(api, BORIS) and "roles" not in own_menu(api, BORIS)
    refused = said(await company.send(BORIS, "/grant @carol 5 спасибо"))
    assert "это доступно только админам" in refused


async def test_roles_without_arguments_lists_the_leads_and_admins(company: Telegram) -> None:
    await company.send(ALICE, "/roles @carol lead")

    text = said(await company.send(ALICE, "/roles"))

    assert "Leads and admins:" in text
    assert "Alice (@alice) — admin" in text
    assert "Carol (@carol) — lead" in text
    assert "Boris" not in text
    assert "/roles @username lead" in text


@pytest.mark.parametrize("command", ["/roles", "/roles @boris admin"])
async def test_a_non_admin_is_refused_roles(company: Telegram, command: str) -> None:
    await company.send(ALICE, "/roles @carol lead")

    answer = await company.send(CAROL, command)

    assert "only admins can do that" in said(answer)
    assert said(answer, BORIS.id) == ""
    assert "сотрудник" in said(await company.send(BORIS, "/me"))


async def test_an_unknown_role_is_named_and_nothing_changes(company: Telegram) -> None:
    answer = await company.send(ALICE, "/roles @boris boss")

    assert "There is no role “boss”: use employee, lead or admin" in said(answer)
    assert said(answer, BORIS.id) == ""
    assert "сотрудник" in said(await company.send(BORIS, "/me"))


@pytest.mark.parametrize("handle", ["@nobody", "@dmitry"])
async def test_a_person_the_bot_does_not_know_is_named_and_nothing_changes(
    company: Telegram, handle: str
) -> None:
    answer = await company.send(ALICE, f"/roles {handle} lead")

    assert f"I don't know {handle} yet" in said(answer)
    assert "Leads and admins:\nAlice (@alice) — admin\n" in said(
        await company.send(ALICE, "/roles")
    )


@pytest.mark.parametrize("command", ["/roles @boris", "/roles boris lead", "/roles @boris lead x"])
async def test_roles_written_the_wrong_way_answers_usage(company: Telegram, command: str) -> None:
    answer = await company.send(ALICE, command)

    assert "Usage: /roles @username lead (or admin, employee)" in said(answer)
    assert "сотрудник" in said(await company.send(BORIS, "/me"))


async def test_giving_someone_the_role_they_have_says_so_and_does_not_notify_them(
    company: Telegram,
) -> None:
    answer = await company.send(ALICE, "/roles @boris employee")

    assert "Boris (@boris) already has the employee role" in said(answer, ALICE.id)
    assert said(answer, BORIS.id) == ""


async def test_the_only_admin_cannot_step_down(company: Telegram, api: FakeBotApi) -> None:
    answer = await company.send(ALICE, "/roles @alice employee")

    assert "You are the last admin: make someone else an admin first" in said(answer)
    assert "admin" in said(await company.send(ALICE, "/me"))
    assert "grant" in own_menu(api, ALICE)
    assert "Granted 5 tokens" in said(await company.send(ALICE, "/grant @boris 5 still admin"))


async def test_with_two_admins_one_may_step_down_and_the_other_then_cannot(
    company: Telegram, api: FakeBotApi
) -> None:
    await company.send(ALICE, "/roles @carol admin")

    answer = await company.send(ALICE, "/roles @alice employee")

    assert [call["text"] for call in answer] == ["Alice (@alice) now has the employee role."]
    assert "grant" not in own_menu(api, ALICE)
    refused = said(await company.send(ALICE, "/grant @boris 5 thanks"))
    assert "only admins can do that" in refused
    last = said(await company.send(CAROL, "/roles @carol employee"))
    assert "You are the last admin" in last
    assert "Carol (@carol) — admin" in said(await company.send(CAROL, "/roles"))


# -- by reply and from a list: nobody without a @username is beyond reach --------------------

OLGA = Person(3001, "Ольга", None, "ru")  # Marketing, no @username


def button_for(tg: Telegram, message: dict, name: str) -> str:
    """The callback data of the button whose text starts with `name`."""
    return next(data for text, data in tg.buttons(message) if text.startswith(name))


async def test_an_admin_replies_in_the_company_chat_to_make_someone_without_a_username_a_lead(
    company: Telegram, api: FakeBotApi
) -> None:
    await join(company, OLGA, "marketing")
    group = company.group()
    message = await post(company, OLGA, "Могу вести квесты", group)

    answer = await company.send(ALICE, "/roles lead", chat=group, reply_to=message)

    assert "Ольга теперь лид." in said(answer, group["id"])  # the company chat's language
    assert "Теперь вы лид в Truce" in said(answer, OLGA.id)
    assert "kpi" in own_menu(api, OLGA)


async def test_an_admin_chooses_the_person_from_a_list_for_the_role_named(
    company: Telegram,
) -> None:
    await join(company, OLGA, "marketing")
    await company.send(ALICE, "/roles lead")
    listing = company.last_message(ALICE.id)

    assert listing["text"] == "Who should get the lead role? Choose a person:"
    assert "Ольга · Marketing" in [text for text, _ in company.buttons(listing)]
    answer = await company.press(ALICE, listing, button_for(company, listing, "Ольга"))

    assert "Ольга now has the lead role." in said(answer, ALICE.id)
    assert company.buttons(listing) == []
    assert "Теперь вы лид в Truce" in said(answer, OLGA.id)
    assert "лид" in said(await company.send(OLGA, "/me"))


async def test_roles_lists_the_staff_then_asks_for_the_new_role_of_the_person_chosen(
    company: Telegram,
) -> None:
    await join(company, OLGA, "marketing")
    await company.send(ALICE, "/roles")
    listing = company.last_message(ALICE.id)
    assert "Or choose the person whose role to change:" in listing["text"]

    await company.press(ALICE, listing, button_for(company, listing, "Ольга"))

    assert listing["text"] == "Ольга has the employee role. Choose the new one:"
    assert [text for text, _ in company.buttons(listing)] == ["Employee ✓", "Lead", "Admin"]
    answer = await company.press(ALICE, listing, button_for(company, listing, "Admin"))
    assert "Ольга now has the admin role." in said(answer, ALICE.id)
    assert "Теперь вы админ в Truce" in said(answer, OLGA.id)


async def test_a_russian_speaking_admin_chooses_a_role_in_russian(company: Telegram) -> None:
    await company.send(ALICE, "/roles @boris admin")
    await company.send(BORIS, "/roles")
    listing = company.last_message(BORIS.id)
    assert "Или выберите человека, чью роль нужно изменить:" in listing["text"]

    await company.press(BORIS, listing, button_for(company, listing, "Carol"))

    assert listing["text"] == "Carol (@carol): сейчас роль «сотрудник». Выберите новую:"
    assert [text for text, _ in company.buttons(listing)] == ["Сотрудник ✓", "Лид", "Админ"]
    answer = await company.press(BORIS, listing, button_for(company, listing, "Лид"))
    assert "Carol (@carol) теперь лид." in said(answer, BORIS.id)


async def test_a_long_list_of_people_for_roles_is_paged(company: Telegram) -> None:
    for n in range(1, 11):
        await join(company, Person(4000 + n, f"Worker {n:02}", None, "en"), "sales")
    await company.send(ALICE, "/roles lead")
    listing = company.last_message(ALICE.id)
    assert company.buttons(listing)[-1][0] == "More ›"

    await company.press(ALICE, listing, company.buttons(listing)[-1][1])
    answer = await company.press(ALICE, listing, button_for(company, listing, "Worker 10"))

    assert "Worker 10 now has the lead role." in said(answer, ALICE.id)


@pytest.mark.parametrize(
    ("presser", "data", "answer"),
    [
        (BORIS, "roleset:2002.admin:1001", "Эта кнопка не для вас"),
        (CAROL, "roleset:2002.admin:2002", "only admins can do that"),
        (ALICE, "roleset:2002.boss:1001", "This button no longer works"),
        (ALICE, "roleset:2002.-:1001", "This button no longer works"),
        (ALICE, "roleset:٢٠٠٢.admin:1001", "This button no longer works"),
        (ALICE, "roleto:999999.admin:1001", "This button no longer works"),
        (ALICE, "roleto:2002:1001", "This button no longer works"),
    ],
)
async def test_a_forged_or_foreign_role_button_changes_nothing(
    company: Telegram, presser: Person, data: str, answer: str
) -> None:
    await company.send(ALICE, "/roles lead")
    listing = company.last_message(ALICE.id)

    calls = await company.press(presser, listing, data)

    assert answer in said(calls)
    assert [call["method"] for call in calls] == ["answerCallbackQuery"]
    assert "Carol" not in said(await company.send(ALICE, "/roles")).split("\n\n")[0]


async def test_in_the_company_chat_roles_without_a_reply_points_to_the_private_chat(
    company: Telegram,
) -> None:
    group = company.group()

    listing = said(await company.send(ALICE, "/roles", chat=group))
    unnamed = said(await company.send(ALICE, "/roles lead", chat=group))
    await company.send(ALICE, "/me", chat=group)
    to_bot = said(
        await company.send(
            ALICE, "/roles lead", chat=group, reply_to=company.last_message(group["id"])
        )
    )

    assert "Давайте обсудим это в личном чате со мной." in listing  # the company chat's language
    assert "Давайте обсудим это в личном чате со мной." in unnamed
    assert "Роли — для людей: боту роль не назначить." in to_bot
    assert "Leads and admins:\nAlice (@alice) — admin\n" in said(
        await company.send(ALICE, "/roles")
    )
