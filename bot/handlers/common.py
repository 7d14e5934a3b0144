"""What every handler shares: the context, the actor, replies, and the one error handler."""

from __future__ import annotations

import html
import logging
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CallbackContext, ExtBot

from bot.config import Settings
from bot.db import Database
from bot.domain.errors import BadButton, NotRegistered, TruceError
from bot.domain.roles import Role, require
from bot.i18n import pick_language, t
from bot.keyboards import open_private
from bot.services import directory
from bot.services.directory import EmployeeView

log = logging.getLogger(__name__)


class TruceContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The callback context, with the database, the settings and the person acting."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any], **kw: Any):
        super().__init__(application, **kw)
        self.actor: EmployeeView | None = None
        self.lang: str = application.bot_data["settings"].default_language

    @property
    def db(self) -> Database:
        return self.application.bot_data["db"]  # type: ignore[no-any-return]

    @property
    def settings(self) -> Settings:
        return self.application.bot_data["settings"]  # type: ignore[no-any-return]

    @property
    def tz(self) -> ZoneInfo:
        """The company's timezone: TIMEZONE, or what an admin set with /schedule timezone."""
        return self.application.bot_data.get("tz") or self.settings.tz

    @property
    def company_lang(self) -> str:
        """The language of the company chat, for what everyone there reads."""
        return self.application.bot_data.get("company_lang") or self.settings.default_language

    def t(self, key: str, /, **params: Any) -> str:
        return t(self.lang, key, **params)

    def require(self, role: Role) -> EmployeeView:
        """The registered actor, if they hold `role` or above (the service checks again)."""
        if self.actor is None:
            raise NotRegistered()
        require(self.actor.role, role)
        return self.actor


async def load_actor(update: Update, context: TruceContext) -> None:
    """Find who is acting and which language to answer in, before any other handler runs."""
    user = update.effective_user
    if user is None:
        return
    context.actor = await directory.find(context.db, user.id)
    if context.actor is not None and (context.actor.first_name, context.actor.username) != (
        user.first_name[:128],
        user.username.lower() if user.username else None,
    ):
        await directory.refresh_profile(context.db, user.id, user.first_name, user.username)
    context.lang = answer_language(update, context)


def answer_language(update: Update, context: TruceContext) -> str:
    """Everyone in a group reads what the bot says there: one language, the company's. A
    button's answer is a toast only the presser sees, so it is in theirs, as in private."""
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE and update.callback_query is None:
        return context.company_lang
    if context.actor is not None:
        return context.actor.language
    user = update.effective_user
    code = user.language_code if user is not None else None
    return pick_language(code, context.settings.default_language)


async def reply(update: Update, context: TruceContext, key: str, /, **params: Any) -> None:
    """Answer the update in the actor's language: a message, or a toast for a button."""
    text = context.t(key, **params)
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=len(text) > 60)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)


def escape(text: str) -> str:
    return html.escape(text, quote=False)


async def on_error(update: object, context: TruceContext) -> None:
    """Turn a broken rule into its message; log anything else and apologise."""
    error = context.error
    if not isinstance(update, Update):
        log.error("error outside an update", exc_info=error)
        return
    user = update.effective_user
    if user is not None:
        context.actor = await directory.find(context.db, user.id)
        context.lang = answer_language(update, context)
    if isinstance(error, TruceError):
        params = {k: escape(v) if isinstance(v, str) else v for k, v in error.params.items()}
        if "usage" in params:
            params["usage"] = context.t(params["usage"])
        text_key, text_params = error.key, params
        chat = update.effective_chat
        if isinstance(error, NotRegistered) and chat is not None and chat.type == "private":
            text_key = "error.not_registered_here"  # "in a private chat" would point to itself
    else:
        log.error("update %s failed", update.update_id, exc_info=error)
        text_key, text_params = "error.internal", {}
    try:
        await reply(update, context, text_key, **text_params)
    except TelegramError:
        log.warning("could not tell the user about an error in update %s", update.update_id)


async def notify(context: TruceContext, person: EmployeeView, text: str) -> None:
    """Send someone a private message about work already done.

    It is sent after the change was committed, so a person who blocked the bot, or Telegram
    failing, is logged and does not turn into an error for the one who acted.
    """
    try:
        await context.bot.send_message(person.telegram_id, text, parse_mode=ParseMode.HTML)
    except TelegramError as exc:
        log.info("employee %s was not told: %s", person.id, exc)


async def private_only(update: Update, context: TruceContext) -> None:
    """A private command sent in a group: point to the private chat."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        context.t("error.private_only"),
        reply_markup=open_private(context.lang, context.bot.username),
    )


async def unknown_button(update: Update, context: TruceContext) -> None:
    """A button this bot never made: forged, or left over from an old message."""
    raise BadButton()
