"""Admins promote people to lead or admin, and back: by @username, by reply, or from a list."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from bot import people_keyboards
from bot.domain.commands import parse_roles
from bot.domain.errors import BadButton, UnknownUser, UsageError
from bot.domain.roles import Role, parse_role
from bot.handlers.common import TruceContext, escape, notify, private_only, reply
from bot.handlers.menu import set_personal_menu
from bot.i18n import t
from bot.services import directory

# Buttons: a person from the list (`roleto:<telegram id>.<role or ->`), a page of it
# (`rolepg:<page>.<role or ->`), and a role for a person chosen first (`roleset:<id>.<role>`).
PICK, TURN, SET = "roleto", "rolepg", "roleset"
NO_ROLE_YET = "-"


def _who(person: directory.EmployeeView) -> str:
    handle = f" (@{person.username})" if person.username else ""
    return f"{escape(person.first_name)}{escape(handle)}"


def _role(context: TruceContext, role: str) -> str:
    return context.t(f"role.{role}")


async def roles(update: Update, context: TruceContext) -> None:
    """`/roles` lists leads and admins; `/roles @user lead`, or `/roles lead` as a reply or
    with the person chosen from a list, changes a role."""
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    private = chat.type == "private"
    replied = message.reply_to_message.from_user if message.reply_to_message else None
    if not private and replied is None:
        # In a group a role is changed by replying to the person; the rest is done in private.
        await private_only(update, context)
        return
    actor = context.require(Role.ADMIN)
    request = parse_roles(context.args or [])
    if request.target is not None and request.role is not None:
        await _change(update, context, role=request.role, username=request.target)
        return
    if replied is not None and request.role is not None:
        if replied.is_bot:
            await reply(update, context, "roles.not_a_person")
            return
        if await directory.find(context.db, replied.id) is None:
            raise UnknownUser(name=replied.first_name)
        await _change(update, context, role=request.role, telegram_id=replied.id)
        return
    if not private:
        raise UsageError(usage="usage.roles")
    listed = await directory.people_page(context.db, 0, people_keyboards.PAGE_SIZE)
    if not listed.people:
        await reply(update, context, "people.nobody")
        return
    if request.role is None:
        lines = [context.t("roles.title")]
        lines += [
            context.t("roles.line", who=_who(p), role=_role(context, p.role))
            for p in await directory.staff(context.db)
        ]
        lines += ["", context.t("usage.roles"), "", context.t("people.choose_whose_role")]
        text = "\n".join(lines)
    else:
        text = context.t("people.choose_for_role", role=_role(context, request.role.value))
    rest = request.role.value if request.role else NO_ROLE_YET
    await message.reply_text(
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=people_keyboards.people(
            context.lang, listed, pick=PICK, turn=TURN, rest=rest, owner=actor.telegram_id
        ),
    )


async def roles_button(update: Update, context: TruceContext) -> None:
    """A press in a /roles list: turn the page, choose the person, or choose their role."""
    query = update.callback_query
    assert query is not None
    prefix, number, rest = people_keyboards.choice(query.data, query.from_user.id)
    actor = context.require(Role.ADMIN)
    role = None if rest == NO_ROLE_YET and prefix != SET else parse_button_role(rest)
    if prefix == TURN:
        listed = await directory.people_page(context.db, number, people_keyboards.PAGE_SIZE)
        await query.answer()
        await query.edit_message_reply_markup(
            people_keyboards.people(
                context.lang, listed, pick=PICK, turn=TURN, rest=rest, owner=actor.telegram_id
            )
        )
        return
    person = await directory.find(context.db, number)
    if person is None:
        raise BadButton()  # nobody registered has this id: a forged button
    if role is None:  # the person is chosen; now their new role
        await query.answer()
        await query.edit_message_text(
            context.t("roles.choose_role", who=_who(person), role=_role(context, person.role)),
            parse_mode=ParseMode.HTML,
            reply_markup=people_keyboards.roles(
                context.lang, person, pick=SET, owner=actor.telegram_id
            ),
        )
        return
    await _change(update, context, role=role, telegram_id=person.telegram_id)


def parse_button_role(text: str) -> Role:
    """The role a button names; any other text is a forged button."""
    if text not in {role.value for role in Role}:
        raise BadButton()
    return parse_role(text)


async def _change(
    update: Update,
    context: TruceContext,
    *,
    role: Role,
    username: str | None = None,
    telegram_id: int | None = None,
) -> None:
    """Give someone `role`, say so where it was asked (a message, or the list it came from),
    and tell them in their own language."""
    actor = context.require(Role.ADMIN)
    person, former = await directory.set_role(
        context.db,
        actor_telegram_id=actor.telegram_id,
        target_username=username,
        target_telegram_id=telegram_id,
        role=role,
    )
    key = "roles.unchanged" if former is role else "roles.changed"
    text = context.t(key, who=_who(person), role=_role(context, role.value))
    query = update.callback_query
    if query is not None:
        await query.answer()
        await query.edit_message_text(text, parse_mode=ParseMode.HTML)
    else:
        assert update.effective_message is not None
        await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)
    if former is role:
        return
    await set_personal_menu(context.bot, person)
    if person.telegram_id != actor.telegram_id:
        await notify(
            context,
            person,
            t(person.language, "roles.you_are_now", role=t(person.language, f"role.{role.value}")),
        )
