"""Inline keyboards and the callback data behind their buttons.

Callback data can be forged by any client, so every button names the one person it was sent
to, and every handler re-checks it (and the person's role) before acting.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.errors import BadButton, ForeignButton
from bot.i18n import LANGUAGES, t

LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}


def departments(options: list[tuple[str, str]], owner: int) -> InlineKeyboardMarkup:
    """One button per (code, label); pressing it joins that department."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=f"dept:{code}:{owner}")]
            for code, label in options
        ]
    )


def languages(owner: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(LANGUAGE_NAMES[code], callback_data=f"lang:{code}:{owner}")
                for code in LANGUAGES
            ]
        ]
    )


def open_private(language: str, bot_username: str) -> InlineKeyboardMarkup:
    """A button that opens a private chat with the bot."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(language, "button.open_private"), url=f"https://t.me/{bot_username}?start=go"
                )
            ]
        ]
    )


def parse(data: str | None, prefix: str, presser: int) -> str:
    """The value of a `prefix:value:owner` button pressed by its owner."""
    parts = (data or "").split(":")
    if len(parts) != 3 or parts[0] != prefix or not parts[2].isdecimal():
        raise BadButton()
    if parts[2] != str(presser):
        raise ForeignButton()
    return parts[1]
