"""Shared goals: admins define them with /goal, leads report progress with /kpi."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.domain.commands import possible_id
from bot.domain.errors import UnknownReport, UsageError
from bot.domain.goals import MAX_TARGET, ReportWalletSpent, parse_goal
from bot.domain.ledger import parse_amount
from bot.domain.roles import Role
from bot.domain.text import ascii_number
from bot.handlers.common import TruceContext, escape, notify, reply
from bot.handlers.shop import tell_admins
from bot.i18n import department_name, t, tokens
from bot.services import company, directory, goals
from bot.services.goals import GoalView

log = logging.getLogger(__name__)


def goal_line(language: str, goal: GoalView) -> str:
    return t(
        language,
        "goal.line",
        title=escape(goal.title),
        code=goal.code,
        progress=goal.progress,
        target=goal.target,
        period=t(language, f"goal.period.{goal.period}"),
        reached=t(language, "goal.reached_times", n=goal.times_reached)
        if goal.times_reached
        else "",
    )


def _reward_text(language: str, goal: GoalView, departments: dict[str, str]) -> str:
    parts = []
    if goal.reward_tokens:
        parts.append(t(language, "goal.reward_tokens", amount=tokens(language, goal.reward_tokens)))
    if goal.reward is not None and goal.reward_department is not None:
        parts.append(
            t(
                language,
                "goal.reward_item",
                reward=escape(goal.reward.name(language)),
                department=departments.get(goal.reward_department, goal.reward_department),
            )
        )
    return "; ".join(parts)


async def _department_names(context: TruceContext, language: str) -> dict[str, str]:
    return {
        d.code: department_name(language, d) for d in await directory.list_departments(context.db)
    }


async def manage_goals(update: Update, context: TruceContext) -> None:
    """Admins: list goals, `/goal add ...`, `/goal off code`."""
    actor = context.require(Role.ADMIN)
    args = context.args or []
    names = await _department_names(context, context.lang)
    if not args:
        active = await goals.active_goals(context.db, context.tz)
        lines = [context.t("goal.title")]
        lines += [
            f"{goal_line(context.lang, g)}\n   {_reward_text(context.lang, g, names)}"
            for g in active
        ] or [context.t("goal.none")]
        lines += ["", context.t("usage.goal")]
        assert update.effective_message is not None
        await update.effective_message.reply_text("\n".join(lines), parse_mode="HTML")
        return
    action = args[0].lower()
    if action == "add":
        goal = await goals.create(
            context.db,
            actor_telegram_id=actor.telegram_id,
            goal=parse_goal(args[1:]),
            tz=context.tz,
        )
        await reply(
            update,
            context,
            "goal.created",
            line=goal_line(context.lang, goal),
            reward=_reward_text(context.lang, goal, names),
        )
    elif action == "void" and len(args) == 2:
        number = ascii_number(args[1])
        if number is None or not possible_id(number):
            raise UnknownReport(number=escape(args[1][:20]))
        try:
            voided = await goals.void_report(
                context.db, actor_telegram_id=actor.telegram_id, number=number, tz=context.tz
            )
        except ReportWalletSpent as exc:  # name the wallet and the sums in the reader's words
            code = str(exc.params.get("department", ""))
            exc.params.update(
                department=names.get(code, code),
                has=tokens(context.lang, int(exc.params.get("has", 0))),
                needs=tokens(context.lang, int(exc.params.get("needs", 0))),
            )
            raise
        await reply(
            update,
            context,
            "goal.report_voided",
            number=voided.number,
            reporter=escape(voided.reporter),
            amount=voided.amount,
            title=escape(voided.goal.title),
            line=goal_line(context.lang, voided.goal),
        )
    elif action == "off" and len(args) == 2:
        await goals.deactivate(context.db, actor_telegram_id=actor.telegram_id, code=args[1])
        await reply(update, context, "goal.deactivated", code=escape(args[1]))
    else:
        raise UsageError(usage="usage.goal")


async def report_kpi(update: Update, context: TruceContext) -> None:
    """Leads: `/kpi leads +3` adds progress to a shared goal."""
    actor = context.require(Role.LEAD)
    args = context.args or []
    if len(args) != 2:
        raise UsageError(usage="usage.kpi")
    amount = parse_amount(args[1], MAX_TARGET)
    message = update.effective_message
    assert message is not None
    result = await goals.report(
        context.db,
        actor_telegram_id=actor.telegram_id,
        code=args[0],
        amount=amount,
        key=f"{message.chat_id}:{message.message_id}",
        tz=context.tz,
        max_targets=context.settings.goal_report_max_targets,
        max_payouts=context.settings.goal_payouts_per_period,
    )
    await reply(update, context, "kpi.recorded", line=goal_line(context.lang, result.goal))
    if result.replayed:
        return
    await _tell_admins_of_report(context, actor.telegram_id, result)
    if result.capped:
        await reply(update, context, "kpi.payouts_used_up")
    if not result.reached:
        return
    for owed in result.granted:  # a reward the goal unlocked: the admins now owe it
        await tell_admins(context, owed)
    chat_id = await company.company_chat(context.db)
    if chat_id is not None and chat_id != message.chat_id:
        language = context.company_lang
        text = await _achieved_text(context, language, result.goal)
        try:  # the goal is already paid; a chat the bot has left must not hide that
            await context.bot.send_message(chat_id, text, parse_mode="HTML")
        except TelegramError as exc:
            log.warning("goal %s reached, company chat not told: %s", result.goal.code, exc)
    await message.reply_text(
        await _achieved_text(context, context.lang, result.goal), parse_mode="HTML"
    )


async def _tell_admins_of_report(
    context: TruceContext, reporter_telegram_id: int, result: goals.ProgressReport
) -> None:
    """Every report reaches the admins with who made it and how to void it."""
    for admin in await directory.admins(context.db):
        if admin.telegram_id == reporter_telegram_id:
            continue
        text = t(
            admin.language,
            "kpi.admin_notice",
            reporter=escape(result.reporter),
            amount=result.added,
            title=escape(result.goal.title),
            progress=result.goal.progress,
            target=result.goal.target,
            number=result.number,
        )
        await notify(context, admin, text)


async def _achieved_text(context: TruceContext, language: str, goal: GoalView) -> str:
    """The news that a goal was reached, with department names in `language`."""
    names = await _department_names(context, language)
    return t(
        language,
        "goal.achieved",
        title=escape(goal.title),
        target=goal.target,
        reward=_reward_text(language, goal, names),
    )
