"""Joining the game, help, and the language switch."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType

from bot import keyboards
from bot.domain.errors import UsageError
from bot.domain.roles import Role
from bot.handlers.common import TruceContext, escape, reply
from bot.handlers.menu import help_text, set_personal_menu
from bot.i18n import LANGUAGES, department_name
from bot.services import company, directory


async def start(update: Update, context: TruceContext) -> None:
    """Greet a newcomer and ask their department, or welcome back someone who has joined."""
    user = update.effective_user
    assert user is not None and update.effective_message is not None
    if context.actor is not None:
        await reply(
            update,
            context,
            "start.welcome_back",
            name=escape(context.actor.first_name),
            department=department_name(context.lang, context.actor.department),
        )
        return
    options = [
        (d.code, department_name(context.lang, d))
        for d in await directory.list_departments(context.db)
    ]
    await update.effective_message.reply_text(
        context.t("start.greeting", name=escape(user.first_name)),
        reply_markup=keyboards.departments(options, owner=user.id),
        parse_mode="HTML",
    )


async def choose_department(update: Update, context: TruceContext) -> None:
    """Join the department whose button was pressed."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    code = keyboards.parse(query.data, "dept", user.id)
    registration = await directory.register(
        context.db,
        telegram_id=user.id,
        first_name=user.first_name,
        username=user.username,
        language=context.lang,
        department_code=code,
        admin_ids=context.settings.admin_ids,
    )
    employee = registration.employee
    department = department_name(context.lang, employee.department)
    if not registration.created:
        await reply(update, context, "start.already_joined", department=department)
        return
    await query.answer()
    key = "start.joined_admin" if employee.role == Role.ADMIN else "start.joined"
    await query.edit_message_text(
        context.t(key, name=escape(employee.first_name), department=department),
        parse_mode="HTML",
    )
    await set_personal_menu(context.bot, employee)


async def show_help(update: Update, context: TruceContext) -> None:
    """List what the caller's role may do; in a group, only what everyone there may do."""
    private = update.effective_chat is not None and update.effective_chat.type == "private"
    role = context.actor.role if context.actor and private else Role.EMPLOYEE.value
    assert update.effective_message is not None
    await update.effective_message.reply_text(help_text(context.lang, role))


async def not_understood(update: Update, context: TruceContext) -> None:
    """Text or a command the bot has no answer for, in private: point to /help, never silence."""
    command = bool(update.effective_message and (update.effective_message.text or "")[:1] == "/")
    key = "fallback.unknown_command" if command else "fallback.plain_text"
    if context.actor is None:
        key = "fallback.not_joined"
    await reply(update, context, key)


async def language(update: Update, context: TruceContext) -> None:
    """Switch the language with `/lang en`, or offer both as buttons; in a group an admin's
    `/lang en` sets the language the bot speaks there (the company chat's)."""
    actor = context.require(Role.EMPLOYEE)
    assert update.effective_message is not None
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        await _company_language(update, context)
        return
    if context.args:
        choice = context.args[0].lower()
        if choice not in LANGUAGES or len(context.args) > 1:
            raise UsageError(usage="usage.lang")
        await _switch(update, context, choice)
        return
    await update.effective_message.reply_text(
        context.t("lang.choose"), reply_markup=keyboards.languages(actor.telegram_id)
    )


async def _company_language(update: Update, context: TruceContext) -> None:
    actor = context.require(Role.ADMIN)
    args = context.args or []
    if len(args) != 1 or args[0].lower() not in LANGUAGES:
        raise UsageError(usage="usage.lang_company")
    choice = args[0].lower()
    await company.set_language(context.db, actor_telegram_id=actor.telegram_id, language=choice)
    context.application.bot_data["company_lang"] = choice
    context.lang = choice
    await reply(update, context, "lang.company_switched")


async def choose_language(update: Update, context: TruceContext) -> None:
    """Switch to the language whose button was pressed."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    choice = keyboards.parse(query.data, "lang", user.id)
    context.require(Role.EMPLOYEE)
    if choice not in LANGUAGES:
        raise UsageError(usage="usage.lang")
    await query.answer()
    await _switch(update, context, choice)


async def _switch(update: Update, context: TruceContext, choice: str) -> None:
    assert context.actor is not None
    await directory.set_language(context.db, context.actor.telegram_id, choice)
    context.lang = choice
    updated = await directory.find(context.db, context.actor.telegram_id)
    assert updated is not None
    await context.bot.send_message(context.actor.telegram_id, context.t("lang.switched"))
    await set_personal_menu(context.bot, updated)
