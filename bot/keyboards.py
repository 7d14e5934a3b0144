"""Inline keyboards and the callback data behind their buttons.

Callback data can be forged by any client, so every button names the one person it was sent
to, and every handler re-checks it (and the person's role) before acting.
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.commands import possible_id
from bot.domain.errors import BadButton, ForeignButton
from bot.domain.text import ascii_number
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
    if len(parts) != 3 or parts[0] != prefix or ascii_number(parts[2]) is None:
        raise BadButton()
    if parts[2] != str(presser):
        raise ForeignButton()
    return parts[1]


def shop(items: list[tuple[int, str]], owner: int) -> InlineKeyboardMarkup:
    """A Redeem button per (reward id, label)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"shop:{rid}:{owner}")] for rid, label in items]
    )


def decide(language: str, redemption_id: int) -> InlineKeyboardMarkup:
    """Approve / Reject for admins; the handler checks the presser is an admin."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(language, "button.approve"), callback_data=f"rdm:approve:{redemption_id}"
                ),
                InlineKeyboardButton(
                    t(language, "button.reject"), callback_data=f"rdm:reject:{redemption_id}"
                ),
            ],
            [
                InlineKeyboardButton(
                    t(language, "button.reject_why"), callback_data=f"rdm:why:{redemption_id}"
                )
            ],
        ]
    )


def fulfil(language: str, redemption_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(language, "button.fulfilled"), callback_data=f"rdm:fulfil:{redemption_id}"
                )
            ]
        ]
    )


def back(language: str, redemption_id: int) -> InlineKeyboardMarkup:
    """ "Back it" for a department's colleagues; the handler checks the presser's department."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t(language, "button.back"), callback_data=f"back:{redemption_id}")]]
    )


def parse_back(data: str | None) -> int:
    parts = (data or "").split(":")
    number = ascii_number(parts[1], max_digits=12) if len(parts) == 2 else None
    if parts[0] != "back" or number is None:
        raise BadButton()
    return number


# The key of a thanks given in a chat: `<chat id>:<message id>`, `:<n>` for its n-th person.
_THANKS_KEY = re.compile(r"-?[0-9]{1,20}:[0-9]{1,12}(?::[0-9]{1,2})?")


def plus_one(language: str, thanks_key: str) -> InlineKeyboardMarkup:
    """ "+1" under a thanks in the company chat: anyone may add their own thanks to it."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t(language, "button.plus_one"), callback_data=f"plus:{thanks_key}")]]
    )


def parse_plus(data: str | None) -> str:
    prefix, _, key = (data or "").partition(":")
    if prefix != "plus" or not _THANKS_KEY.fullmatch(key):
        raise BadButton()
    return key


def parse_admin_action(data: str | None) -> tuple[str, int]:
    """(action, redemption id) from an admin's redemption button."""
    parts = (data or "").split(":")
    if (
        len(parts) != 3
        or parts[0] != "rdm"
        or parts[1] not in {"approve", "reject", "why", "fulfil"}
        or (number := ascii_number(parts[2], max_digits=12)) is None
    ):
        raise BadButton()
    return parts[1], number


def mixer_intro(language: str, group_id: int) -> InlineKeyboardMarkup:
    """ "We met" and "Add the client pain" under a mixer intro; members are checked on press."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(t(language, "button.we_met"), callback_data=f"met:{group_id}")],
            [
                InlineKeyboardButton(
                    t(language, "button.add_pain"), callback_data=f"pain:{group_id}"
                )
            ],
        ]
    )


def parse_group(data: str | None, prefix: str) -> int:
    """The mixer group id of a `met:<id>` or `pain:<id>` button."""
    parts = (data or "").split(":")
    number = ascii_number(parts[1], max_digits=10) if len(parts) == 2 else None
    if parts[0] != prefix or number is None or not possible_id(number):
        raise BadButton()
    return number
