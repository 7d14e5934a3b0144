"""Reading the arguments people type after a command."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.errors import BadButton, UsageError
from bot.domain.ledger import clean_reason, parse_amount
from bot.domain.roles import Role, parse_role
from bot.domain.text import ascii_number

# Anything written like a number (even a wrong one: -5, 2.5, 1,000) is meant as the amount,
# so it gets the amount's error message instead of being looked up as a person or department.
_NUMBER_LIKE = re.compile(r"[+\-−]?[\d.,]+")


# The largest id an INTEGER key holds: a bigger one (a typo, a forged button) can only be
# "not found", and asking the database for it would fail in the driver instead.
MAX_ID = 2**31 - 1


def possible_id(number: int) -> bool:
    return 0 < number <= MAX_ID


@dataclass(frozen=True)
class GrantRequest:
    target: str | None  # "@username" or a department; None when the command replies to someone
    amount: int
    reason: str


def parse_grant(args: list[str], *, replying: bool, maximum: int) -> GrantRequest:
    """`/grant @user 50 reason`, `/grant marketing 100 reason`, or `/grant 50 reason` as a reply.

    A target written out wins over the message replied to.
    """
    rest = list(args)
    target = rest.pop(0) if rest and not _NUMBER_LIKE.fullmatch(rest[0]) else None
    if not rest or (target is None and not replying):
        raise UsageError(usage="usage.grant")
    amount = parse_amount(rest[0], maximum)
    return GrantRequest(target, amount, clean_reason(" ".join(rest[1:])))


@dataclass(frozen=True)
class RolesRequest:
    target: str | None  # "@username"; None: the person replied to, or one chosen from a list
    role: Role | None  # None: list the leads and admins, and offer to change anyone's role


def parse_roles(args: list[str]) -> RolesRequest:
    """`/roles`, `/roles @user lead`, or `/roles lead` (as a reply, or to choose the person)."""
    if not args:
        return RolesRequest(None, None)
    if len(args) == 1 and not args[0].startswith("@"):
        return RolesRequest(None, parse_role(args[0]))
    if len(args) == 2 and len(args[0]) > 1 and args[0].startswith("@"):
        return RolesRequest(args[0], parse_role(args[1]))
    raise UsageError(usage="usage.roles")


# Telegram user ids fit in 52 bits: sixteen digits at most.
TELEGRAM_ID_DIGITS = 16


def parse_choice(value: str) -> tuple[int, str]:
    """The number and the rest of a list button's value, `<number>.<rest>`: a person's
    Telegram id or a page, then what the list is for."""
    head, dot, rest = value.partition(".")
    number = ascii_number(head, max_digits=TELEGRAM_ID_DIGITS)
    if not dot or number is None:
        raise BadButton()
    return number, rest
