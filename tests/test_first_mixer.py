"""The first mixer of a new company, and the rest of a round: a bot installed on a Wednesday
gets its mixer that week at the slot the admin sets, /schedule says when each post goes next,
/mixer now runs the week's round at once through the scheduler's own once-per-week run, and
halfway to the next mixer the people who have not pressed "We met" get one reminder.

The commands and the scheduler's ticks share a clock of the test's own: no waiting. The company
is in Moscow (UTC+3 all year); December 2026 starts the weeks on Monday 7 and 14.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.db import Database
from bot.i18n import t
from bot.models import ScheduledRun
from tests.conftest import both_databases
from tests.fake_telegram import FakeBotApi, Person, Telegram
from tests.helpers import (
    ALICE,
    BORIS,
    CHAT,
    DEPARTMENT,
    DMITRY,
    MSK,
    PEOPLE,
    WEEK,
    join,
    make_settings,
    running_bot,
    said,
    tick,
)

MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=UTC) - MSK  # Monday 7 December, 10:00 in Moscow
WEDNESDAY = MONDAY + timedelta(days=2, hours=-1)  # Wednesday 9 December, 09:00
SLOT = WEDNESDAY + timedelta(minutes=43)  # Wednesday 09:43
THURSDAY = MONDAY + timedelta(days=3)  # Thursday 10 December, 10:00


class Clock:
    """The time the bot's commands take as now; `tick` moves it and beats the scheduler."""

    def __init__(self, tg: Telegram, start: datetime) -> None:
        self.tg, self.now = tg, start
        tg.app.bot_data["clock"] = lambda: self.now

    async def tick(self, moment: datetime) -> None:
        self.now = moment
        await tick(self.tg, moment)


def intros(api: FakeBotApi, person: Person) -> list[dict[str, Any]]:
    return [m for m in api.sent(person.id) if m.get("text", "").startswith("☕")]


def reminders(api: FakeBotApi, person: Person) -> list[dict[str, Any]]:
    return [m for m in api.sent(person.id) if m.get("text", "").startswith("👋")]


def announcements(api: FakeBotApi) -> list[str]:
    return [m["text"] for m in api.sent(CHAT) if m.get("text", "").startswith("☕")]


def counts(messages: Any, api: FakeBotApi) -> dict[str, int]:
    return {person.first_name: len(messages(api, person)) for person in PEOPLE}


def each(count: int) -> dict[str, int]:
    return {person.first_name: count for person in PEOPLE}


def partner(message: dict[str, Any]) -> int:
    (found,) = re.findall(r"tg://user\?id=(\d+)", message["text"])
    return int(found)


async def open_company(tg: Telegram) -> None:
    """Everyone joins, and the admin binds the company chat."""
    for person in PEOPLE:
        await join(tg, person, DEPARTMENT[person])
    await tg.send(ALICE, "/setup_chat", chat=tg.group(CHAT))


async def runs(db: Database) -> dict[tuple[str, str], str]:
    async with db.read() as session:
        rows = await session.execute(
            select(ScheduledRun.job, ScheduledRun.period, ScheduledRun.status)
        )
        return {(job, period): status for job, period, status in rows}


@pytest.fixture
async def company(tg: Telegram) -> Telegram:
    await open_company(tg)
    return tg


# -- the first mixer ----------------------------------------------------------------------------


@both_databases()
async def test_a_bot_installed_on_a_wednesday_sends_the_mixer_set_for_later_that_day_once(
    tg: Telegram, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(tg, WEDNESDAY)
    await clock.tick(WEDNESDAY)  # the first tick: Monday's slot is two days past, nobody here

    await open_company(tg)
    saved = await tg.send(ALICE, "/schedule mixer wed 09:43")

    assert said(saved) == "Saved: the next mixer is on Wed 9 Dec at 09:43 (Europe/Moscow)"
    await clock.tick(SLOT - timedelta(minutes=1))
    assert counts(intros, tg.api) == each(0)

    await clock.tick(SLOT)

    assert counts(intros, tg.api) == each(1)
    for person in PEOPLE:
        other = next(p for p in PEOPLE if p.id == partner(intros(tg.api, person)[0]))
        assert DEPARTMENT[other] != DEPARTMENT[person]
    assert len(announcements(tg.api)) == 1

    for later in (SLOT + timedelta(minutes=1), SLOT + timedelta(hours=5), THURSDAY):
        await clock.tick(later)

    assert counts(intros, tg.api) == each(1)
    assert len(announcements(tg.api)) == 1
    assert (await runs(db))[("mixer", "2026-W50")] == "done"
    warnings = [
        record
        for record in caplog.get_records("setup") + caplog.records
        if record.levelno >= logging.WARNING
    ]
    assert warnings == []  # nobody had missed the posts due before the install


async def test_a_russian_admin_is_told_the_next_mixer_in_russian(tg: Telegram) -> None:
    clock = Clock(tg, WEDNESDAY)
    await clock.tick(WEDNESDAY)
    await open_company(tg)
    await tg.send(ALICE, "/roles @boris admin")

    saved = await tg.send(BORIS, "/schedule mixer ср 09:43")

    assert (
        said(saved) == "Сохранено: следующий миксер — в среду, 9 декабря, в 09:43 (Europe/Moscow)"
    )
    plan = said(await tg.send(BORIS, "/schedule"))
    assert "Миксер: среда, 09:43 — включено; следующий — в среду, 9 декабря, в 09:43" in plan
    assert "Дайджест недели: пятница, 17:00 — включено; следующий — в пятницу, 11 декабря" in plan
    await clock.tick(SLOT)
    assert len(intros(tg.api, BORIS)) == 1


async def test_schedule_shows_when_each_post_goes_next_in_the_company_timezone(
    company: Telegram,
) -> None:
    Clock(company, WEDNESDAY)
    await company.send(ALICE, "/schedule monthly on")

    plan = said(await company.send(ALICE, "/schedule")).split("\n\n")[0]

    assert plan == (
        "Schedule (timezone Europe/Moscow):\n"
        "Mixer: Monday, 10:00 — on; next: Mon 14 Dec at 10:00\n"
        "Weekly digest: Friday, 17:00 — on; next: Fri 11 Dec at 17:00\n"
        "Monthly digest: the 1st of each month, 10:00 — on; next: Fri 1 Jan at 10:00\n"
        "Wall of shame in the digest: off"
    )
    await company.send(ALICE, "/schedule timezone Asia/Tokyo")  # 15:00 on Wednesday there
    assert "Weekly digest: Friday, 17:00 — on; next: Fri 11 Dec at 17:00" in said(
        await company.send(ALICE, "/schedule")
    )


@both_databases()
async def test_a_week_whose_mixer_really_ran_is_not_run_again_when_the_slot_moves_later(
    company: Telegram, db: Database
) -> None:
    clock = Clock(company, MONDAY)
    await clock.tick(MONDAY)
    assert counts(intros, company.api) == each(1)

    saved = await company.send(ALICE, "/schedule mixer wed 09:43")

    assert said(saved) == "Saved: the next mixer is on Wed 16 Dec at 09:43 (Europe/Moscow)"
    await clock.tick(SLOT)
    await clock.tick(SLOT + timedelta(hours=1))
    assert counts(intros, company.api) == each(1)
    assert len(announcements(company.api)) == 1

    await clock.tick(SLOT + WEEK)  # the next week's mixer, at the new slot

    assert counts(intros, company.api) == each(2)
    statuses = await runs(db)
    assert statuses[("mixer", "2026-W50")] == statuses[("mixer", "2026-W51")] == "done"


async def test_a_slot_set_for_a_moment_already_past_this_week_starts_with_next_week(
    company: Telegram,
) -> None:
    clock = Clock(company, WEDNESDAY + timedelta(hours=1))  # Wednesday 10:00
    await clock.tick(clock.now)

    saved = await company.send(ALICE, "/schedule mixer wed 09:43")

    assert said(saved) == "Saved: the next mixer is on Wed 16 Dec at 09:43 (Europe/Moscow)"
    await clock.tick(clock.now + timedelta(minutes=1))
    await clock.tick(SLOT + timedelta(days=1))
    assert counts(intros, company.api) == each(0)

    await clock.tick(SLOT + WEEK)

    assert counts(intros, company.api) == each(1)


# -- /mixer now ---------------------------------------------------------------------------------


@both_databases()
async def test_mixer_now_runs_this_weeks_round_at_once_and_the_slot_later_that_week_does_not(
    company: Telegram, db: Database
) -> None:
    clock = Clock(company, WEDNESDAY)
    await clock.tick(WEDNESDAY)
    await company.send(ALICE, "/schedule mixer fri 10:00")

    answer = await company.send(ALICE, "/mixer now")

    assert said(answer, ALICE.id).endswith(
        "Done: this week's mixer is out, 2 cross-department meetings; "
        "everyone has their invitation."
    )
    assert counts(intros, company.api) == each(1)
    assert len(announcements(company.api)) == 1
    assert (await runs(db))[("mixer", "2026-W50")] == "done"

    again = await company.send(ALICE, "/mixer now")

    assert said(again) == (
        "This week's mixer has already run: /mixer shows the pairs and who has met."
    )
    await clock.tick(MONDAY + timedelta(days=4))  # Friday 10:00, the week's slot
    await clock.tick(MONDAY + timedelta(days=4, minutes=1))
    assert counts(intros, company.api) == each(1)
    assert len(announcements(company.api)) == 1

    await clock.tick(MONDAY + timedelta(days=4) + WEEK)  # next Friday's is a new round

    assert counts(intros, company.api) == each(2)


async def test_mixer_now_from_a_russian_admin_after_the_weeks_round_says_it_has_run(
    company: Telegram,
) -> None:
    clock = Clock(company, MONDAY)
    await clock.tick(MONDAY)
    await company.send(ALICE, "/roles @boris admin")

    answer = await company.send(BORIS, "/mixer now")

    assert said(answer) == "Миксер этой недели уже запущен: пары и кто встретился — в /mixer."
    assert counts(intros, company.api) == each(1)


async def test_mixer_now_in_russian_names_the_meetings_with_the_right_plural(
    company: Telegram,
) -> None:
    Clock(company, WEDNESDAY)
    await company.send(ALICE, "/roles @boris admin")

    answer = await company.send(BORIS, "/mixer now")

    assert said(answer, BORIS.id).endswith(
        "Готово: миксер этой недели запущен — 2 встречи между отделами, приглашения у всех."
    )


@pytest.mark.parametrize(
    ("n", "russian", "english"),
    [
        (1, "1 встреча", "1 cross-department meeting;"),
        (2, "2 встречи", "2 cross-department meetings;"),
        (5, "5 встреч", "5 cross-department meetings;"),
        (11, "11 встреч", "11 cross-department meetings;"),
        (21, "21 встреча", "21 cross-department meetings;"),
    ],
)
def test_the_meetings_of_mixer_now_take_the_plural_form_of_their_count(
    n: int, russian: str, english: str
) -> None:
    assert f"— {russian} между отделами" in t("ru", "mixer.now_done", n=n)
    assert f"out, {english}" in t("en", "mixer.now_done", n=n)


@pytest.mark.parametrize(
    ("person", "command", "answer"),
    [
        (BORIS, "/mixer now", "Простите"),
        (ALICE, "/mixer later", "Usage: /mixer shows this week's pairs"),
        (ALICE, "/mixer now please", "Usage: /mixer shows this week's pairs"),
    ],
)
async def test_mixer_now_from_someone_not_an_admin_or_written_wrong_runs_nothing(
    company: Telegram, db: Database, person: Person, command: str, answer: str
) -> None:
    Clock(company, WEDNESDAY)

    calls = await company.send(person, command)

    assert said(calls, person.id).startswith(answer)
    assert counts(intros, company.api) == each(0)
    assert await runs(db) == {}


# -- the reminder halfway through the round -----------------------------------------------------


async def press_we_met(tg: Telegram, person: Person) -> None:
    intro = intros(tg.api, person)[-1]
    met = next(data for _, data in Telegram.buttons(intro) if data.startswith("met:"))
    await tg.press(person, intro, met)


@both_databases()
async def test_halfway_to_the_next_mixer_those_who_have_not_met_get_one_reminder(
    company: Telegram, database_url: str
) -> None:
    clock = Clock(company, MONDAY)
    await clock.tick(MONDAY)
    boris_partner = next(p for p in PEOPLE if p.id == partner(intros(company.api, BORIS)[0]))
    await press_we_met(company, BORIS)

    await clock.tick(THURSDAY - timedelta(minutes=1))
    assert counts(reminders, company.api) == each(0)

    await clock.tick(THURSDAY)  # Monday 10:00 + 3 of the 7 days to the next mixer

    assert counts(reminders, company.api) == {
        "Alice": 1,
        "Boris": 0,  # he pressed "We met"
        "Carol": 1,
        "Dmitry": 1,
    }
    (english,) = reminders(company.api, boris_partner)
    assert english["text"].startswith(
        f'👋 A reminder about this week\'s mixer: you are meeting <a href="tg://user?id={BORIS.id}">'
    )
    assert "press “We met” below" in english["text"]
    (russian,) = reminders(company.api, DMITRY)
    assert russian["text"].startswith("👋 Напоминаю про миксер этой недели. С кем встречаетесь: ")
    assert "нажмите «Мы встретились» ниже" in russian["text"]
    assert [label for label, _ in Telegram.buttons(russian)] == [
        "🤝 Мы встретились",
        "📝 Добавить боль клиента",
    ]

    for later in (THURSDAY + timedelta(minutes=1), THURSDAY + timedelta(hours=6)):
        await clock.tick(later)
    async with running_bot(make_settings(database_url), database_url, company.api) as restarted:
        await tick(restarted, THURSDAY + timedelta(hours=7))

    assert counts(reminders, company.api) == {"Alice": 1, "Boris": 0, "Carol": 1, "Dmitry": 1}

    pressed = await company.press(
        boris_partner, english, Telegram.buttons(english)[0][1]
    )  # "We met" from under the reminder
    assert "You both met" in said(pressed)


async def test_nobody_who_pressed_we_met_is_reminded(company: Telegram) -> None:
    clock = Clock(company, MONDAY)
    await clock.tick(MONDAY)
    for person in PEOPLE:
        await press_we_met(company, person)

    await clock.tick(THURSDAY)
    await clock.tick(THURSDAY + timedelta(days=1))

    assert counts(reminders, company.api) == each(0)


async def test_a_round_run_by_hand_reminds_halfway_to_the_next_mixer(company: Telegram) -> None:
    clock = Clock(company, WEDNESDAY + timedelta(hours=5))  # Wednesday 14:00
    await company.send(ALICE, "/mixer now")  # the next mixer: Monday 14 Dec, 10:00

    await clock.tick(MONDAY + timedelta(days=4, hours=4) - timedelta(minutes=1))
    assert counts(reminders, company.api) == each(0)

    await clock.tick(MONDAY + timedelta(days=4, hours=4))  # Friday 14:00: two whole days on

    assert counts(reminders, company.api) == each(1)
    await clock.tick(MONDAY + WEEK)  # the next mixer; its own reminder is on Thursday
    assert counts(reminders, company.api) == each(1)
