"""Reading the arguments people type after a command."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.errors import UsageError
from bot.domain.ledger import clean_reason, parse_amount

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
