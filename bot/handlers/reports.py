"""/top (leaderboards) and /export (the journal as CSV, for admins)."""

from __future__ import annotations

from datetime import UTC, datetime, time

from babel.numbers import format_decimal
from telegram import InputFile, Update

from bot.domain.errors import UsageError
from bot.domain.periods import parse_date, period_start
from bot.domain.roles import Role
from bot.handlers.common import TruceContext, escape
from bot.handlers.goals import goal_line
from bot.i18n import department_name, tokens
from bot.services import goals, reports
from bot.services.reports import PersonScore


def _people(context: TruceContext, title_key: str, scores: list[PersonScore]) -> list[str]:
    lines = ["", context.t(title_key)]
    if not scores:
        return [*lines, context.t("top.nobody")]
    return lines + [
        context.t(
            "top.person",
            place=place,
            name=escape(s.name),
            department=department_name(context.lang, s.department),
            amount=tokens(context.lang, s.tokens),
        )
        for place, s in enumerate(scores, 1)
    ]


async def top(update: Update, context: TruceContext) -> None:
    """People by tokens earned this week and ever; departments in total and per head."""
    context.require(Role.EMPLOYEE)
    now = datetime.now(UTC)
    since = period_start("week", now, context.tz)
    assert since is not None
    board = await reports.leaderboard(context.db, since=since)
    lines = [context.t("top.title")]
    lines += _people(context, "top.week", board.week)
    lines += _people(context, "top.all_time", board.all_time)
    lines += ["", context.t("top.departments")]
    lines += [
        context.t(
            "top.department",
            department=department_name(context.lang, d.department),
            amount=tokens(context.lang, d.tokens),
            per_head=format_decimal(d.per_head, "0.0", locale=context.lang),
            n=d.members,
        )
        for d in board.departments
    ]
    active = await goals.active_goals(context.db, context.tz, now)
    if active:
        lines += ["", context.t("top.goals")]
        lines += [goal_line(context.lang, g) for g in active]
    assert update.effective_message is not None
    await update.effective_message.reply_text("\n".join(lines), parse_mode="HTML")


async def export(update: Update, context: TruceContext) -> None:
    """Admins: the journal as a CSV file, whole or (`/export 2026-11-01`) from a day on."""
    context.require(Role.ADMIN)
    args = context.args or []
    if len(args) > 1:
        raise UsageError(usage="usage.export")
    since = None
    if args:
        day = parse_date(args[0])
        since = datetime.combine(day, time.min, tzinfo=context.tz)
    text = await reports.export_csv(context.db, since=since)
    assert update.effective_message is not None
    stamp = datetime.now(context.tz).strftime("%Y-%m-%d")
    await update.effective_message.reply_document(
        InputFile(text.encode("utf-8"), filename=f"truce-journal-{stamp}.csv"),
        caption=context.t("export.caption"),
    )
