"""/thanks: tokens from a weekly allowance, double across the department line, capped per pair."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from telegram import Update

from bot.db import Database
from bot.domain.errors import AllowanceExceeded, PairCapReached
from bot.services import ledger, thanks
from bot.services import tokens as token_service
from tests.fake_telegram import Person, Telegram
from tests.helpers import (
    ALICE,
    BORIS,
    CAROL,
    DEFAULT_RULES,
    DMITRY,
    MOSCOW,
    command_update,
    post,
    said,
)

# `company`: Alice (the admin) and Carol in Sales, Boris in Marketing; Dmitry never joins.
JOINED = (ALICE, BORIS, CAROL)


async def balance(db: Database, person: Person) -> int:
    return (await token_service.summary(db, person.id)).balance


async def books(db: Database) -> tuple[int, list[int], int]:
    """How many transfers there are, each joined person's balance, and Alice's allowance."""
    report = await ledger.verify(db)
    assert report.clean
    balances = [await balance(db, person) for person in JOINED]
    left = await thanks.allowance_left(db, ALICE.id, DEFAULT_RULES, MOSCOW)
    return report.transfers, balances, left


async def pause(db: Database, person: Person) -> None:
    async with db.transaction() as session:
        await session.execute(
            text("UPDATE employees SET paused = true WHERE telegram_id = :id"), {"id": person.id}
        )


# -- thanking -----------------------------------------------------------------------------------


async def test_thanks_across_departments_pay_double_and_both_people_hear_in_their_own_language(
    company: Telegram, db: Database
) -> None:
    answer = await company.send(ALICE, "/thanks @boris 2 helped with the pitch deck")

    assert said(answer, ALICE.id) == (
        "🙏 You thanked Boris: 4 tokens (×2 across departments!) — helped with the pitch deck\n"
        "You can still give 3 tokens this week."
    )
    assert said(answer, BORIS.id) == (
        "🙏 Alice благодарит вас: 4 токена (×2 за благодарность другому отделу!)"
        " — helped with the pitch deck"
    )
    me = said(await company.send(BORIS, "/me"))
    assert "Ваш баланс: <b>4 токена</b>" in me and "helped with the pitch deck" in me
    assert (await ledger.verify(db)).clean


async def test_thanks_within_ones_own_department_pay_just_the_amount_given(
    company: Telegram, db: Database
) -> None:
    answer = await company.send(ALICE, "/thanks @carol 2 closed the deal")

    assert said(answer, ALICE.id) == (
        "🙏 You thanked Carol: 2 tokens — closed the deal\nYou can still give 3 tokens this week."
    )
    assert said(answer, CAROL.id) == "🙏 Alice thanked you: 2 tokens — closed the deal"
    assert await balance(db, CAROL) == 2


async def test_thanks_without_an_amount_give_one_token(company: Telegram, db: Database) -> None:
    answer = await company.send(ALICE, "/thanks @Carol for the coffee")

    assert "You thanked Carol: 1 token — for the coffee" in said(answer, ALICE.id)
    assert "You can still give 4 tokens this week." in said(answer, ALICE.id)
    assert await balance(db, CAROL) == 1


async def test_a_russian_giver_is_answered_in_russian_and_an_english_receiver_hears_in_english(
    company: Telegram,
) -> None:
    answer = await company.send(BORIS, "/thanks @alice спасибо за лиды")

    assert said(answer, BORIS.id) == (
        "🙏 Alice получает от вас 2 токена (×2 за благодарность другому отделу!)"
        " — спасибо за лиды\nНа этой неделе можно подарить ещё 4 токена."
    )
    assert said(answer, ALICE.id) == (
        "🙏 Boris thanked you: 2 tokens (×2 across departments!) — спасибо за лиды"
    )


@pytest.mark.parametrize("settings_overrides", [{"thanks_cross_multiplier": 3}])
async def test_a_configured_multiplier_sets_the_cross_department_bonus_but_not_the_same_department(
    company: Telegram, db: Database
) -> None:
    across = await company.send(ALICE, "/thanks @boris 2 great launch")
    within = await company.send(ALICE, "/thanks @carol 2 great launch")

    assert "6 tokens (×3 across departments!)" in said(across, ALICE.id)
    assert "6 токенов (×3 за благодарность другому отделу!)" in said(across, BORIS.id)
    assert "You thanked Carol: 2 tokens — great launch" in said(within, ALICE.id)
    assert (await balance(db, BORIS), await balance(db, CAROL)) == (6, 2)


async def test_a_thanks_replying_in_a_group_pays_the_author_and_is_answered_in_the_group(
    company: Telegram, db: Database
) -> None:
    group = company.group()
    message = await post(company, BORIS, "Запустили кампанию вместе с продажами!", group)

    answer = await company.send(ALICE, "/thanks great launch", chat=group, reply_to=message)

    assert said(answer, group["id"]) == (
        "🙏 Alice → Boris: спасибо, 2 токена (×2 за благодарность другому отделу!) — great launch"
    )
    assert said(answer, BORIS.id) == (
        "🙏 Alice благодарит вас: 2 токена (×2 за благодарность другому отделу!) — great launch"
    )
    assert said(answer, ALICE.id) == ""  # the giver is answered where they asked, nowhere else
    assert await balance(db, BORIS) == 2


async def test_a_thanks_with_an_amount_replying_in_a_group_does_not_announce_the_allowance(
    company: Telegram, db: Database
) -> None:
    group = company.group()
    message = await post(company, CAROL, "Signed the contract!", group)

    answer = await company.send(ALICE, "/thanks 3 signed it", chat=group, reply_to=message)

    assert said(answer, group["id"]) == "🙏 Alice → Carol: спасибо, 3 токена — signed it"
    assert said(answer, CAROL.id) == "🙏 Alice thanked you: 3 tokens — signed it"
    assert await balance(db, CAROL) == 3


async def test_a_name_written_in_a_reply_wins_over_the_message_replied_to(
    company: Telegram, db: Database
) -> None:
    group = company.group()
    await company.send(ALICE, "/top", chat=group)  # the bot answers in the group
    bot_message = company.last_message(group["id"])
    boris_message = await post(company, BORIS, "Всем привет", group)

    to_carol = await company.send(ALICE, "/thanks @carol 1 help", chat=group, reply_to=bot_message)
    again = await company.send(ALICE, "/thanks @carol 1 more", chat=group, reply_to=boris_message)

    assert "Alice → Carol: спасибо, 1 токен — help" in said(to_carol, group["id"])
    assert "Alice → Carol: спасибо, 1 токен — more" in said(again, group["id"])
    assert (await balance(db, CAROL), await balance(db, BORIS)) == (2, 0)


async def test_a_thanks_in_a_forum_topic_is_not_taken_for_a_reply_to_whoever_opened_the_topic(
    company: Telegram, db: Database
) -> None:
    forum = company.group(-1002, "Company forum") | {"is_forum": True}
    company.api.chats[forum["id"]] = forum
    opening = {
        "message_id": 10,
        "date": int(time.time()),
        "chat": forum,
        "from": BORIS.as_user(),
        "forum_topic_created": {"name": "Deals", "icon_color": 7322096},
    }
    message = {
        "message_id": 11,
        "message_thread_id": 10,
        "is_topic_message": True,
        "date": int(time.time()),
        "chat": forum,
        "from": ALICE.as_user(),
        "text": "/thanks 2 everyone",
        "entities": [{"type": "bot_command", "offset": 0, "length": len("/thanks")}],
        "reply_to_message": opening,
    }
    before = await books(db)

    update = {"update_id": company.api.next_update_id(), "message": message}
    await company.app.process_update(Update.de_json(update, company.app.bot))

    assert (
        "Как пользоваться: /thanks @username 2 за что" in company.last_message(forum["id"])["text"]
    )
    assert await books(db) == before


# -- the allowance and the daily cap -----------------------------------------------------------


async def test_the_weekly_allowance_runs_out_and_further_thanks_are_refused(
    company: Telegram, db: Database
) -> None:
    await company.send(ALICE, "/thanks @boris 2 launch")
    last = await company.send(ALICE, "/thanks @carol 3 deal")
    assert "That was the last of this week's allowance; it renews on Monday." in said(
        last, ALICE.id
    )
    before = await books(db)

    refused = await company.send(ALICE, "/thanks @boris 1 one more")

    assert said(refused) == "You have used up your weekly allowance (5); it renews on Monday."
    assert await books(db) == before


async def test_asking_for_more_than_is_left_this_week_says_how_much_is_left(
    company: Telegram, db: Database
) -> None:
    await company.send(ALICE, "/thanks @carol 3 deal")
    before = await books(db)

    refused = await company.send(ALICE, "/thanks @boris 3 launch")

    assert said(refused) == "Tokens left this week: 2 of 5. The allowance renews on Monday."
    assert await books(db) == before
    allowed = await company.send(ALICE, "/thanks @boris 2 launch")
    assert "That was the last of this week's allowance; it renews on Monday." in said(
        allowed, ALICE.id
    )


async def test_one_giver_can_thank_the_same_person_at_most_three_a_day(
    company: Telegram, db: Database
) -> None:
    await company.send(ALICE, "/thanks @carol 2 deal")
    await company.send(ALICE, "/thanks @carol 1 another deal")
    before = await books(db)

    refused = await company.send(ALICE, "/thanks @carol 1 a third deal")

    assert (
        said(refused) == "You have already given this person today's maximum (3);"
        " you can thank them again tomorrow."
    )
    assert await books(db) == before
    other = await company.send(ALICE, "/thanks @boris 1 launch")  # the allowance still has 2
    assert "You thanked Boris" in said(other, ALICE.id)


async def test_a_russian_giver_over_the_daily_cap_is_told_in_russian(
    company: Telegram, db: Database
) -> None:
    await company.send(BORIS, "/thanks @carol 2 сделка")
    before = await books(db)

    refused = await company.send(BORIS, "/thanks @carol 2 ещё сделка")

    assert said(refused) == (
        "Одному человеку можно подарить не больше 3 в день, этому сегодня — ещё 1."
    )
    assert await books(db) == before


async def give(db: Database, receiver: str, amount: int, now: datetime, key: str) -> int:
    """Alice thanks `receiver` at the moment `now`; returns what she has left that week."""
    result = await thanks.give(
        db,
        giver_telegram_id=ALICE.id,
        receiver=receiver,
        amount=amount,
        reason="for the week",
        key=key,
        rules=DEFAULT_RULES,
        tz=MOSCOW,
        now=now,
    )
    return result.allowance_left


async def test_the_allowance_renews_at_midnight_on_monday_in_the_companys_timezone(
    company: Telegram, db: Database
) -> None:
    sunday_evening = datetime(2026, 3, 1, 23, 0, tzinfo=MOSCOW)
    last_second = datetime(2026, 3, 1, 23, 59, 59, tzinfo=MOSCOW)
    monday = datetime(2026, 3, 2, 0, 0, tzinfo=MOSCOW)  # still Sunday 21:00 in UTC
    await give(db, "@carol", 3, sunday_evening, "week:1")
    assert await give(db, "@boris", 2, sunday_evening, "week:2") == 0

    with pytest.raises(AllowanceExceeded):
        await give(db, "@boris", 1, last_second, "week:3")

    assert await give(db, "@boris", 1, monday, "week:4") == 4
    assert await thanks.allowance_left(db, ALICE.id, DEFAULT_RULES, MOSCOW, now=monday) == 4
    assert await thanks.allowance_left(db, ALICE.id, DEFAULT_RULES, MOSCOW, last_second) == 0
    assert (await balance(db, BORIS), await balance(db, CAROL)) == (6, 3)


async def test_the_daily_cap_for_a_pair_renews_at_midnight_in_the_companys_timezone(
    company: Telegram, db: Database
) -> None:
    tuesday_night = datetime(2026, 3, 3, 23, 59, tzinfo=MOSCOW)
    wednesday = datetime(2026, 3, 4, 0, 0, tzinfo=MOSCOW)  # still Tuesday in UTC
    await give(db, "@carol", 3, tuesday_night, "day:1")

    with pytest.raises(PairCapReached):
        await give(db, "@carol", 1, tuesday_night, "day:2")

    assert await give(db, "@carol", 1, wednesday, "day:3") == 1
    assert await balance(db, CAROL) == 4


async def test_thanks_given_last_week_do_not_count_against_this_weeks_allowance(
    company: Telegram, db: Database
) -> None:
    a_week_ago = datetime.now(UTC) - timedelta(days=8)
    await give(db, "@carol", 3, a_week_ago, "old:1")
    await give(db, "@boris", 2, a_week_ago, "old:2")

    answer = await company.send(ALICE, "/thanks @boris 3 fresh week")

    assert "You thanked Boris: 6 tokens" in said(answer, ALICE.id)
    assert "You can still give 2 tokens this week." in said(answer, ALICE.id)


# -- bad input ----------------------------------------------------------------------------------

LONG_REASON = "x" * 201


@pytest.mark.parametrize(
    ("sender", "command", "answer"),
    [
        (ALICE, "/thanks @alice 1 I am great", "Thanking yourself is sweet, but it earns nothing"),
        (ALICE, "/thanks @nobody 1 thanks", "I don't know @nobody yet"),
        (ALICE, "/thanks @dmitry 1 thanks", "I don't know @dmitry yet"),
        (ALICE, "/thanks", "Usage: /thanks @username 2 what for"),
        (ALICE, "/thanks 2 for the help", "Usage: /thanks @username 2 what for"),
        (ALICE, "/thanks @boris", "Please add a reason."),
        (ALICE, "/thanks @boris 2", "Please add a reason."),
        (ALICE, "/thanks @boris 0 thanks", "“0” is not an amount"),
        (ALICE, "/thanks @boris -1 thanks", "“-1” is not an amount"),
        (ALICE, "/thanks @boris −1 thanks", "“−1” is not an amount"),
        (ALICE, "/thanks @boris 2.5 thanks", "“2.5” is not an amount"),
        (
            ALICE,
            "/thanks @boris 999999 thanks",
            "You can give at most 5 at once: that is your whole weekly allowance.",
        ),
        (ALICE, f"/thanks @boris 1 {LONG_REASON}", "The reason is too long"),
        (DMITRY, "/thanks @boris 1 спасибо", "Вы ещё не в игре: нажмите /start"),
        (BORIS, "/thanks @boris 1 сам молодец", "Благодарить себя приятно"),
    ],
)
async def test_bad_thanks_are_answered_clearly_and_change_nothing(
    company: Telegram, db: Database, sender: Person, command: str, answer: str
) -> None:
    before = await books(db)

    calls = await company.send(sender, command)

    assert answer in said(calls, sender.id)
    assert "🙏" not in said(calls)
    assert [call["chat_id"] for call in calls] == [sender.id]  # nobody else is told anything
    assert await books(db) == before


async def test_a_thanks_to_a_paused_person_is_refused_and_changes_nothing(
    company: Telegram, db: Database
) -> None:
    await pause(db, CAROL)
    group = company.group()
    message = await post(company, CAROL, "Back in two weeks!", group)
    before = await books(db)

    by_name = await company.send(ALICE, "/thanks @carol 1 deal")
    by_reply = await company.send(ALICE, "/thanks 1 deal", chat=group, reply_to=message)

    assert said(by_name) == "Carol has paused the game for now; thank them when they are back."
    assert said(by_reply) == "Carol сейчас на паузе; поблагодарите, когда вернётся."  # the group
    assert [call["chat_id"] for call in by_reply] == [group["id"]]
    assert await books(db) == before


async def test_replying_to_the_bots_own_message_thanks_nobody(
    company: Telegram, db: Database
) -> None:
    group = company.group()
    await company.send(ALICE, "/top", chat=group)
    bot_message = company.last_message(group["id"])
    before = await books(db)

    answer = await company.send(ALICE, "/thanks 2 nice bot", chat=group, reply_to=bot_message)

    assert said(answer) == "Ботам токены ни к чему: поблагодарите человека."  # the group's language
    assert await books(db) == before


async def test_replying_to_someone_who_never_joined_thanks_nobody(
    company: Telegram, db: Database
) -> None:
    group = company.group()
    message = await post(company, DMITRY, "Всем привет", group)
    before = await books(db)

    answer = await company.send(ALICE, "/thanks 1 welcome", chat=group, reply_to=message)

    assert said(answer) == "Я пока не знаю Dmitry: пусть сначала отправит мне /start."
    assert await books(db) == before


async def test_replying_to_ones_own_message_thanks_nobody(company: Telegram, db: Database) -> None:
    group = company.group()
    message = await post(company, BORIS, "Я сегодня молодец", group)
    before = await books(db)

    answer = await company.send(BORIS, "/thanks 1 за меня", chat=group, reply_to=message)

    assert said(answer).startswith("Благодарить себя приятно, но токенов это не приносит")
    assert await books(db) == before


async def test_the_same_message_delivered_twice_thanks_once(
    company: Telegram, db: Database
) -> None:
    update = command_update(company, ALICE, "/thanks @boris 2 great launch", 9001)

    await company.app.process_update(update)
    await company.app.process_update(update)

    notices = [m for m in company.api.sent(BORIS.id) if "благодарит вас" in m["text"]]
    assert len(notices) == 1
    answers = [m["text"] for m in company.api.sent(ALICE.id) if "thanked Boris" in m["text"]]
    assert len(answers) == 2 and answers[0] == answers[1]
    assert "You can still give 3 tokens this week." in answers[1]
    transfers, balances, left = await books(db)
    assert (transfers, balances[1], left) == (1, 4, 3)


async def test_editing_a_thanks_already_given_neither_gives_again_nor_claims_the_new_text(
    company: Telegram, db: Database
) -> None:
    await company.app.process_update(
        command_update(company, ALICE, "/thanks @boris 1 launch", 9002)
    )

    await company.app.process_update(
        command_update(company, ALICE, "/thanks @carol 3 launch", 9002, edited=True)
    )

    reply = company.last_message(ALICE.id)["text"]
    assert "You thanked Boris: 2 tokens" in reply and "Carol" not in reply
    assert "You can still give 4 tokens this week." in reply
    assert [m for m in company.api.sent(CAROL.id) if "thanked you" in m["text"]] == []
    transfers, balances, left = await books(db)
    assert (transfers, balances, left) == (1, [0, 2, 0], 4)


# -- several people at once --------------------------------------------------------------------


async def test_thanks_naming_two_people_thanks_each_from_the_allowance(
    company: Telegram, db: Database
) -> None:
    answer = await company.send(ALICE, "/thanks @carol @boris 1 for the launch")

    assert "You thanked Carol: 1 token — for the launch" in said(answer, ALICE.id)
    assert "You thanked Boris: 2 tokens (×2 across departments!) — for the launch" in said(
        answer, ALICE.id
    )
    assert said(answer, CAROL.id) == "🙏 Alice thanked you: 1 token — for the launch"
    assert (await balance(db, BORIS), await balance(db, CAROL)) == (2, 1)
    assert await thanks.allowance_left(db, ALICE.id, DEFAULT_RULES, MOSCOW) == 3


async def test_naming_someone_unknown_among_several_thanks_nobody(
    company: Telegram, db: Database
) -> None:
    before = await books(db)

    answer = await company.send(ALICE, "/thanks @carol @nobody 1 for the launch")

    assert said(answer) == "I don't know @nobody yet: they need to send me /start first."
    assert await books(db) == before


async def test_several_people_beyond_the_allowance_are_refused_before_anyone_is_thanked(
    company: Telegram, db: Database
) -> None:
    before = await books(db)

    answer = await company.send(ALICE, "/thanks @carol @boris 3 for the launch")

    assert said(answer) == "Tokens left this week: 5 of 5. The allowance renews on Monday."
    assert await books(db) == before


async def test_the_same_person_named_twice_is_thanked_once(company: Telegram, db: Database) -> None:
    await company.send(ALICE, "/thanks @carol @Carol 1 twice over")

    assert await balance(db, CAROL) == 1


async def test_an_edited_thanks_to_several_people_pays_nobody_twice(
    company: Telegram, db: Database
) -> None:
    text = "/thanks @carol @boris 1 for the launch"
    await company.app.process_update(command_update(company, ALICE, text, 777))
    await company.app.process_update(command_update(company, ALICE, text, 777, edited=True))

    assert (await balance(db, BORIS), await balance(db, CAROL)) == (2, 1)
