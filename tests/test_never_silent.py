"""Nobody is met with silence in private; the company chat's plain talk is left alone."""

from __future__ import annotations

import pytest

from tests.fake_telegram import Person, Telegram
from tests.helpers import ALICE, BORIS, CHAT, DMITRY, said


@pytest.mark.parametrize(
    ("person", "text", "answer"),
    [
        (ALICE, "/dance", "I don't know that command. /help lists what you can do."),
        (BORIS, "/dance", "Такой команды я не знаю. Всё, что можно сделать, — в /help."),
        (ALICE, "hello?", "I answer commands rather than messages. /help lists what you can do."),
        (
            BORIS,
            "привет",
            "Я отвечаю на команды, а не на сообщения. Всё, что можно сделать, — в /help.",
        ),
    ],
)
async def test_an_unknown_command_or_plain_text_in_private_points_to_help(
    company: Telegram, person: Person, text: str, answer: str
) -> None:
    assert said(await company.send(person, text)) == answer


async def test_someone_who_has_not_joined_is_told_how_to_join(tg: Telegram) -> None:
    answer = said(await tg.send(DMITRY, "что тут делать?"))

    assert answer == "Нажмите /start, чтобы присоединиться к игре: я спрошу, в каком вы отделе."


async def test_plain_talk_and_unknown_commands_in_the_company_chat_get_no_answer(
    company: Telegram,
) -> None:
    group = company.group(CHAT)

    assert said(await company.send(ALICE, "lunch at noon?", chat=group)) == ""
    assert said(await company.send(BORIS, "/dance", chat=group)) == ""


async def test_a_known_command_is_still_answered_by_its_own_handler(company: Telegram) -> None:
    assert "I don't know" not in said(await company.send(ALICE, "/me"))
