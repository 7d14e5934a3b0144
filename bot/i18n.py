"""Translations: gettext catalogs (`locales/<lang>/*.po`) read with Babel.

Messages are looked up by a stable key (the msgid) and formatted with `str.format`
placeholders, so a test can check that both languages carry the same ones.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.messages.pofile import read_po

LANGUAGES = ("ru", "en")
LOCALES_DIR = Path(__file__).parent / "locales"
_PLURAL_ORDER = {"en": ("one", "other"), "ru": ("one", "few", "many")}

Message = str | tuple[str, ...]


@cache
def catalog(language: str) -> dict[str, Message]:
    """Every message of one language, from all of its `.po` files."""
    messages: dict[str, Message] = {}
    for path in sorted((LOCALES_DIR / language).glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if not message.id:
                    continue
                key = str(message.id[0] if isinstance(message.id, (tuple, list)) else message.id)
                value = message.string
                messages[key] = tuple(value) if isinstance(value, (tuple, list)) else str(value)
    return messages


def pick_language(code: str | None, default: str) -> str:
    """The catalog language for a Telegram client's `language_code`."""
    if code:
        base = code.split("-")[0].lower()
        if base in LANGUAGES:
            return base
        return "en"
    return default


def placeholders(message: Message) -> set[str]:
    forms = message if isinstance(message, tuple) else (message,)
    return {
        name.split(".")[0].split("[")[0]
        for form in forms
        for _, name, _, _ in string.Formatter().parse(form)
        if name
    }


@cache
def _plural_rule(language: str) -> Callable[[float], str]:
    return Locale.parse(language).plural_form  # type: ignore[no-any-return]


def _plural_index(language: str, n: int) -> int:
    category = _plural_rule(language)(abs(n))
    order = _PLURAL_ORDER[language]
    return order.index(category) if category in order else len(order) - 1


def t(language: str, key: str, /, **params: Any) -> str:
    """The message `key` in `language`, formatted with `params`.

    A plural message (msgid_plural) picks its form by the `n` parameter.
    """
    message = catalog(language).get(key) or catalog("en").get(key)
    if message is None:
        raise KeyError(f"no message {key!r}")
    if isinstance(message, tuple):
        message = message[_plural_index(language, int(params["n"]))]
    return message.format(**params)


def tokens(language: str, n: int) -> str:
    """`5 tokens` / `5 токенов`."""
    return t(language, "unit.tokens", n=n)


def when(language: str, moment: datetime, timezone: ZoneInfo) -> str:
    """A moment in the company's timezone, written the way the reader's language writes it."""
    return format_datetime(moment.astimezone(timezone), "d MMM HH:mm", locale=language)


def department_name(language: str, department: Any) -> str:
    """A department's name in the reader's language where the catalog has one."""
    key = f"department.{department.code}"
    return t(language, key) if key in catalog(language) else str(department.name)


def signed(amount: int) -> str:
    return f"+{amount}" if amount > 0 else f"−{abs(amount)}"
