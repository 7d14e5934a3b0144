"""Admins name leads and admins with /roles; the last admin cannot step down."""

from __future__ import annotations

import pytest

from tests.fake_telegram import FakeBotApi, Person, Telegram
from tests.helpers import ALICE, BORIS, CAROL, menu, said

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
    assert "только тот, у кого есть нужная роль" in refused


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

    assert "only someone with the right role may do that" in said(answer)
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
    assert "only someone with the right role" in refused
    last = said(await company.send(CAROL, "/roles @carol employee"))
    assert "You are the last admin" in last
    assert "Carol (@carol) — admin" in said(await company.send(CAROL, "/roles"))
