"""Lists of people to choose from: reaching someone who has no @username.

Every button is `prefix:<number>.<rest>:<owner>`: it names the one admin it was sent to (see
`bot.keyboards.parse`), and the handler re-checks that admin's role before acting on it.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.commands import parse_choice
from bot.domain.roles import Role
from bot.i18n import department_name, t
from bot.keyboards import parse
from bot.services.directory import EmployeeView, PeoplePage

PAGE_SIZE = 8  # people per page: a list that fits a phone screen


def label(language: str, person: EmployeeView) -> str:
    """How a person is shown on a button: name, @username if any, department."""
    handle = f" (@{person.username})" if person.username else ""
    return f"{person.first_name}{handle} · {department_name(language, person.department)}"


def people(
    language: str, listed: PeoplePage, *, pick: str, turn: str, rest: str, owner: int
) -> InlineKeyboardMarkup:
    """A button per person on this page (`pick`), and ‹ › to turn pages (`turn`)."""
    rows = [
        [
            InlineKeyboardButton(
                label(language, p), callback_data=f"{pick}:{p.telegram_id}.{rest}:{owner}"
            )
        ]
        for p in listed.people
    ]
    pages = []
    if listed.page > 0:
        pages.append(
            InlineKeyboardButton(
                t(language, "button.page_back"),
                callback_data=f"{turn}:{listed.page - 1}.{rest}:{owner}",
            )
        )
    if listed.page + 1 < listed.pages:
        pages.append(
            InlineKeyboardButton(
                t(language, "button.page_more"),
                callback_data=f"{turn}:{listed.page + 1}.{rest}:{owner}",
            )
        )
    if pages:
        rows.append(pages)
    return InlineKeyboardMarkup(rows)


def roles(language: str, person: EmployeeView, *, pick: str, owner: int) -> InlineKeyboardMarkup:
    """A button per role for one person; the one they have is ticked."""
    buttons = []
    for role in Role:
        name = t(language, f"role.{role.value}")
        text = name[:1].upper() + name[1:] + (" ✓" if role.value == person.role else "")
        buttons.append(
            InlineKeyboardButton(
                text, callback_data=f"{pick}:{person.telegram_id}.{role.value}:{owner}"
            )
        )
    return InlineKeyboardMarkup([buttons])


def choice(data: str | None, presser: int) -> tuple[str, int, str]:
    """(prefix, number, rest) of a list button pressed by the one it was sent to."""
    prefix = (data or "").split(":", 1)[0]
    number, rest = parse_choice(parse(data, prefix, presser))
    return prefix, number, rest
