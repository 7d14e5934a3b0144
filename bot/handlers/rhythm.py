"""The company chat and the weekly rhythm: /setup_chat, /schedule, /pause, /mixer, "We met",
the client pain, and how a digest reads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal
from telegram import ForceReply, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import ConversationHandler

from bot import keyboards
from bot.domain.digest import change
from bot.domain.errors import GroupChatOnly, UsageError
from bot.domain.roles import Role
from bot.domain.schedule import DAY_NAMES, Slot, parse_day, parse_time, parse_timezone
from bot.handlers.common import TruceContext, escape, notify, reply
from bot.handlers.goals import goal_line
from bot.i18n import department_name, t, tokens
from bot.services import company, directory, mixer, schedule
from bot.services.digest import Digest
from bot.services.mixer import GroupView

WAITING_FOR_PAIN = 1
MAX_PAINS = 8  # client pains shown in a digest
MESSAGE_LIMIT = 4096
JOBS = {"mixer": schedule.MIXER, "digest": schedule.DIGEST, "monthly": schedule.MONTHLY}
# Where bot.jobs leaves its `run_now` for /mixer now (handlers may not import the jobs).
RUN_NOW = "run_now"
RunNow = Callable[[TruceContext, str, datetime], Awaitable[Literal["ran", "already", "busy"]]]


def now(context: TruceContext) -> datetime:
    """The moment the rhythm's commands take as now: the real one, or a clock of the test's
    own put in `bot_data["clock"]`, so that commands and scheduler ticks share one time."""
    clock: Callable[[], datetime] | None = context.application.bot_data.get("clock")
    return clock() if clock is not None else datetime.now(UTC)


def when_text(language: str, moment: datetime, tz: ZoneInfo) -> str:
    """A post's moment in the company's timezone: `Wed 9 Dec at 09:43`, or in Russian
    `в среду, 9 декабря, в 09:43`."""
    local = moment.astimezone(tz)
    return t(
        language,
        "schedule.when",
        day=t(language, f"day.on.{DAY_NAMES[local.weekday()]}"),
        date=format_date(local, t(language, "schedule.date_pattern"), locale=language),
        time=local.strftime("%H:%M"),
    )


async def setup_chat(update: Update, context: TruceContext) -> None:
    """An admin, in a group: make it the company chat, if the bot may post there."""
    actor = context.require(Role.ADMIN)
    chat = update.effective_chat
    assert chat is not None
    if chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        raise GroupChatOnly()
    member = await context.bot.get_chat_member(chat.id, context.bot.id)
    can_post = member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER) or (
        member.status == ChatMemberStatus.RESTRICTED and getattr(member, "can_send_messages", False)
    )
    if not can_post:
        # An answer in the group could not be posted either: tell the admin in private.
        # In private, in the admin's own language rather than the company chat's.
        text = t(actor.language, "chat.cannot_post", title=escape(chat.title or ""))
        await notify(context, actor, text)
        return
    await company.bind_chat(context.db, actor_telegram_id=actor.telegram_id, chat_id=chat.id)
    await reply(update, context, "chat.bound", title=escape(chat.title or ""))


def _plan_line(
    language: str,
    plan: schedule.Plan,
    next_post: datetime | None = None,
    tz: ZoneInfo | None = None,
) -> str:
    day = t(language, f"day.{DAY_NAMES[plan.slot.weekday]}")
    time = f"{plan.slot.minute // 60:02d}:{plan.slot.minute % 60:02d}"
    state = t(language, "schedule.on" if plan.enabled else "schedule.off")
    key = "schedule.line_monthly" if plan.job == schedule.MONTHLY else "schedule.line"
    line = t(
        language, key, job=t(language, f"schedule.job.{plan.job}"), day=day, time=time, state=state
    )
    if next_post is None or tz is None:
        return line
    return t(language, "schedule.line_next", line=line, when=when_text(language, next_post, tz))


async def _next_posts(context: TruceContext, tz: ZoneInfo) -> dict[str, datetime | None]:
    grace = timedelta(hours=context.settings.schedule_grace_hours)
    return await schedule.next_posts(context.db, now(context), tz, grace)


async def manage_schedule(update: Update, context: TruceContext) -> None:
    """Admins: `/schedule`, `/schedule mixer mon 10:00`, `/schedule monthly on`,
    `/schedule timezone Europe/Berlin`, `/schedule shame on`."""
    actor = context.require(Role.ADMIN)
    args = [a.lower() for a in context.args or []]
    db, who = context.db, actor.telegram_id
    if not args:
        plans = await schedule.plans(db)
        tz = await schedule.timezone(db, context.settings.timezone)
        upcoming = await _next_posts(context, tz)
        shame = await company.wall_of_shame(db)
        lines = [context.t("schedule.title", timezone=str(tz))]
        lines += [_plan_line(context.lang, plan, upcoming[job], tz) for job, plan in plans.items()]
        lines.append(context.t("schedule.shame_on" if shame else "schedule.shame_off"))
        lines += ["", context.t("usage.schedule")]
        assert update.effective_message is not None
        await update.effective_message.reply_text("\n".join(lines))
        return
    what = args[0]
    if what == "timezone" and len(args) == 2:
        name = parse_timezone(context.args[1])  # type: ignore[index]
        await schedule.set_timezone(db, actor_telegram_id=who, name=name)
        context.application.bot_data["tz"] = ZoneInfo(name)
        await reply(update, context, "schedule.timezone_set", timezone=escape(name))
        return
    if what == "shame" and len(args) == 2 and args[1] in {"on", "off"}:
        await company.set_wall_of_shame(db, actor_telegram_id=who, on=args[1] == "on")
        await reply(
            update,
            context,
            "schedule.saved",
            line=context.t("schedule.shame_on" if args[1] == "on" else "schedule.shame_off"),
        )
        return
    if what not in JOBS:
        raise UsageError(usage="usage.schedule")
    job = JOBS[what]
    moment = now(context)
    if len(args) == 2 and args[1] in {"on", "off"}:
        plan = await schedule.change(
            db, actor_telegram_id=who, job=job, enabled=args[1] == "on", now=moment
        )
    elif job == schedule.MONTHLY and len(args) == 2:
        plan = await schedule.change(
            db, actor_telegram_id=who, job=job, slot=Slot(0, parse_time(args[1])), now=moment
        )
    elif job != schedule.MONTHLY and len(args) == 3:
        slot = Slot(parse_day(args[1]), parse_time(args[2]))
        plan = await schedule.change(db, actor_telegram_id=who, job=job, slot=slot, now=moment)
    else:
        raise UsageError(usage="usage.schedule")
    if not plan.enabled:
        await reply(update, context, "schedule.saved", line=_plan_line(context.lang, plan))
        return
    tz = await schedule.timezone(db, context.settings.timezone)
    next_post = (await _next_posts(context, tz))[job]
    assert next_post is not None
    await reply(
        update,
        context,
        f"schedule.saved_next.{job}",
        when=when_text(context.lang, next_post, tz),
        timezone=escape(str(tz)),
    )


async def pause(update: Update, context: TruceContext) -> None:
    """`/pause` leaves the mixer (and thanks) for a while; `/pause off` comes back."""
    actor = context.require(Role.EMPLOYEE)
    args = [a.lower() for a in context.args or []]
    if args not in ([], ["on"], ["off"]):
        raise UsageError(usage="usage.pause")
    paused = args != ["off"]
    await mixer.set_paused(context.db, telegram_id=actor.telegram_id, paused=paused)
    await reply(update, context, "pause.on" if paused else "pause.off")


def members_text(language: str, group: GroupView, me: int | None = None) -> str:
    """The people of a group, as links, leaving out `me`."""
    return ", ".join(
        f'<a href="tg://user?id={p.telegram_id}">{escape(p.first_name)}</a>'
        + (f" (@{escape(p.username)})" if p.username else "")
        + f" · {department_name(language, p.department)}"
        for p in group.members
        if p.telegram_id != me
    )


def reminder_text(language: str, group: GroupView, me: int) -> str:
    """The one nudge halfway through a round, to someone who has not pressed "We met"."""
    return t(language, "mixer.reminder", partners=members_text(language, group, me))


def intro_text(language: str, group: GroupView, me: int) -> str:
    return t(
        language,
        "mixer.intro",
        partners=members_text(language, group, me),
        prompt=t(language, f"mixer.prompt.{group.prompt}"),
    )


async def show_mixer(update: Update, context: TruceContext) -> None:
    """Admins: the latest round's groups and who pressed "We met"; `/mixer now` runs this
    week's round at once."""
    actor = context.require(Role.ADMIN)
    args = [a.lower() for a in context.args or []]
    if args == ["now"]:
        await mixer_now(update, context)
        return
    if args:
        raise UsageError(usage="usage.mixer")
    view = await mixer.report(context.db, actor_telegram_id=actor.telegram_id)
    if view is None:
        await reply(update, context, "mixer.no_round")
        return
    lines = [
        context.t(
            "mixer.report_title", period=view.period, topic=context.t(f"mixer.topic.{view.topic}")
        )
    ]
    for group in view.groups:
        names = ", ".join(
            ("✅ " if p.id in group.confirmed else "⏳ ") + escape(p.first_name)
            for p in group.members
        )
        pain = f" — {escape(group.pain)}" if group.pain else ""
        lines.append(f"• {names}{pain}")
    if view.waiting:
        lines.append(
            context.t(
                "mixer.report_waiting", names=", ".join(escape(p.first_name) for p in view.waiting)
            )
        )
    met = sum(1 for g in view.groups if g.met)
    lines.append(context.t("mixer.report_met", met=met, total=len(view.groups)))
    assert update.effective_message is not None
    await update.effective_message.reply_text("\n".join(lines), parse_mode="HTML")


async def mixer_now(update: Update, context: TruceContext) -> None:
    """Admins: run this week's mixer now, through the scheduler's own once-per-week run."""
    actor = context.require(Role.ADMIN)
    await mixer.report(context.db, actor_telegram_id=actor.telegram_id)  # the service checks too
    run_now: RunNow = context.application.bot_data[RUN_NOW]
    outcome = await run_now(context, schedule.MIXER, now(context))
    if outcome == "already":
        await reply(update, context, "mixer.now_already")
    elif outcome == "busy":
        await reply(update, context, "mixer.now_busy")
    else:
        view = await mixer.latest_round(context.db)
        await reply(update, context, "mixer.now_done", n=len(view.groups) if view else 0)


async def we_met(update: Update, context: TruceContext) -> None:
    """A member presses "We met"; when everyone has, everyone earns the meeting's tokens."""
    query = update.callback_query
    assert query is not None
    group_id = keyboards.parse_group(query.data, "met")
    actor = context.require(Role.EMPLOYEE)
    result = await mixer.confirm(
        context.db,
        telegram_id=actor.telegram_id,
        group_id=group_id,
        reward=context.settings.mixer_reward,
    )
    if not result.everyone_met:
        await reply(update, context, "mixer.waiting_for_others")
        return
    await reply(update, context, "mixer.met_toast")
    for person in result.group.members:
        await notify(
            context,
            person,
            t(person.language, "mixer.everyone_met", amount=tokens(person.language, result.reward)),
        )


async def ask_pain(update: Update, context: TruceContext) -> int:
    """ "Add the client pain": ask for it as a reply."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    group_id = keyboards.parse_group(query.data, "pain")
    actor = context.require(Role.EMPLOYEE)
    # Refused before asking: nobody should write a pain only to hear the meeting is not theirs.
    await mixer.require_member(context.db, telegram_id=actor.telegram_id, group_id=group_id)
    await query.answer()
    assert context.user_data is not None
    context.user_data["pain_group"] = group_id
    await context.bot.send_message(
        update.effective_user.id,
        context.t("mixer.ask_pain"),
        reply_markup=ForceReply(selective=True),
    )
    return WAITING_FOR_PAIN


async def save_pain(update: Update, context: TruceContext) -> int:
    """The client pain, as text: kept for the digest."""
    actor = context.require(Role.EMPLOYEE)
    assert update.effective_message is not None and context.user_data is not None
    group_id = context.user_data.get("pain_group")
    if group_id is None:
        return ConversationHandler.END
    pain = await mixer.add_pain(
        context.db,
        telegram_id=actor.telegram_id,
        group_id=group_id,
        text=update.effective_message.text or "",
    )
    context.user_data.pop("pain_group", None)
    await reply(update, context, "mixer.pain_saved", pain=escape(pain))
    return ConversationHandler.END


async def cancel_pain(update: Update, context: TruceContext) -> int:
    """Leave the client-pain question unanswered."""
    if context.user_data is not None:
        context.user_data.pop("pain_group", None)
    await reply(update, context, "mixer.pain_cancelled")
    return ConversationHandler.END


def digest_text(
    language: str, digest: Digest, names: dict[str, str], monthly: bool, tz: ZoneInfo
) -> str:
    """How a digest reads in the company chat."""
    fmt = "%d.%m"
    last_day = digest.end.astimezone(tz) - timedelta(seconds=1)
    lines = [
        t(
            language,
            "digest.title_monthly" if monthly else "digest.title",
            start=digest.start.astimezone(tz).strftime(fmt),
            end=last_day.strftime(fmt),
        ),
        "",
        t(language, "digest.scoreboard"),
    ]
    lines += [
        t(
            language,
            "digest.score",
            department=names.get(s.department.code, s.department.name),
            amount=tokens(language, s.tokens),
            per_head=format_decimal(s.per_head, "0.0", locale=language),
        )
        for s in digest.scores
    ]
    if digest.top_givers:
        people = ", ".join(f"{escape(p.name)} ({p.amount})" for p in digest.top_givers)
        lines.append(t(language, "digest.givers", people=people))
    if digest.top_receivers:
        people = ", ".join(f"{escape(p.name)} ({p.amount})" for p in digest.top_receivers)
        lines.append(t(language, "digest.receivers", people=people))
    if digest.redemptions:
        items = ", ".join(
            f"{escape(r.name.split('|')[1 if language == 'ru' else 0])} ×{r.amount}"
            for r in digest.redemptions
        )
        lines.append(t(language, "digest.redemptions", items=items))
    if digest.goals:
        lines.append(t(language, "digest.goals"))
        lines += [goal_line(language, goal) for goal in digest.goals]
    lines.append(t(language, "digest.meetings", count=digest.meetings))
    lines += [f"  • {escape(pain)}" for pain in digest.pains[:MAX_PAINS]]
    index = digest.cross.index
    if index is None:
        lines.append(t(language, "digest.index_none"))
    else:
        delta = change(index, digest.previous_cross.index)
        lines.append(
            t(
                language,
                "digest.index",
                index=f"{index * 100:.0f}",
                change=t(
                    language,
                    "digest.change",
                    delta=format_decimal(delta, "+0.0;-0.0", locale=language),
                )
                if delta is not None
                else "",
            )
        )
    if digest.unanswered:
        lines.append(
            t(language, "digest.shame", names=", ".join(escape(n) for n in digest.unanswered))
        )
    # A Telegram message holds 4096 characters: leave out whole lines from the end (never cut
    # one, which could break an HTML entity) until the digest fits.
    while len("\n".join(lines)) > MESSAGE_LIMIT and len(lines) > 1:
        lines.pop()
    return "\n".join(lines)


def chart_titles(language: str) -> tuple[str, str]:
    return t(language, "digest.chart_tokens"), t(language, "digest.chart_index")


async def department_names(context: TruceContext, language: str) -> dict[str, str]:
    return {
        d.code: department_name(language, d) for d in await directory.list_departments(context.db)
    }


async def nothing_to_cancel(update: Update, context: TruceContext) -> None:
    """/cancel when no question is open."""
    await reply(update, context, "mixer.nothing_to_cancel")
