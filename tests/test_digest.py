"""The weekly digest: what it counts, how it reads in both languages, its chart, the Friday
post in the company chat, and `truce digest --preview`.

One scenario, seeded through the services with a controlled clock, spans the digest's week
(Friday 6 March 17:00 to Friday 13 March 2026 17:00, Moscow) and the week before it. Every
expected figure below is worked out by hand from that scenario, next to the numbers it adds up.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from bot import chart
from bot.cli import upgrade
from bot.db import Database
from bot.domain.digest import CrossCounts, change
from bot.domain.goals import GoalSpec
from bot.domain.thanks import ThanksRules
from bot.handlers.rhythm import chart_titles, digest_text
from bot.jobs import digest_window, run_due
from bot.models import MixerRound, Transfer, utcnow
from bot.services import company, digest, directory, goals, mixer, shop, thanks, tokens
from bot.services.digest import Digest, Named
from bot.services.mixer import GroupView
from bot.services.schedule import MONTHLY
from tests.conftest import ADMIN, both_databases
from tests.fake_telegram import Telegram
from tests.test_cli import truce

MSK = ZoneInfo("Europe/Moscow")
RULES = ThanksRules(weekly_allowance=5, pair_daily_cap=3, cross_multiplier=2)
MIXER_REWARD = 10
DEPARTMENTS = ["Marketing", "Sales"]

ALICE = ADMIN.id  # Sales, the admin
BORIS = 2001  # Marketing
CAROL = 2002  # Sales
DMITRY = 2003  # Marketing
FEDOR = 2005  # Marketing
PEOPLE = [
    (ALICE, "Alice", "en", "sales"),
    (BORIS, "Борис", "ru", "marketing"),
    (CAROL, "Carol", "en", "sales"),
    (DMITRY, "Дмитрий", "ru", "marketing"),
    (FEDOR, "Фёдор", "ru", "marketing"),
]
NAMES = {"marketing": "Marketing", "sales": "Sales"}
NAMES_RU = {"marketing": "Маркетинг", "sales": "Продажи"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def msk(text: str) -> datetime:
    """A moment written as Moscow wall-clock time: `msk("2026-03-10 12:00")`."""
    return datetime.fromisoformat(text).replace(tzinfo=MSK)


START = msk("2026-03-06 17:00")  # the digest's week: [START, END)
END = msk("2026-03-13 17:00")  # Friday 17:00, when the digest is due


@dataclass(frozen=True)
class Scenario:
    unanswered: list[str]  # who left this week's mixer invitation unanswered, by name


def of_size(groups: list[GroupView], size: int) -> GroupView:
    (group,) = [g for g in groups if len(g.members) == size]
    return group


async def backdate(db: Database, key: str, when: datetime) -> None:
    """Move a transfer made by a service that takes no clock (a grant) to `when`."""
    async with db.transaction() as session:
        await session.execute(
            update(Transfer).where(Transfer.idempotency_key == key).values(created_at=when)
        )


async def seed(db: Database) -> Scenario:
    """Two weeks of a five-person company, and a little older history for the chart."""
    await directory.bootstrap(db, DEPARTMENTS, [ALICE])
    await shop.seed_rewards(db)
    for telegram_id, name, language, department in PEOPLE:
        await directory.register(
            db,
            telegram_id=telegram_id,
            first_name=name,
            username=None,
            language=language,
            department_code=department,
            admin_ids=[ALICE],
        )

    async def grant(target: str | int, amount: int, when: str) -> None:
        key = f"grant-{target}-{when}"
        await tokens.grant(
            db, actor_telegram_id=ALICE, target=target, amount=amount, reason="seed", key=key
        )
        await backdate(db, key, msk(when))

    async def thank(giver: int, receiver: int, amount: int, when: datetime) -> None:
        await thanks.give(
            db,
            giver_telegram_id=giver,
            receiver=receiver,
            amount=amount,
            reason="for the scenario",
            key=f"thanks-{giver}-{receiver}-{when.isoformat()}",
            rules=RULES,
            tz=MSK,
            now=when,
        )

    async def redeem(who: int, reward: str, asked: str, decided: str, approve: bool) -> None:
        asked_at = msk(asked)
        view = await shop.redeem(
            db,
            telegram_id=who,
            reward_ref=reward,
            key=f"{who}-{reward}-{asked}",
            tz=MSK,
            now=asked_at,
        )
        if view.status == "proposed":  # a department reward: a colleague backs it
            (department,) = [d for t, _, _, d in PEOPLE if t == who]
            backer = next(t for t, _, _, d in PEOPLE if d == department and t != who)
            await shop.back(db, actor_telegram_id=backer, redemption_id=view.id)
        await shop.settle(
            db, actor_telegram_id=ALICE, redemption_id=view.id, approve=approve, now=msk(decided)
        )

    async def meet(group: GroupView, when: str) -> None:
        for person in group.members:
            await mixer.confirm(
                db,
                telegram_id=person.telegram_id,
                group_id=group.id,
                reward=MIXER_REWARD,
                now=msk(when),
            )

    async def report(amount: int, when: str) -> None:
        await goals.report(
            db,
            actor_telegram_id=ALICE,
            code="leads",
            amount=amount,
            key=f"leads-{when}",
            tz=MSK,
            now=msk(when),
        )

    # Older history: one grant before the chart's eight weeks, one inside them.
    await grant(FEDOR, 11, "2026-01-10 12:00")
    await grant(FEDOR, 7, "2026-02-20 12:00")
    await goals.create(
        db,
        actor_telegram_id=ALICE,
        goal=GoalSpec("leads", "Approved leads", 10, "week", 15, True, None, None),
        tz=MSK,
    )

    # The week before: 27 February 17:00 .. 6 March 17:00.
    await grant(CAROL, 30, "2026-03-02 09:00")
    await grant(BORIS, 40, "2026-03-03 09:00")
    last_week = await mixer.plan_round(db, "2026-W10")
    await thank(BORIS, CAROL, 1, msk("2026-03-02 12:00"))  # across: Carol is paid 2
    await thank(DMITRY, FEDOR, 2, msk("2026-03-03 12:00"))  # within Marketing: paid 2
    await thank(CAROL, ALICE, 1, msk("2026-03-04 12:00"))  # within Sales: paid 1
    await report(4, "2026-03-03 15:00")  # last week's progress, not this week's
    await meet(of_size(last_week.groups, 2), "2026-03-04 15:00")
    await mixer.add_pain(
        db,
        telegram_id=of_size(last_week.groups, 2).members[0].telegram_id,
        group_id=of_size(last_week.groups, 2).id,
        text="Прайс непонятен клиентам",
    )
    await redeem(BORIS, "coffee", "2026-03-04 10:00", "2026-03-05 10:00", approve=True)
    # One second before the week starts, and at its very first moment.
    await thank(CAROL, ALICE, 1, msk("2026-03-06 16:59:59"))  # within Sales, last week
    await thank(FEDOR, ALICE, 1, START)  # across: Alice is paid 2, this week

    # This week: 6 March 17:00 .. 13 March 17:00.
    # Last week's trio meets on Saturday: its meeting belongs to this week.
    trio = of_size(last_week.groups, 3)
    await meet(trio, "2026-03-07 12:00")
    await mixer.add_pain(
        db,
        telegram_id=trio.members[0].telegram_id,
        group_id=trio.id,
        text="Clients ask for a discount before the demo",
    )
    await grant("sales", 100, "2026-03-09 09:00")
    this_week = await mixer.plan_round(db, "2026-W11")
    await meet(of_size(this_week.groups, 2), "2026-03-10 18:00")
    # In this week's trio only the Sales member answers; the two marketers never do.
    trio = of_size(this_week.groups, 3)
    await mixer.confirm(
        db,
        telegram_id=trio.members[0].telegram_id,
        group_id=trio.id,
        reward=MIXER_REWARD,
        now=msk("2026-03-12 09:00"),
    )
    await thank(BORIS, CAROL, 3, msk("2026-03-10 12:00"))  # across: paid 6
    await thank(BORIS, ALICE, 2, msk("2026-03-10 12:05"))  # across: paid 4
    await thank(DMITRY, CAROL, 2, msk("2026-03-11 10:00"))  # across: paid 4
    await thank(CAROL, BORIS, 1, msk("2026-03-11 11:00"))  # across: paid 2
    await thank(DMITRY, FEDOR, 1, msk("2026-03-12 09:00"))  # within Marketing: paid 1
    await thank(ALICE, CAROL, 2, msk("2026-03-12 10:00"))  # within Sales: paid 2
    await grant(DMITRY, 50, "2026-03-11 09:00")
    await redeem(CAROL, "pizza", "2026-03-10 10:00", "2026-03-11 10:00", approve=True)
    await redeem(BORIS, "coffee", "2026-03-09 11:00", "2026-03-10 11:00", approve=True)
    await redeem(CAROL, "coffee", "2026-03-11 11:00", "2026-03-12 11:00", approve=True)
    await redeem(DMITRY, "coffee", "2026-03-11 12:00", "2026-03-12 12:00", approve=False)
    await redeem(DMITRY, "charity", "2026-03-12 12:00", "2026-03-13 17:00", approve=True)
    await report(6, "2026-03-10 15:00")
    await report(7, "2026-03-12 15:00")  # 13 of 10: reached, each wallet earns 15
    # At the very moment the digest is due: already next week's.
    await thank(CAROL, DMITRY, 2, END)
    return Scenario(unanswered=sorted(p.first_name for p in trio.members[1:]))


async def weekly(db: Database, *, shame: bool = False) -> Digest:
    return await digest.compute(db, start=START, end=END, tz=MSK, shame=shame)


# -- what the digest counts -------------------------------------------------------------------


@both_databases()
async def test_the_scoreboard_has_each_departments_tokens_earned_this_week_and_per_head(
    db: Database,
) -> None:
    await seed(db)

    result = await weekly(db)

    # Sales: thanks paid 6 + 4 + 4 + 2 + 2 (Fedor's at START) = 18, meetings 10 (Saturday's trio)
    # + 10 (this week's pair) = 20, the wallet's grant 100, the goal 15: 153 for 2 people.
    # Marketing: thanks paid 2 + 1 = 3, meetings 20 + 10 = 30, Dmitry's grant 50, the goal 15:
    # 98 for 3 people. Redemptions move tokens between accounts and earn nothing.
    assert [(s.department.code, s.tokens, s.members) for s in result.scores] == [
        ("sales", 153, 2),
        ("marketing", 98, 3),
    ]
    assert [round(s.per_head, 2) for s in result.scores] == [76.5, 32.67]


@both_databases()
async def test_the_top_givers_and_receivers_are_this_weeks_three_biggest_with_their_amounts(
    db: Database,
) -> None:
    await seed(db)

    result = await weekly(db)

    # Given: Boris 3 + 2, Dmitry 2 + 1, Alice 2, then Carol 1 and Fedor 1.
    assert result.top_givers == [Named("Борис", 5), Named("Дмитрий", 3), Named("Alice", 2)]
    # Received, with the cross-department bonus: Carol 6 + 4 + 2, Alice 4 + 2, Boris 2, Fedor 1.
    assert result.top_receivers == [Named("Carol", 12), Named("Alice", 6), Named("Борис", 2)]


@both_databases()
async def test_rewards_approved_this_week_are_counted_by_reward_most_first(
    db: Database,
) -> None:
    await seed(db)

    result = await weekly(db)

    # Coffee: Boris and Carol this week (Boris's first one was approved last week, Dmitry's
    # was rejected); pizza: Carol's; charity was approved the moment the week ended.
    assert result.redemptions == [
        Named("Coffee break|Кофе-брейк", 2),
        Named("Pizza for the department|Пицца для отдела", 1),
    ]


@both_databases()
async def test_meetings_held_this_week_are_counted_with_the_client_pains_they_noted(
    db: Database,
) -> None:
    await seed(db)

    result = await weekly(db)

    # Last week's trio met on Saturday and this week's pair on Tuesday; last week's pair met
    # last week, and this week's trio never did.
    assert result.meetings == 2
    assert result.pains == ["Clients ask for a discount before the demo"]


@both_databases()
async def test_a_pain_noted_this_week_reaches_the_digest_though_the_meeting_is_unconfirmed(
    db: Database,
) -> None:
    await seed(db)
    this_week = await mixer.latest_round(db)
    assert this_week is not None and this_week.period == "2026-W11"
    async with db.transaction() as session:  # the round was made on Monday 9 March
        await session.execute(
            update(MixerRound)
            .where(MixerRound.id == this_week.id)
            .values(created_at=msk("2026-03-09 10:00"))
        )
    trio = of_size(this_week.groups, 3)
    await mixer.add_pain(
        db, telegram_id=trio.members[1].telegram_id, group_id=trio.id, text="Nobody reads the FAQ"
    )

    result = await weekly(db)

    assert result.meetings == 2  # the trio still did not meet
    assert result.pains == ["Clients ask for a discount before the demo", "Nobody reads the FAQ"]


@both_databases()
async def test_shared_goals_show_this_weeks_progress_and_how_often_they_were_reached(
    db: Database,
) -> None:
    await seed(db)

    result = await weekly(db)

    ((code, progress, target, reached),) = [
        (g.code, g.progress, g.target, g.times_reached) for g in result.goals
    ]
    assert (code, progress, target, reached) == ("leads", 6 + 7, 10, 1)


@both_databases()
async def test_the_cross_department_index_is_the_share_of_thanks_and_meetings_that_crossed(
    db: Database,
) -> None:
    await seed(db)

    result = await weekly(db)

    # This week: 7 thanks, 5 across (Boris twice, Dmitry to Carol, Carol to Boris, Fedor at
    # START); 2 meetings, both across. Last week: 4 thanks, 1 across; 1 meeting, across.
    assert (result.cross.thanks, result.cross.cross_thanks) == (7, 5)
    assert (result.cross.meetings, result.cross.cross_meetings) == (2, 2)
    assert result.cross.index == pytest.approx(7 / 9)
    assert (result.previous_cross.thanks, result.previous_cross.cross_thanks) == (4, 1)
    assert (result.previous_cross.meetings, result.previous_cross.cross_meetings) == (1, 1)
    assert result.previous_cross.index == pytest.approx(2 / 5)
    assert change(result.cross.index, result.previous_cross.index) == 37.8  # points: 77.8 - 40


@both_databases()
async def test_the_wall_of_shame_names_who_left_the_invitation_unanswered_only_when_enabled(
    db: Database,
) -> None:
    scenario = await seed(db)

    quiet = await weekly(db)
    loud = await weekly(db, shame=True)

    assert quiet.unanswered == []
    assert len(scenario.unanswered) == 2
    assert loud.unanswered == scenario.unanswered


@both_databases()
async def test_the_chart_has_eight_weeks_of_tokens_per_department_and_the_cross_index(
    db: Database,
) -> None:
    await seed(db)

    result = await weekly(db)

    assert result.chart_weeks == [END - timedelta(weeks=8 - i) for i in range(8)]
    assert result.chart_weeks[-1] == START
    # Fedor's 7 on 20 February 12:00 falls in the week of 13-20 February (before 17:00);
    # his 11 in January is older than eight weeks. Last week: Sales 30 (grant) + 2 + 1 + 1
    # (thanks) + 10 (meeting) = 44; Marketing 40 (grant) + 2 (thanks) + 10 (meeting) = 52.
    assert result.chart_tokens == {
        "marketing": [0, 0, 0, 0, 7, 0, 52, 98],
        "sales": [0, 0, 0, 0, 0, 0, 44, 153],
    }
    assert result.chart_index[:6] == [None] * 6
    # The same index as the text: thanks and meetings that crossed, of all thanks and meetings.
    assert result.chart_index[6] == pytest.approx(result.previous_cross.index)
    assert result.chart_index[6] == pytest.approx(2 / 5)
    assert result.chart_index[7] == pytest.approx(result.cross.index)
    assert result.chart_index[7] == pytest.approx(7 / 9)


@both_databases()
async def test_a_quiet_week_has_no_index_and_the_digest_says_so(db: Database) -> None:
    await seed(db)

    result = await digest.compute(
        db, start=END + timedelta(days=7), end=END + timedelta(days=14), tz=MSK
    )

    assert result.cross.index is None
    assert result.top_givers == [] and result.meetings == 0
    assert [s.tokens for s in result.scores] == [0, 0]
    text = digest_text("en", result, NAMES, monthly=False, tz=MSK)
    assert "Share of thanks and meetings across departments: no thanks or meetings yet." in text
    assert "Gave the most thanks" not in text


# -- how it reads -----------------------------------------------------------------------------


async def test_the_english_digest_carries_every_figure_of_the_week(db: Database) -> None:
    scenario = await seed(db)

    text = digest_text("en", await weekly(db, shame=True), NAMES, monthly=False, tz=MSK)

    lines = text.splitlines()
    assert lines[0] == "📰 <b>Truce digest</b>, 06.03–13.03"
    for line in [
        "  Sales: 153 tokens, 76.5 per head",
        "  Marketing: 98 tokens, 32.7 per head",
        "🙏 Gave the most thanks: Борис (5), Дмитрий (3), Alice (2)",
        "💐 Were thanked the most: Carol (12), Alice (6), Борис (2)",
        "🎁 Rewards approved: Coffee break ×2, Pizza for the department ×1",
        "🎯 Approved leads (leads): 13/10 this week, reached 1 time",
        "🤝 Mixer meetings held: 2",
        "  • Clients ask for a discount before the demo",
        "🌉 Share of thanks and meetings across departments: 78% (+37.8 points since last time)",
        "😅 Wall of shame — mixer invitations left unanswered: " + ", ".join(scenario.unanswered),
    ]:
        assert line in lines, line
    assert lines.index("  Sales: 153 tokens, 76.5 per head") < lines.index(
        "  Marketing: 98 tokens, 32.7 per head"
    )


async def test_the_russian_digest_carries_every_figure_of_the_week(db: Database) -> None:
    await seed(db)

    text = digest_text("ru", await weekly(db), NAMES_RU, monthly=False, tz=MSK)

    lines = text.splitlines()
    assert lines[0] == "📰 <b>Дайджест Truce</b>, 06.03–13.03"
    for line in [
        "  Продажи: 153 токена, 76,5 на человека",
        "  Маркетинг: 98 токенов, 32,7 на человека",
        "🙏 Больше всех благодарностей подарили: Борис (5), Дмитрий (3), Alice (2)",
        "💐 Больше всех благодарностей получили: Carol (12), Alice (6), Борис (2)",
        "🎁 Одобренные награды: Кофе-брейк ×2, Пицца для отдела ×1",
        "🎯 Approved leads (leads): 13/10 за неделю, достигнута 1 раз",
        "🤝 Встреч миксера: 2",
        "  • Clients ask for a discount before the demo",
        "🌉 Доля благодарностей и встреч между отделами: 78% (+37,8 п. п. к прошлому разу)",
    ]:
        assert line in lines, line
    assert not any(line.startswith("😅") for line in lines)  # the wall of shame is off


# -- the chart --------------------------------------------------------------------------------


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, which must come first."""
    assert png[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", png[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


async def test_the_chart_is_an_800_by_600_png_of_a_sensible_size(db: Database) -> None:
    await seed(db)
    result = await weekly(db)

    png = chart.render(
        result.chart_weeks, result.chart_tokens, NAMES, result.chart_index, chart_titles("en")
    )

    assert png.startswith(PNG_SIGNATURE)
    assert png_size(png) == (800, 600)
    assert 10_000 <= len(png) <= 1_000_000
    assert png.endswith(b"IEND\xaeB`\x82")


# -- the Friday post --------------------------------------------------------------------------


async def test_on_friday_at_five_the_digest_and_its_chart_are_posted_in_the_chat_once(
    tg: Telegram,
) -> None:
    db: Database = tg.app.bot_data["db"]
    await seed(db)
    chat = tg.group(-100500, "Truce HQ")
    await company.bind_chat(db, actor_telegram_id=ALICE, chat_id=chat["id"])
    context = tg.app.context_types.context(tg.app)

    await run_due(context, now=END)
    await run_due(context, now=END + timedelta(minutes=1))
    await run_due(context, now=END + timedelta(days=2))

    sent = [c for c in tg.api.calls if c.method in {"sendMessage", "sendPhoto"}]
    assert [(c.method, int(c.params["chat_id"])) for c in sent] == [
        ("sendMessage", chat["id"]),
        ("sendPhoto", chat["id"]),
    ]
    text = sent[0].params["text"]
    assert text.startswith("📰 <b>Дайджест Truce</b>, 06.03–13.03")
    assert "  Продажи: 153 токена, 76,5 на человека" in text
    assert "🤝 Встреч миксера: 2" in text


async def test_without_a_company_chat_the_digest_is_not_posted_anywhere(tg: Telegram) -> None:
    db: Database = tg.app.bot_data["db"]
    await seed(db)
    context = tg.app.context_types.context(tg.app)

    await run_due(context, now=END)

    assert not [c for c in tg.api.calls if c.method in {"sendMessage", "sendPhoto"}]


# -- the command line -------------------------------------------------------------------------


async def test_truce_digest_preview_prints_this_weeks_digest_and_writes_its_chart(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'truce.db'}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        await directory.bootstrap(db, DEPARTMENTS, [ALICE])
        for telegram_id, name, language, department in PEOPLE:
            await directory.register(
                db,
                telegram_id=telegram_id,
                first_name=name,
                username=None,
                language=language,
                department_code=department,
                admin_ids=[ALICE],
            )
        await thanks.give(
            db,
            giver_telegram_id=BORIS,
            receiver=CAROL,
            amount=2,
            reason="the demo",
            key="cli",
            rules=RULES,
            tz=MSK,
            now=utcnow() - timedelta(hours=1),
        )
    finally:
        await db.dispose()
    chart_path = tmp_path / "d.png"

    result = await asyncio.to_thread(
        truce, tmp_path, "digest", "--preview", "--chart", str(chart_path), DATABASE_URL=url
    )

    assert result.returncode == 0, result.stderr
    today = datetime.now(UTC).astimezone(MSK).strftime("%d.%m")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("📰 <b>Дайджест Truce</b>,")
    assert lines[0].endswith(f"–{today}")
    assert "  Продажи: 4 токена, 2,0 на человека" in lines
    assert "🙏 Больше всех благодарностей подарили: Борис (2)" in lines
    assert "💐 Больше всех благодарностей получили: Carol (4)" in lines
    png = chart_path.read_bytes()
    assert png_size(png) == (800, 600)
    assert 10_000 <= len(png) <= 1_000_000


def test_the_monthly_digest_compares_a_calendar_month_with_the_one_before() -> None:
    due = datetime(2026, 3, 1, 10, 0, tzinfo=MSK)

    previous_start, start, end = digest_window(MONTHLY, due, MSK)

    assert (previous_start, start, end) == (
        datetime(2026, 1, 1, tzinfo=MSK),
        datetime(2026, 2, 1, tzinfo=MSK),
        datetime(2026, 3, 1, tzinfo=MSK),
    )


def test_a_digest_with_many_long_pains_still_fits_in_one_telegram_message() -> None:
    long_pains = [f"{n} " + "a client pain told at length " * 10 for n in range(40)]
    empty = Digest(
        start=START,
        end=END,
        scores=[],
        top_givers=[Named("N" * 64, 5)] * 3,
        top_receivers=[Named("R" * 64, 5)] * 3,
        redemptions=[],
        goals=[],
        meetings=40,
        pains=long_pains,
        cross=CrossCounts(10, 5, 40, 40),
        previous_cross=CrossCounts(0, 0, 0, 0),
        unanswered=["U" * 64] * 5,
        chart_weeks=[],
        chart_tokens={},
        chart_index=[],
    )

    text = digest_text("ru", empty, NAMES, monthly=False, tz=MSK)

    assert len(text) <= 4096
    assert long_pains[0].strip() in text
