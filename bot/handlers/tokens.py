"""Seeing one's tokens (/me) and granting them (/grant)."""

from __future__ import annotations

from telegram import Update

from bot.domain.commands import parse_grant
from bot.domain.errors import UnknownUser
from bot.domain.roles import Role
from bot.handlers.common import TruceContext, escape, notify, reply
from bot.handlers.goals import goal_line
from bot.i18n import department_name, signed, t, tokens, when
from bot.services import directory, goals
from bot.services import tokens as token_service


async def me(update: Update, context: TruceContext) -> None:
    """Show the caller's department, role, balances and latest movements."""
    actor = context.require(Role.EMPLOYEE)
    lang, tz = context.lang, context.tz
    summary = await token_service.summary(
        context.db,
        actor.telegram_id,
        allowance=context.settings.thanks_weekly_allowance,
        tz=tz,
    )
    lines = [
        context.t(
            "me.header",
            name=escape(actor.first_name),
            department=department_name(lang, actor.department),
            role=context.t(f"role.{actor.role}"),
        ),
        context.t("me.balance", amount=tokens(lang, summary.balance)),
        context.t(
            "me.department_balance",
            department=department_name(lang, actor.department),
            amount=tokens(lang, summary.department_balance),
        ),
        context.t("me.thanks_left", amount=tokens(lang, summary.thanks_left))
        if summary.thanks_left
        else context.t("me.thanks_used_up"),
    ]
    if summary.recent:
        lines += ["", context.t("me.recent")]
        lines += [
            context.t(
                "me.line",
                amount=signed(line.amount),
                when=when(lang, line.when, tz),
                what=context.t(f"history.{line.kind}", reason=escape(line.reason)),
            )
            for line in summary.recent
        ]
    elif summary.department_balance:
        lines += ["", context.t("me.no_history_of_your_own")]
    else:
        lines += ["", context.t("me.no_history")]
    active = await goals.active_goals(context.db, tz)
    if active:
        lines += ["", context.t("me.goals")]
        lines += [goal_line(lang, goal) for goal in active]
    assert update.effective_message is not None
    await update.effective_message.reply_text("\n".join(lines), parse_mode="HTML")


async def grant(update: Update, context: TruceContext) -> None:
    """Admins grant tokens to a person or a department, with a reason."""
    context.require(Role.ADMIN)
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    replied = message.reply_to_message.from_user if message.reply_to_message else None
    request = parse_grant(
        context.args or [], replying=replied is not None, maximum=context.settings.grant_max
    )
    target: str | int
    if request.target is not None:
        target = request.target
    else:
        assert replied is not None
        if replied.is_bot:
            await reply(update, context, "grant.not_a_person")
            return
        if await directory.find(context.db, replied.id) is None:
            raise UnknownUser(name=replied.first_name)
        target = replied.id
    result = await token_service.grant(
        context.db,
        actor_telegram_id=update.effective_user.id,
        target=target,
        amount=request.amount,
        reason=request.reason,
        key=f"grant:{message.chat_id}:{message.message_id}",
    )
    if result.replayed:
        # A repeated delivery or an edit of a /grant already carried out: the journal keeps the
        # first transfer, and the request in hand may not match it, so claim nothing new.
        await reply(update, context, "grant.already_done")
        return
    if result.employee is not None:
        receiver = escape(result.employee.first_name)
    else:
        assert result.department is not None
        receiver = department_name(context.lang, result.department)
    await reply(
        update,
        context,
        "grant.done",
        amount=tokens(context.lang, result.amount),
        receiver=receiver,
        reason=escape(result.reason),
    )
    if result.employee is not None:
        person = result.employee
        await notify(
            context,
            person,
            t(
                person.language,
                "grant.received",
                amount=tokens(person.language, result.amount),
                reason=escape(result.reason),
            ),
        )
