"""The Telegram command menu, per language and role, and the /help text built from it."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.domain.roles import Role, at_least
from bot.i18n import LANGUAGES, t
from bot.services.directory import EmployeeView

log = logging.getLogger(__name__)

COMMANDS: dict[Role, tuple[str, ...]] = {
    Role.EMPLOYEE: (
        "start",
        "help",
        "me",
        "thanks",
        "shop",
        "redeem",
        "chipin",
        "top",
        "lang",
        "pause",
    ),
    Role.LEAD: ("kpi",),
    Role.ADMIN: (
        "grant",
        "redemptions",
        "rewards",
        "roles",
        "goal",
        "setup_chat",
        "schedule",
        "mixer",
        "export",
    ),
}


def commands_for(role: str) -> list[str]:
    return [name for level, names in COMMANDS.items() if at_least(role, level) for name in names]


def help_text(language: str, role: str) -> str:
    lines = [t(language, "help.title")]
    for level, names in COMMANDS.items():
        if names and at_least(role, level):
            lines.append("")
            lines.append(t(language, f"help.section.{level.value}"))
            lines.extend(f"/{name} — {t(language, f'command.{name}.help')}" for name in names)
    return "\n".join(lines)


def _menu(language: str, role: str) -> list[BotCommand]:
    return [BotCommand(name, t(language, f"command.{name}")) for name in commands_for(role)]


async def set_default_menus(bot: Bot, default_language: str) -> None:
    """Everyone's menu, in each client language, and for clients in any other language."""
    for language in LANGUAGES:
        await bot.set_my_commands(
            _menu(language, Role.EMPLOYEE), scope=BotCommandScopeDefault(), language_code=language
        )
    await bot.set_my_commands(
        _menu(default_language, Role.EMPLOYEE), scope=BotCommandScopeDefault()
    )


async def set_personal_menu(bot: Bot, employee: EmployeeView) -> None:
    """One person's menu: their role's commands, in the language they chose.

    The menu is a convenience: Telegram refusing it (a deleted account, say) stops nothing.
    """
    try:
        await bot.set_my_commands(
            _menu(employee.language, employee.role),
            scope=BotCommandScopeChat(chat_id=employee.telegram_id),
        )
    except TelegramError as exc:
        log.warning("menu for employee %s not set: %s", employee.id, exc)
