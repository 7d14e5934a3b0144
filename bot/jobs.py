"""Scheduled work, registered with PTB's JobQueue at start-up.

A tick every minute looks at each schedule: a post whose time has come is claimed for its
period (a unique row, so it happens at most once per period, across restarts and across two
bots on one database), sent, and marked done. A post missed while the bot was down is sent
when it comes back if it is still within the grace window, and skipped with a log line if not.
A skipped period is not closed: a slot an admin sets later in it, or `/mixer now`, still runs it.

Halfway to the next mixer (see `domain.mixer.reminder_at`) the people of the round who have
not pressed "We met" get one reminder; it is a run of its own per round, claimed like the others,
so it goes out once across restarts and bots.

Each message of a run is claimed before it is sent and settled ('sent' or 'failed') as soon as
Telegram answers. A run cut off by a crash is resumed by the next tick that holds the job's
lock (see `schedule.exclusive`): it skips the settled messages and sends the claimed ones
again. So everyone gets their message, and what can arrive twice is at most the messages in
flight when the process died: one for a chat post, `SEND_CONCURRENCY` for the mixer's intros.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from telegram import InputFile
from telegram.error import RetryAfter, TelegramError
from telegram.ext import Application
from telegram.warnings import PTBDeprecationWarning

from bot import chart, keyboards
from bot.domain.mixer import reminder_at
from bot.domain.schedule import next_due, period_of, still_worth_sending, weekly_period
from bot.handlers.common import TruceContext
from bot.handlers.rhythm import (
    RUN_NOW,
    chart_titles,
    department_names,
    digest_text,
    intro_text,
    reminder_text,
)
from bot.handlers.shop import show_outcome, tell_department, tell_requester
from bot.i18n import t
from bot.services import company, digest, mixer, schedule, shop

log = logging.getLogger(__name__)
# Intros sent at once. Also the most that a crash can make arrive twice: each one is between
# its claim and its settling only while it holds one of these places.
SEND_CONCURRENCY = 10
MAX_ATTEMPTS = 5


async def expire_redemptions(context: TruceContext) -> None:
    """Void and refund redemptions left pending longer than the configured limit."""
    expired = await shop.expire_stale(
        context.db, older_than=timedelta(days=context.settings.redemption_expiry_days)
    )
    for redemption in expired:
        await show_outcome(context, redemption)
        await tell_requester(context, redemption)
        await tell_department(context, redemption)
    if expired:
        log.info("expired %s pending redemptions", len(expired))


async def send_once(
    context: TruceContext, run: schedule.Run, recipient: int, send: Callable[[], Awaitable[Any]]
) -> bool:
    """Send one message of a run unless Telegram has answered for it already (in this run or
    before a crash); keep going after RetryAfter, and settle it the moment Telegram answers."""
    if not await schedule.claim_delivery(context.db, run.id, recipient):
        return False
    ok = False
    for _ in range(MAX_ATTEMPTS):
        try:
            await send()
            ok = True
            break
        except RetryAfter as exc:
            with warnings.catch_warnings():
                # PTB 22 warns that retry_after will become a timedelta; both are handled.
                warnings.simplefilter("ignore", PTBDeprecationWarning)
                delay = exc.retry_after
            seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
            await asyncio.sleep(seconds)
        except TelegramError as exc:
            log.info("run %s: could not send to %s: %s", run.id, recipient, exc)
            break
    await schedule.delivered(context.db, run.id, recipient, ok)
    return ok


async def run_mixer(context: TruceContext, run: schedule.Run, due: datetime, tz: ZoneInfo) -> None:
    """Pair people, tell each their partner, and tell the company chat the week's topic."""
    view = await mixer.plan_round(context.db, run.period)
    bot, language = context.bot, context.company_lang
    chat_id = await company.company_chat(context.db)
    if chat_id is not None and view.groups:
        text = t(
            language,
            "mixer.announce",
            n=len(view.groups),
            topic=t(language, f"mixer.topic.{view.topic}"),
        )
        await send_once(context, run, chat_id, lambda: bot.send_message(chat_id, text))
    gate = asyncio.Semaphore(SEND_CONCURRENCY)
    done = await schedule.settled(context.db, run.id)

    async def intro(person: Any, group: mixer.GroupView | None) -> None:
        if person.telegram_id in done:
            return
        lang = person.language
        if group is None:
            text, markup = t(lang, "mixer.no_partner"), None
        else:
            text = intro_text(lang, group, person.telegram_id)
            markup = keyboards.mixer_intro(lang, group.id)
        async with gate:
            await send_once(
                context,
                run,
                person.telegram_id,
                lambda: bot.send_message(
                    person.telegram_id, text, parse_mode="HTML", reply_markup=markup
                ),
            )

    await asyncio.gather(
        *(intro(p, g) for g in view.groups for p in g.members),
        *(intro(p, None) for p in view.waiting),
    )
    log.info("mixer %s: %s groups, %s waiting", run.period, len(view.groups), len(view.waiting))


def digest_window(job: str, due: datetime, tz: ZoneInfo) -> tuple[datetime, datetime, datetime]:
    """(previous start, start, end): the weekly digest looks back 7 days and compares them with
    the 7 before; the monthly one looks at the previous calendar month and the one before it."""
    if job == schedule.MONTHLY:
        end = due.astimezone(tz).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        start = (end - timedelta(days=1)).replace(day=1)
        return (start - timedelta(days=1)).replace(day=1), start, end
    return due - timedelta(days=14), due - timedelta(days=7), due


async def run_digest(context: TruceContext, run: schedule.Run, due: datetime, tz: ZoneInfo) -> None:
    """Post the digest and its chart in the company chat."""
    chat_id = await company.company_chat(context.db)
    if chat_id is None:
        log.info("digest %s: no company chat yet (/setup_chat); not posted", run.period)
        return
    previous_start, start, end = digest_window(run.job, due, tz)
    data = await digest.compute(
        context.db,
        start=start,
        end=end,
        tz=tz,
        shame=await company.wall_of_shame(context.db),
        previous_start=previous_start,
    )
    language = context.company_lang
    names = await department_names(context, language)
    text = digest_text(language, data, names, monthly=run.job == schedule.MONTHLY, tz=tz)
    png = chart.render(
        data.chart_weeks, data.chart_tokens, names, data.chart_index, chart_titles(language)
    )

    text_sent = False

    async def post() -> None:
        # send_once repeats this after a flood wait: the text must not go out a second time
        # when it was the chart that had to wait.
        nonlocal text_sent
        if not text_sent:
            await context.bot.send_message(chat_id, text, parse_mode="HTML")
            text_sent = True
        await context.bot.send_photo(chat_id, InputFile(png, filename="digest.png"))

    await send_once(context, run, chat_id, post)


async def run_reminder(
    context: TruceContext, run: schedule.Run, due: datetime, tz: ZoneInfo
) -> None:
    """Remind each person of the round who has not pressed "We met", once, in their language."""
    gate = asyncio.Semaphore(SEND_CONCURRENCY)
    done = await schedule.settled(context.db, run.id)
    bot = context.bot

    async def remind(person: Any, group: mixer.GroupView) -> None:
        if person.telegram_id in done:
            return
        text = reminder_text(person.language, group, person.telegram_id)
        markup = keyboards.mixer_intro(person.language, group.id)
        async with gate:
            await send_once(
                context,
                run,
                person.telegram_id,
                lambda: bot.send_message(
                    person.telegram_id, text, parse_mode="HTML", reply_markup=markup
                ),
            )

    people = await mixer.unconfirmed(context.db, run.period)
    await asyncio.gather(*(remind(person, group) for person, group in people))
    log.info("mixer %s: reminded %s people who have not met yet", run.period, len(people))


RUNNERS = {
    schedule.MIXER: run_mixer,
    schedule.DIGEST: run_digest,
    schedule.MONTHLY: run_digest,
    schedule.REMINDER: run_reminder,
}


async def _run(
    context: TruceContext,
    job: str,
    period: str,
    due: datetime,
    tz: ZoneInfo,
    *,
    late: bool,
    now: datetime,
) -> Literal["ran", "already", "busy"]:
    """Claim the period's run of `job`, run it and mark it done; the one way every post goes."""
    db = context.db
    async with schedule.exclusive(db, job) as held:
        if not held:
            return "busy"  # another bot on this database is running it right now
        run = await schedule.claim(db, job, period, due, late=late, now=now)
        if run is None:
            return "already"
        log.info("%s %s: %s", job, period, "resuming" if run.resumed else "starting")
        await RUNNERS[job](context, run, due, tz)
        await schedule.finish(db, run.id)
        return "ran"


async def remind_unmet(
    context: TruceContext, plan: schedule.Plan, now: datetime, tz: ZoneInfo, grace: timedelta
) -> None:
    """Send the latest round's reminder once its moment has come, if the round is still on."""
    latest = await schedule.latest_done(context.db, schedule.MIXER)
    if latest is None:
        return
    period, round_at = latest
    following = next_due(plan.slot, False, round_at, tz)
    if period_of(following, False, tz) == period:  # that week's slot has had its mixer
        following = next_due(plan.slot, False, following, tz)
    due = reminder_at(round_at, following, tz)
    if due is None or now < due or now >= following:
        return
    late = not still_worth_sending(due, now, grace)
    await _run(context, schedule.REMINDER, period, due, tz, late=late, now=now)


async def run_due(context: TruceContext, now: datetime | None = None) -> None:
    """Run every scheduled post whose time has come and whose period has not had it yet."""
    now = now or datetime.now(UTC)
    db = context.db
    tz = await schedule.timezone(db, context.settings.timezone)
    context.application.bot_data["tz"] = tz  # another instance may have changed it
    grace = timedelta(hours=context.settings.schedule_grace_hours)
    plans = await schedule.plans(db)
    for job, plan in plans.items():
        due = plan.due(now, tz)
        if due is None:
            continue  # off, or its last moment had passed when an admin set it
        late = not still_worth_sending(due, now, grace)
        await _run(context, job, period_of(due, plan.monthly, tz), due, tz, late=late, now=now)
    await remind_unmet(context, plans[schedule.MIXER], now, tz, grace)


async def run_now(
    context: TruceContext, job: str, now: datetime
) -> Literal["ran", "already", "busy"]:
    """`/mixer now`: this week's run of `job` at once, unless it has run; the scheduled slot
    later that week then finds the period done."""
    tz = await schedule.timezone(context.db, context.settings.timezone)
    return await _run(context, job, weekly_period(now, tz), now, tz, late=False, now=now)


async def tick(context: TruceContext) -> None:
    """The scheduler's heartbeat."""
    await run_due(context)


def schedule_jobs(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    assert app.job_queue is not None
    tz = app.bot_data["settings"].tz
    app.job_queue.run_daily(expire_redemptions, time(hour=3, tzinfo=tz), name="expire")
    # Once shortly after start too, so a bot that was down at 03:00 still catches up.
    app.job_queue.run_once(expire_redemptions, 60, name="expire-at-start")
    app.job_queue.run_repeating(tick, interval=60, first=5, name="schedule")
    # Handlers may not import this module; /mixer now finds the scheduler's own run here.
    app.bot_data[RUN_NOW] = run_now
