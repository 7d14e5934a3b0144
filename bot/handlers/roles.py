"""Admins promote people to lead or admin, and back."""

from __future__ import annotations

from telegram import Update

from bot.domain.errors import UsageError
from bot.domain.roles import Role, parse_role
from bot.handlers.common import TruceContext, escape, notify, reply
from bot.handlers.menu import set_personal_menu
from bot.i18n import t
from bot.services import directory


def _who(person: directory.EmployeeView) -> str:
    handle = f" (@{person.username})" if person.username else ""
    return f"{escape(person.first_name)}{escape(handle)}"


async def roles(update: Update, context: TruceContext) -> None:
    """`/roles` lists leads and admins; `/roles @user lead|admin|employee` changes a role."""
    actor = context.require(Role.ADMIN)
    args = context.args or []
    if not args:
        people = await directory.staff(context.db)
        lines = [context.t("roles.title")]
        lines += [
            context.t("roles.line", who=_who(p), role=context.t(f"role.{p.role}")) for p in people
        ]
        lines += ["", context.t("usage.roles")]
        assert update.effective_message is not None
        await update.effective_message.reply_text("\n".join(lines), parse_mode="HTML")
        return
    if len(args) != 2 or not args[0].startswith("@"):
        raise UsageError(usage="usage.roles")
    role = parse_role(args[1])
    person, former = await directory.set_role(
        context.db, actor_telegram_id=actor.telegram_id, target_username=args[0], role=role
    )
    if former is role:
        await reply(
            update,
            context,
            "roles.unchanged",
            who=_who(person),
            role=context.t(f"role.{role.value}"),
        )
        return
    await reply(
        update, context, "roles.changed", who=_who(person), role=context.t(f"role.{role.value}")
    )
    await set_personal_menu(context.bot, person)
    if person.telegram_id != actor.telegram_id:
        await notify(
            context,
            person,
            t(person.language, "roles.you_are_now", role=t(person.language, f"role.{role.value}")),
        )
