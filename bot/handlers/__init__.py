"""The Telegram adapter: parse an update, call a service, answer in the user's language."""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.handlers import goals, onboarding, reports, rhythm, roles, shop, thanks, tokens
from bot.handlers.common import load_actor, on_error, private_only, unknown_button

PRIVATE = filters.ChatType.PRIVATE
PAIN_TIMEOUT = timedelta(hours=1)
PRIVATE_COMMANDS = [
    "start",
    "me",
    "shop",
    "redeem",
    "chipin",
    "redemptions",
    "rewards",
    "goal",
    "export",
    "schedule",
    "pause",
    "mixer",
]


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Wire every handler into the application."""
    app.add_handler(TypeHandler(Update, load_actor), group=-1)
    app.add_handler(CommandHandler(PRIVATE_COMMANDS, private_only, filters=~PRIVATE))
    app.add_handler(CommandHandler("start", onboarding.start, filters=PRIVATE))
    app.add_handler(CommandHandler("help", onboarding.show_help))
    app.add_handler(CommandHandler("lang", onboarding.language))
    app.add_handler(CommandHandler("me", tokens.me, filters=PRIVATE))
    app.add_handler(CommandHandler("grant", tokens.grant))
    app.add_handler(CommandHandler("roles", roles.roles))
    app.add_handler(CallbackQueryHandler(tokens.grant_button, pattern=r"^grant(to|pg):"))
    app.add_handler(CallbackQueryHandler(roles.roles_button, pattern=r"^role(to|pg|set):"))
    app.add_handler(CommandHandler("thanks", thanks.give_thanks))
    app.add_handler(CommandHandler("shop", shop.show_shop, filters=PRIVATE))
    app.add_handler(CommandHandler("redeem", shop.redeem_command, filters=PRIVATE))
    app.add_handler(CommandHandler("chipin", shop.chip_in, filters=PRIVATE))
    app.add_handler(CommandHandler("redemptions", shop.redemptions, filters=PRIVATE))
    app.add_handler(CommandHandler("rewards", shop.manage_rewards, filters=PRIVATE))
    app.add_handler(CommandHandler("goal", goals.manage_goals, filters=PRIVATE))
    app.add_handler(CommandHandler("kpi", goals.report_kpi))
    app.add_handler(CommandHandler("top", reports.top))
    app.add_handler(CommandHandler("export", reports.export, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(shop.redeem_button, pattern=r"^shop:"))
    app.add_handler(CallbackQueryHandler(shop.decide_button, pattern=r"^rdm:"))
    app.add_handler(CallbackQueryHandler(shop.back_button, pattern=r"^back:"))
    app.add_handler(CallbackQueryHandler(thanks.plus_one, pattern=r"^plus:"))
    app.add_handler(CommandHandler("setup_chat", rhythm.setup_chat))
    app.add_handler(CommandHandler("schedule", rhythm.manage_schedule, filters=PRIVATE))
    app.add_handler(CommandHandler("pause", rhythm.pause, filters=PRIVATE))
    app.add_handler(CommandHandler("mixer", rhythm.show_mixer, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(rhythm.we_met, pattern=r"^met:"))
    with warnings.catch_warnings():
        # PTB notes that per_message=False does not track the button per message: this
        # conversation starts with a button and then waits for the person's next text.
        warnings.filterwarnings("ignore", message=".*per_message=False.*", category=PTBUserWarning)
        pain = ConversationHandler(
            entry_points=[CallbackQueryHandler(rhythm.ask_pain, pattern=r"^pain:")],
            states={
                rhythm.WAITING_FOR_PAIN: [
                    MessageHandler(filters.TEXT & ~filters.COMMAND & PRIVATE, rhythm.save_pain)
                ]
            },
            fallbacks=[CommandHandler("cancel", rhythm.cancel_pain)],
            per_message=False,
            allow_reentry=True,  # a second press, or next week's button, asks afresh
            conversation_timeout=PAIN_TIMEOUT,  # an unanswered question is dropped
        )
    app.add_handler(pain)
    app.add_handler(CommandHandler("cancel", rhythm.nothing_to_cancel))
    app.add_handler(
        MessageHandler(PRIVATE & filters.REPLY & filters.TEXT & ~filters.COMMAND, shop.reason_reply)
    )
    app.add_handler(CallbackQueryHandler(onboarding.choose_department, pattern=r"^dept:"))
    app.add_handler(CallbackQueryHandler(onboarding.choose_language, pattern=r"^lang:"))
    app.add_handler(CallbackQueryHandler(unknown_button))
    # Last in its group: only what no handler above took. In a group chat plain talk is left
    # alone; in private nobody is met with silence.
    app.add_handler(
        MessageHandler(
            PRIVATE & filters.UpdateType.MESSAGE & (filters.TEXT | filters.COMMAND),
            onboarding.not_understood,
        )
    )
    app.add_error_handler(on_error)
