"""The weekly rhythm on the clock: the mixer and the digest go out once per period, survive
restarts and a second bot on the same database, catch up after short downtime, and keep to
Telegram's limits.

Every test drives the real scheduler tick, `run_due`, with a clock of its own: no waiting.
The default schedule is the mixer on Monday 10:00 and the digest on Friday 17:00, Moscow time.
"""

from __future__ import annotations

import asyncio
import re
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.db import Database
from bot.domain.mixer import topic_for
from bot.i18n import t
from bot.models import Delivery, ScheduledRun
from bot.services import mixer
from tests.fake_telegram import ApiError, FakeBotApi, Person, Telegram
from tests.helpers import (
    ALICE,
    BORIS,
    CAROL,
    CHAT,
    DEPARTMENT,
    DMITRY,
    MONDAY,
    MSK,
    PEOPLE,
    WEEK,
    make_settings,
    register,
    running_bot,
    tick,
)

FRIDAY = datetime(2026, 3, 6, 17, 0, tzinfo=UTC) - MSK  # the digest of that week, 17:00

only_postgresql = pytest.mark.parametrize(
    "empty_database_url", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True
)


@pytest.fixture
async def company(staff: Telegram) -> Telegram:
    """Four people in two departments, and the company chat bound by the admin."""
    answer = await staff.send(ALICE, "/setup_chat", chat=staff.group(CHAT))
    assert "теперь общий чат компании" in answer[0]["text"]  # the company language
    return staff


def another_bot(
    database_url: str, api: FakeBotApi, *, rate_limit: bool = True
) -> AbstractAsyncContextManager[Telegram]:
    """A second bot process on the same database, talking to the same Telegram."""
    return running_bot(make_settings(database_url), database_url, api, rate_limit=rate_limit)


def intros(api: FakeBotApi, person: Person) -> list[dict[str, Any]]:
    """The mixer invitations a person has received."""
    return [m for m in api.sent(person.id) if m["text"].startswith("☕")]


def announcements(api: FakeBotApi) -> list[str]:
    return [m["text"] for m in api.sent(CHAT) if m.get("text", "").startswith("☕")]


def digests(api: FakeBotApi) -> tuple[int, int]:
    """How many digest texts and how many chart images the company chat has got."""
    sent = api.sent(CHAT)
    return (
        sum(1 for m in sent if m.get("text", "").startswith("📰")),
        sum(1 for m in sent if "photo" in m),
    )


def partner(intro: dict[str, Any]) -> int:
    """The Telegram id of the person an intro introduces."""
    (found,) = re.findall(r"tg://user\?id=(\d+)", intro["text"])
    return int(found)


def intro_counts(api: FakeBotApi, people: tuple[Person, ...] = PEOPLE) -> dict[str, int]:
    """How many mixer invitations each person has received, by first name."""
    return {person.first_name: len(intros(api, person)) for person in people}


def each(count: int, people: tuple[Person, ...] = PEOPLE) -> dict[str, int]:
    return {person.first_name: count for person in people}


# -- the mixer goes out on time --------------------------------------------------------------


async def test_the_mixer_goes_out_on_monday_at_ten_moscow_time_to_every_pair_and_the_chat(
    company: Telegram,
) -> None:
    await tick(company, MONDAY - timedelta(minutes=1))
    assert intro_counts(company.api) == each(0)
    assert announcements(company.api) == []

    await tick(company, MONDAY)

    assert intro_counts(company.api) == each(1)
    for person in PEOPLE:
        (intro,) = intros(company.api, person)
        other = next(p for p in PEOPLE if p.id == partner(intro))
        assert DEPARTMENT[other] != DEPARTMENT[person]  # a marketer meets a seller
        assert partner(intros(company.api, other)[0]) == person.id  # and the other way round
        assert f">{other.first_name}</a> (@{other.username})" in intro["text"]
        buttons = Telegram.buttons(intro)
        group = buttons[0][1].split(":")[1]
        if person.language_code == "ru":
            assert intro["text"].startswith("☕ Миксер этой недели: познакомьтесь")
            assert buttons == [
                ("🤝 Мы встретились", f"met:{group}"),
                ("📝 Добавить боль клиента", f"pain:{group}"),
            ]
        else:
            assert intro["text"].startswith("☕ This week's mixer: meet")
            assert buttons == [
                ("🤝 We met", f"met:{group}"),
                ("📝 Add the client pain", f"pain:{group}"),
            ]
    topic = t("ru", f"mixer.topic.{topic_for('2026-W10')}")
    assert announcements(company.api) == [
        f"☕ Миксер начался: на этой неделе 2 встречи между отделами. Тема недели: {topic}"
    ]


async def test_later_ticks_that_week_send_the_mixer_nothing_more(company: Telegram) -> None:
    await tick(company, MONDAY)

    for later in (
        MONDAY,
        MONDAY + timedelta(minutes=1),
        MONDAY + timedelta(hours=5),
        MONDAY + timedelta(days=2),
        MONDAY + timedelta(days=6, hours=13, minutes=59),  # Sunday 23:59
        MONDAY + WEEK - timedelta(minutes=1),  # a minute before next week's mixer
    ):
        await tick(company, later)

    assert intro_counts(company.api) == each(1)
    assert len(announcements(company.api)) == 1

    await tick(company, MONDAY + WEEK)  # next week's mixer is a new one

    assert intro_counts(company.api) == each(2)
    assert len(announcements(company.api)) == 2


async def test_a_restarted_bot_does_not_send_the_weeks_mixer_again(
    company: Telegram, database_url: str
) -> None:
    await tick(company, MONDAY)
    await company.app.shutdown()
    assert company.app.post_shutdown is not None
    await company.app.post_shutdown(company.app)

    async with another_bot(database_url, company.api) as restarted:
        await tick(restarted, MONDAY + timedelta(minutes=3))
        await tick(restarted, MONDAY + timedelta(days=3))

    assert intro_counts(company.api) == each(1)
    assert len(announcements(company.api)) == 1


# -- catching up after downtime --------------------------------------------------------------


async def test_a_digest_missed_during_three_hours_of_downtime_is_posted_once_on_return(
    company: Telegram,
) -> None:
    await tick(company, FRIDAY + timedelta(hours=3))  # the bot's first tick: Friday 20:00

    assert digests(company.api) == (1, 1)  # the digest and its chart
    text = company.api.sent(CHAT)[-2]["text"]
    assert text.startswith("📰 <b>Дайджест Truce</b>, 27.02–06.03")

    await tick(company, FRIDAY + timedelta(hours=3, minutes=1))
    await tick(company, FRIDAY + timedelta(days=1))

    assert digests(company.api) == (1, 1)
    # The mixer of that Monday was four days late by then: it is not sent at all.
    assert intro_counts(company.api) == each(0)


async def test_a_digest_missed_by_two_days_is_not_posted_then_or_later(company: Telegram) -> None:
    await tick(company, FRIDAY + timedelta(days=2))  # back on Sunday 17:00
    await tick(company, FRIDAY + timedelta(days=2, minutes=1))
    await tick(company, FRIDAY + timedelta(days=6))

    assert digests(company.api) == (0, 0)

    await tick(company, FRIDAY + WEEK)  # the next Friday's digest is on time

    assert digests(company.api) == (1, 1)


# -- more than one bot, Telegram's limits, interruptions -------------------------------------


@only_postgresql
async def test_two_bots_on_one_postgresql_database_send_the_mixer_and_the_digest_once(
    company: Telegram, database_url: str
) -> None:
    # The command's clock is the ticks' (a slot is not run at a moment past when it was set).
    company.app.bot_data["clock"] = lambda: MONDAY - timedelta(days=1)
    await company.send(ALICE, "/schedule digest mon 10:00")  # both posts due at the same moment

    async with another_bot(database_url, company.api) as second:
        await asyncio.gather(tick(company, MONDAY), tick(second, MONDAY))
        await asyncio.gather(
            tick(company, MONDAY + timedelta(minutes=1)),
            tick(second, MONDAY + timedelta(minutes=1)),
        )

    assert intro_counts(company.api) == each(1)
    assert len(announcements(company.api)) == 1
    assert digests(company.api) == (1, 1)


async def test_a_broadcast_that_meets_a_flood_wait_half_way_still_gives_everyone_one_intro(
    company: Telegram,
) -> None:
    company.api.retry_after[CAROL.id] = 1  # Telegram answers "retry after 1 s" to Carol once

    await tick(company, MONDAY)

    assert company.api.flood_errors == 1
    tries = [
        call
        for call in company.api.calls_to("sendMessage")
        if int(call.params["chat_id"]) == CAROL.id and call.params["text"].startswith("☕")
    ]
    assert len(tries) == 2  # the refused attempt, then the message
    assert intro_counts(company.api) == each(1)
    assert len(announcements(company.api)) == 1


async def test_a_flood_wait_on_the_digest_chart_does_not_post_the_digest_text_twice(
    company: Telegram, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused: list[dict[str, Any]] = []
    send_photo = FakeBotApi._sendPhoto

    def flood_once(api: FakeBotApi, params: dict[str, Any]) -> dict[str, Any]:
        if not refused:
            refused.append(params)
            raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        return send_photo(api, params)

    monkeypatch.setattr(FakeBotApi, "_sendPhoto", flood_once)
    # Without PTB's rate limiter in between (it retries a few times itself before giving up),
    # the flood wait reaches the scheduler's own retry at once.
    async with another_bot(database_url, company.api, rate_limit=False) as bot:
        await tick(bot, FRIDAY)

    assert len(refused) == 1
    assert digests(company.api) == (1, 1)


async def test_a_mixer_run_cut_off_half_way_resumes_and_sends_the_intro_that_was_in_flight(
    company: Telegram, db: Database
) -> None:
    """The state a crash leaves: the round planned, the chat's announcement and Alice's intro
    sent, Boris's claimed but cut off before Telegram answered, the run still running."""
    view = await mixer.plan_round(db, "2026-W10")
    first_pair = {p.telegram_id for p in view.groups[0].members}
    assert first_pair == {ALICE.id, BORIS.id}
    async with db.transaction() as session:
        run = ScheduledRun(job="mixer", period="2026-W10", due_at=MONDAY, status="running")
        session.add(run)
        await session.flush()
        session.add_all(
            [
                Delivery(run_id=run.id, recipient=CHAT, status="sent"),
                Delivery(run_id=run.id, recipient=ALICE.id, status="sent"),
                Delivery(run_id=run.id, recipient=BORIS.id, status="claimed"),
            ]
        )

    await tick(company, MONDAY + timedelta(minutes=20))  # the bot is back

    assert intros(company.api, ALICE) == []  # hers had gone out before the crash
    assert announcements(company.api) == []  # and so had the chat's
    assert intro_counts(company.api, (BORIS, CAROL, DMITRY)) == each(1, (BORIS, CAROL, DMITRY))
    assert partner(intros(company.api, BORIS)[0]) == ALICE.id  # the round planned before
    assert partner(intros(company.api, CAROL)[0]) == DMITRY.id
    async with db.read() as session:
        status = await session.scalar(
            select(ScheduledRun.status).where(ScheduledRun.period == "2026-W10")
        )
        left = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status == "claimed")
        )
    assert status == "done"
    assert left == 0

    await tick(company, MONDAY + timedelta(minutes=21))

    assert intro_counts(company.api, (BORIS, CAROL, DMITRY)) == each(1, (BORIS, CAROL, DMITRY))
    assert intros(company.api, ALICE) == []


async def test_a_digest_cut_off_before_telegram_answered_is_posted_when_the_bot_is_back(
    company: Telegram, db: Database
) -> None:
    async with db.transaction() as session:
        run = ScheduledRun(job="digest", period="2026-W10", due_at=FRIDAY, status="running")
        session.add(run)
        await session.flush()
        session.add(Delivery(run_id=run.id, recipient=CHAT, status="claimed"))

    await tick(company, FRIDAY + timedelta(minutes=10))
    await tick(company, FRIDAY + timedelta(minutes=11))

    assert digests(company.api) == (1, 1)


@pytest.mark.parametrize("api", [30], indirect=True)  # Telegram's broadcast limit
async def test_sixty_people_get_their_intros_within_telegrams_rate_limit(
    company: Telegram, db: Database
) -> None:
    crowd = [Person(5000 + i, f"Person{i}", f"person{i}", "en") for i in range(56)]
    for i, person in enumerate(crowd):
        company.private_chat(person)
        await register(db, person, "marketing" if i % 2 else "sales", [])
    everyone = (*PEOPLE, *crowd)
    assert len(everyone) == 60

    await tick(company, MONDAY)

    assert company.api.flood_errors == 0
    assert intro_counts(company.api, everyone) == each(1, everyone)
    (announcement,) = announcements(company.api)
    assert "на этой неделе 30 встреч между отделами" in announcement


async def test_people_on_pause_are_left_out_of_the_mixer_until_they_come_back(
    company: Telegram,
) -> None:
    paused = await company.send(BORIS, "/pause")
    assert "Вы на паузе" in paused[0]["text"]

    await tick(company, MONDAY)

    assert intros(company.api, BORIS) == []
    assert intro_counts(company.api, (ALICE, CAROL, DMITRY)) == each(1, (ALICE, CAROL, DMITRY))
    (dmitry,) = intros(company.api, DMITRY)
    assert "Alice" in dmitry["text"] and "Carol" in dmitry["text"]  # the only marketer: a trio
    assert "Boris" not in (await company.send(ALICE, "/mixer"))[0]["text"]

    back = await company.send(BORIS, "/pause off")
    assert "С возвращением" in back[0]["text"]
    await tick(company, MONDAY + WEEK)

    assert intro_counts(company.api) == {"Alice": 2, "Boris": 1, "Carol": 2, "Dmitry": 2}
