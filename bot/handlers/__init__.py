"""The Telegram adapter: parse an update, call a service, answer in the user's language."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, TypeHandler, filters

from bot.handlers import onboarding, roles, tokens
from bot.handlers.common import load_actor, on_error, private_only, unknown_button

PRIVATE = filters.ChatType.PRIVATE
PRIVATE_COMMANDS = ["start", "me", "lang", "roles"]


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Wire every handler into the application."""
    app.add_handler(TypeHandler(Update, load_actor), group=-1)
    app.add_handler(CommandHandler(PRIVATE_COMMANDS, private_only, filters=~PRIVATE))
    app.add_handler(CommandHandler("start", onboarding.start, filters=PRIVATE))
    app.add_handler(CommandHandler("help", onboarding.show_help))
    app.add_handler(CommandHandler("lang", onboarding.language, filters=PRIVATE))
    app.add_handler(CommandHandler("me", tokens.me, filters=PRIVATE))
    app.add_handler(CommandHandler("grant", tokens.grant))
    app.add_handler(CommandHandler("roles", roles.roles, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(onboarding.choose_department, pattern=r"^dept:"))
    app.add_handler(CallbackQueryHandler(onboarding.choose_language, pattern=r"^lang:"))
    app.add_handler(CallbackQueryHandler(unknown_button))
    app.add_error_handler(on_error)
