"""The weekly rhythm as people talk to it: /setup_chat, /schedule, /pause, /mixer, "We met" and
the client-pain conversation, and every bad input answered clearly without changing anything."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime

from bot.db import Database
from bot.services import company, directory, ledger
from bot.services import tokens as token_service
from tests.fake_telegram import FakeBotApi, Person, Telegram
from tests.helpers import (
    ALICE,
    BORIS,
    CAROL,
    CHAT,
    DMITRY,
    EVE,
    MONDAY,
    PEOPLE,
    WEEK,
    said,
    tick,
)

# The commands' clock: Sunday 1 March 2026, 12:00 in Moscow, the day before the first mixer.
SUNDAY = MONDAY - timedelta(hours=22)
PLAN = (
    "Schedule (timezone Europe/Moscow):\n"
    "Mixer: Monday, 10:00 — on; next: Mon 2 Mar at 10:00\n"
    "Weekly digest: Friday, 17:00 — on; next: Fri 6 Mar at 17:00\n"
    "Monthly digest: the 1st of each month, 10:00 — off\n"
    "Wall of shame in the digest: off"
)

# `staff`: Alice (the admin) and Carol in Sales, Boris and Dmitry in Marketing; Eve never joins.


@pytest.fixture(autouse=True)
def clock(tg: Telegram) -> None:
    """The commands take SUNDAY as now, as the scheduler ticks take the time each test gives."""
    tg.app.bot_data["clock"] = lambda: SUNDAY


async def plan(tg: Telegram) -> str:
    """What /schedule shows the admin, without the usage line under it."""
    return said(await tg.send(ALICE, "/schedule")).split("\n\n")[0]


# -- /setup_chat ------------------------------------------------------------------------------


async def test_an_admin_makes_a_group_the_company_chat_where_the_mixer_is_announced(
    staff: Telegram, db: Database
) -> None:
    answer = await staff.send(ALICE, "/setup_chat", chat=staff.group(CHAT, "Marketing and Sales"))

    assert said(answer, CHAT) == (  # in the company's language, Russian
        "Готово: «Marketing and Sales» теперь общий чат компании. "
        "Сюда будут приходить анонсы миксера и дайджесты."
    )
    assert await company.company_chat(db) == CHAT
    await tick(staff, MONDAY)
    assert staff.last_message(CHAT)["text"].startswith("☕ Миксер начался")


async def test_someone_who_is_not_an_admin_cannot_set_up_the_company_chat(
    staff: Telegram, db: Database
) -> None:
    answer = await staff.send(BORIS, "/setup_chat", chat=staff.group(CHAT))

    assert "это доступно только админам" in said(answer, CHAT)
    assert await company.company_chat(db) is None


async def test_setup_chat_in_a_private_chat_says_to_send_it_in_the_group(
    staff: Telegram, db: Database
) -> None:
    answer = await staff.send(ALICE, "/setup_chat")

    assert said(answer, ALICE.id) == (
        "Send /setup_chat in the group that should become the company chat."
    )
    assert await company.company_chat(db) is None


RESTRICTED: dict[str, Any] = {
    "is_member": True,
    "until_date": 0,
    "can_change_info": False,
    "can_invite_users": False,
    "can_pin_messages": False,
    "can_manage_topics": False,
    "can_send_messages": False,
    "can_send_audios": False,
    "can_send_documents": False,
    "can_send_photos": False,
    "can_send_videos": False,
    "can_send_video_notes": False,
    "can_send_voice_notes": False,
    "can_send_polls": False,
    "can_send_other_messages": False,
    "can_add_web_page_previews": False,
    "can_edit_tag": False,
    "can_react_to_messages": False,
}


def bot_is(monkeypatch: pytest.MonkeyPatch, status: str, **rights: Any) -> None:
    """Make Telegram describe the bot in every group as `status` with these rights."""

    def member(api: FakeBotApi, params: dict[str, Any]) -> dict[str, Any]:
        return {"status": status, "user": api.bot_user(), **rights}

    monkeypatch.setattr(FakeBotApi, "_getChatMember", member)


@pytest.mark.parametrize(
    ("status", "rights"),
    [("restricted", RESTRICTED), ("left", {})],
    ids=["restricted-without-sending", "not-in-the-group"],
)
async def test_setup_chat_where_the_bot_may_not_post_tells_the_admin_privately_what_it_needs(
    staff: Telegram, db: Database, monkeypatch: pytest.MonkeyPatch, status: str, rights: dict
) -> None:
    bot_is(monkeypatch, status, **rights)

    answer = await staff.send(ALICE, "/setup_chat", chat=staff.group(CHAT))

    assert said(answer, ALICE.id) == (
        f"I can't post in “{staff.group(CHAT)['title']}” yet: let me send messages there "
        "(or make me an admin), then send /setup_chat in it again."
    )
    assert said(answer, CHAT) == ""  # the bot may not write there, so it does not try
    assert await company.company_chat(db) is None


async def test_a_bot_restricted_but_allowed_to_send_messages_can_be_the_company_chat(
    staff: Telegram, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot_is(monkeypatch, "restricted", **(RESTRICTED | {"can_send_messages": True}))

    answer = await staff.send(ALICE, "/setup_chat", chat=staff.group(CHAT))

    assert "теперь общий чат компании" in said(answer, CHAT)
    assert await company.company_chat(db) == CHAT


# -- /schedule --------------------------------------------------------------------------------


async def test_schedule_shows_the_plan_and_how_to_change_it(staff: Telegram) -> None:
    answer = said(await staff.send(ALICE, "/schedule"))

    assert answer == PLAN + "\n\n" + (
        "/schedule mixer mon 10:00 · /schedule digest fri 17:00 · /schedule monthly 10:00 · "
        "/schedule monthly on|off · /schedule shame on|off · /schedule timezone Europe/Moscow"
    )


async def test_moving_the_mixer_to_wednesday_morning_runs_it_then_and_not_on_monday(
    staff: Telegram,
) -> None:
    answer = await staff.send(ALICE, "/schedule mixer wed 09:30")

    assert said(answer) == "Saved: the next mixer is on Wed 4 Mar at 09:30 (Europe/Moscow)"
    assert "Mixer: Wednesday, 09:30 — on; next: Wed 4 Mar at 09:30" in await plan(staff)

    await tick(staff, MONDAY)
    assert not staff.last_message(BORIS.id)["text"].startswith("☕")

    await tick(staff, MONDAY + timedelta(days=2, minutes=-30))  # Wednesday 09:30 in Moscow
    assert staff.last_message(BORIS.id)["text"].startswith("☕ Миксер этой недели")


async def test_a_russian_admin_may_write_the_day_in_russian(staff: Telegram) -> None:
    await staff.send(ALICE, "/roles @boris admin")

    answer = await staff.send(BORIS, "/schedule digest пятницу 18:00")

    assert said(answer) == (
        "Сохранено: следующий дайджест недели — в пятницу, 6 марта, в 18:00 (Europe/Moscow)"
    )
    assert (
        "Дайджест недели: пятница, 18:00 — включено; следующий — в пятницу, 6 марта, в 18:00"
        in (said(await staff.send(BORIS, "/schedule")))
    )


@pytest.mark.parametrize(
    ("arguments", "answer"),
    [
        ("mixer funday 10:00", "“funday” is not a day or a time I understand"),
        ("mixer sunny 10:00", "“sunny” is not a day or a time I understand"),
        ("mixer mon 25:00", "“25:00” is not a day or a time I understand"),
        ("mixer mon 10:75", "“10:75” is not a day or a time I understand"),
        ("mixer mon abc", "“abc” is not a day or a time I understand"),
        ("monthly noon", "“noon” is not a day or a time I understand"),
        ("timezone Mars/Olympus", "I don't know the timezone “Mars/Olympus”"),
        ("timezone ../../etc/passwd", "I don't know the timezone “../../etc/passwd”"),
        ("lunch mon 10:00", "Usage: /schedule mixer mon 10:00"),
        ("mixer mon", "Usage: /schedule mixer mon 10:00"),
        ("mixer mon 10:00 extra", "Usage: /schedule mixer mon 10:00"),
        ("digest fri 17:00 18:00", "Usage: /schedule mixer mon 10:00"),
        ("timezone Europe/Berlin extra", "Usage: /schedule mixer mon 10:00"),
        ("shame maybe", "Usage: /schedule mixer mon 10:00"),
    ],
)
async def test_bad_schedules_are_answered_clearly_and_change_nothing(
    staff: Telegram, arguments: str, answer: str
) -> None:
    calls = await staff.send(ALICE, f"/schedule {arguments}")

    assert answer in said(calls, ALICE.id)
    assert "Saved" not in said(calls)
    assert [call["chat_id"] for call in calls] == [ALICE.id]
    assert await plan(staff) == PLAN


async def test_the_company_timezone_moves_the_mixer_to_ten_oclock_in_berlin(
    staff: Telegram,
) -> None:
    answer = await staff.send(ALICE, "/schedule timezone Europe/Berlin")

    assert said(answer) == "The company's timezone is now Europe/Berlin."
    assert (await plan(staff)).startswith("Schedule (timezone Europe/Berlin):")

    await tick(staff, MONDAY)  # 10:00 in Moscow is 08:00 in Berlin
    assert not staff.last_message(BORIS.id)["text"].startswith("☕")

    await tick(staff, MONDAY + timedelta(hours=2))  # 10:00 in Berlin (UTC+1 in March)
    assert staff.last_message(BORIS.id)["text"].startswith("☕ Миксер этой недели")


async def test_an_admin_switches_the_monthly_digest_and_the_wall_of_shame_on(
    staff: Telegram, db: Database
) -> None:
    monthly = await staff.send(ALICE, "/schedule monthly on")
    shame = await staff.send(ALICE, "/schedule shame on")

    assert said(monthly) == (
        "Saved: the next monthly digest is on Wed 1 Apr at 10:00 (Europe/Moscow)"
    )
    assert said(shame) == "Saved. Wall of shame in the digest: on"
    shown = await plan(staff)
    assert "Monthly digest: the 1st of each month, 10:00 — on; next: Wed 1 Apr at 10:00" in shown
    assert "Wall of shame in the digest: on" in shown
    assert await company.wall_of_shame(db)


@pytest.mark.parametrize(
    "command", ["/schedule", "/schedule mixer wed 09:30", "/mixer", "/mixer now"]
)
async def test_someone_who_is_not_an_admin_may_neither_see_nor_change_the_rhythm(
    staff: Telegram, command: str
) -> None:
    await tick(staff, MONDAY)
    before = await plan(staff)

    calls = await staff.send(BORIS, command)

    assert said(calls, BORIS.id) == ("Простите, это доступно только админам.")
    assert await plan(staff) == before


async def test_mixer_before_the_first_round_says_there_has_been_none(staff: Telegram) -> None:
    assert said(await staff.send(ALICE, "/mixer")) == "There has been no mixer yet."


# -- "We met" ---------------------------------------------------------------------------------


@pytest.fixture
async def mixed(staff: Telegram) -> Telegram:
    """This week's mixer has gone out: Boris meets Alice, Dmitry meets Carol."""
    await tick(staff, MONDAY)
    for person, other in ((BORIS, ALICE), (DMITRY, CAROL)):
        assert f"tg://user?id={other.id}" in intro(staff, person)["text"]
    return staff


def intro(tg: Telegram, person: Person) -> dict[str, Any]:
    """The latest mixer invitation a person has received."""
    return [m for m in tg.api.sent(person.id) if m["text"].startswith("☕")][-1]


def button(tg: Telegram, person: Person, prefix: str) -> str:
    """The callback data of the `met` or `pain` button under a person's latest intro."""
    return next(data for _, data in Telegram.buttons(intro(tg, person)) if data.startswith(prefix))


async def press(tg: Telegram, person: Person, data: str) -> list[dict[str, Any]]:
    return await tg.press(person, intro(tg, person), data)


async def books(db: Database) -> tuple[int, list[int]]:
    """How many transfers there are, and each person's balance."""
    report = await ledger.verify(db)
    assert report.clean
    return report.transfers, [(await token_service.summary(db, p.id)).balance for p in PEOPLE]


async def test_when_both_press_we_met_each_earns_the_mixer_reward_once(
    mixed: Telegram, db: Database
) -> None:
    met = button(mixed, BORIS, "met:")

    first = await press(mixed, BORIS, met)

    assert said(first) == "Записал! Токены придут, когда партнёр тоже нажмёт «Мы встретились»."
    assert (await books(db))[1] == [0, 0, 0, 0]

    second = await press(mixed, ALICE, met)

    assert "You both met: tokens are on their way!" in said(second)
    assert said(second, ALICE.id) == "🤝 Your mixer meeting is confirmed by everyone: +10 tokens."
    assert said(second, BORIS.id) == "🤝 Встречу миксера подтвердили все: +10 токенов."
    transfers, balances = await books(db)
    assert balances == [10, 10, 0, 0]

    again = await press(mixed, BORIS, met)

    assert said(again) == "Вы уже нажали «Мы встретились» для этой встречи."
    assert await books(db) == (transfers, [10, 10, 0, 0])
    report = said(await mixed.send(ALICE, "/mixer"))
    assert "• ✅ Boris, ✅ Alice" in report and "Met: 1 of 2." in report


@pytest.mark.parametrize("settings_overrides", [{"mixer_reward": 25}])
async def test_the_mixer_reward_is_the_configured_one(mixed: Telegram, db: Database) -> None:
    met = button(mixed, DMITRY, "met:")

    await press(mixed, DMITRY, met)
    await press(mixed, CAROL, met)

    assert (await books(db))[1] == [0, 0, 25, 25]


async def test_we_met_pressed_by_someone_outside_the_pair_is_refused_and_counts_for_nothing(
    mixed: Telegram, db: Database
) -> None:
    before = await books(db)

    answer = await press(mixed, CAROL, button(mixed, BORIS, "met:"))

    assert said(answer) == "This mixer meeting is not yours."
    assert await books(db) == before
    await press(mixed, BORIS, button(mixed, BORIS, "met:"))
    assert (await books(db))[1] == [0, 0, 0, 0]  # Carol's press did not stand in for Alice's


@pytest.mark.parametrize(
    "data", ["met:99999999999", "met:2147483648", "pain:99999999999", "met:abc", "met:"]
)
async def test_a_forged_mixer_button_is_answered_and_changes_nothing(
    mixed: Telegram, db: Database, data: str
) -> None:
    before = await books(db)

    answer = await press(mixed, BORIS, data)

    assert said(answer) == "Эта кнопка больше не работает."
    assert await books(db) == before


async def test_we_met_pressed_twice_by_one_person_does_not_complete_the_meeting(
    mixed: Telegram, db: Database
) -> None:
    met = button(mixed, BORIS, "met:")
    await press(mixed, BORIS, met)

    answer = await press(mixed, BORIS, met)

    assert said(answer) == "Вы уже нажали «Мы встретились» для этой встречи."
    assert (await books(db))[1] == [0, 0, 0, 0]
    assert "• ✅ Boris, ⏳ Alice" in said(await mixed.send(ALICE, "/mixer"))


async def test_we_met_for_last_weeks_pair_is_refused_once_the_next_mixer_has_run(
    mixed: Telegram, db: Database
) -> None:
    last_week = button(mixed, BORIS, "met:")
    await press(mixed, BORIS, last_week)
    await tick(mixed, MONDAY + WEEK)
    before = await books(db)

    answer = await mixed.press(ALICE, mixed.api.sent(ALICE.id)[-2], last_week)

    assert said(answer) == "That mixer week is over; look out for this week's."
    assert await books(db) == before


@pytest.mark.parametrize(
    ("person", "data", "answer"),
    [
        (BORIS, "met:abc", "Эта кнопка больше не работает."),
        (BORIS, "met:1:2", "Эта кнопка больше не работает."),
        (BORIS, "met:999999", "Эта встреча миксера — не ваша."),
        (EVE, "met:1", "You have not joined yet: press /start to join the game."),
    ],
)
async def test_forged_we_met_buttons_are_refused(
    mixed: Telegram, db: Database, person: Person, data: str, answer: str
) -> None:
    before = await books(db)

    calls = await mixed.press(person, intro(mixed, BORIS), data)

    assert said(calls) == answer
    assert await books(db) == before


# -- the client pain ----------------------------------------------------------------------------


async def mixer_report(tg: Telegram) -> str:
    return said(await tg.send(ALICE, "/mixer"))


async def test_the_client_pain_a_pair_discussed_is_asked_for_saved_and_shown_to_the_admin(
    mixed: Telegram,
) -> None:
    asked = await press(mixed, BORIS, button(mixed, BORIS, "pain:"))

    question = [call for call in asked if call["method"] == "sendMessage"]
    assert [q["chat_id"] for q in question] == [BORIS.id]
    assert question[0]["text"] == (
        "Какую боль клиента вы обсудили? Ответьте одним-двумя предложениями (или /cancel)."
    )
    assert "force_reply" in str(question[0]["reply_markup"])

    saved = await mixed.send(BORIS, "Клиенты   не понимают,\nчем тариф «Про» лучше")

    assert said(saved) == "Сохранил для дайджеста: «Клиенты не понимают, чем тариф «Про» лучше»"
    assert "• ⏳ Boris, ⏳ Alice — Клиенты не понимают, чем тариф «Про» лучше" in (
        await mixer_report(mixed)
    )


@pytest.mark.parametrize(
    ("pain", "answer"),
    [
        ("   ", "Боль клиента пустая: опишите её одним-двумя предложениями"),
        ("я" * 301, "Слишком длинный текст: не больше 300 символов."),
    ],
    ids=["blank", "301-characters"],
)
async def test_a_blank_or_overlong_pain_is_refused_and_the_question_stays_open(
    mixed: Telegram, pain: str, answer: str
) -> None:
    await press(mixed, BORIS, button(mixed, BORIS, "pain:"))

    refused = await mixed.send(BORIS, pain)

    assert answer in said(refused)
    assert " — " not in await mixer_report(mixed)

    exactly = "ж" * 300
    saved = await mixed.send(BORIS, exactly)
    assert said(saved) == f"Сохранил для дайджеста: «{exactly}»"
    assert f"— {exactly}" in await mixer_report(mixed)


async def test_cancel_ends_the_pain_question_and_a_later_message_is_not_saved(
    mixed: Telegram,
) -> None:
    await press(mixed, BORIS, button(mixed, BORIS, "pain:"))

    cancelled = await mixed.send(BORIS, "/cancel")

    assert said(cancelled) == "Хорошо, в этот раз без боли клиента."
    later = said(await mixed.send(BORIS, "Клиенты хотят скидку"))
    assert later == "Я отвечаю на команды, а не на сообщения. Всё, что можно сделать, — в /help."
    assert " — " not in await mixer_report(mixed)


async def test_a_pain_for_someone_elses_meeting_is_refused_before_asking_for_it(
    mixed: Telegram,
) -> None:
    answer = await press(mixed, CAROL, button(mixed, BORIS, "pain:"))

    assert said(answer) == "This mixer meeting is not yours."
    assert [call["chat_id"] for call in answer if call["method"] == "sendMessage"] == []
    later = said(await mixed.send(CAROL, "Clients want a discount"))
    assert later == "I answer commands rather than messages. /help lists what you can do."
    assert " — " not in await mixer_report(mixed)


# -- /pause -----------------------------------------------------------------------------------


async def test_pause_with_an_unknown_argument_explains_itself_and_pauses_nobody(
    staff: Telegram, db: Database
) -> None:
    answer = await staff.send(BORIS, "/pause tomorrow")

    assert said(answer) == (
        "Как пользоваться: /pause — отдохнуть от миксера и благодарностей, /pause off — вернуться"
    )
    person = await directory.find(db, BORIS.id)
    assert person is not None and not person.paused
    await tick(staff, MONDAY)
    assert intro(staff, BORIS)["text"].startswith("☕ Миксер этой недели")


async def test_the_timezone_an_admin_sets_is_the_one_people_see_their_times_in(
    staff: Telegram, db: Database
) -> None:
    await staff.send(ALICE, "/schedule timezone Pacific/Kiritimati")
    await staff.send(ALICE, "/grant @carol 5 a time-zone test")
    async with db.read() as session:
        history = await ledger.history(session, (await directory.find(db, CAROL.id)).account_id)
    kiritimati = format_datetime(
        history[0].when.astimezone(ZoneInfo("Pacific/Kiritimati")), "d MMM HH:mm", locale="en"
    )
    moscow = format_datetime(
        history[0].when.astimezone(ZoneInfo("Europe/Moscow")), "d MMM HH:mm", locale="en"
    )

    me = said(await staff.send(CAROL, "/me"))

    assert f"+5 · {kiritimati} · a time-zone test" in me
    assert moscow not in me
