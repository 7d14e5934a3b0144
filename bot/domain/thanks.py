"""Thanks (kudos): a weekly giving allowance, a per-pair daily cap, a cross-department bonus."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.errors import AllowanceExceeded, PairCapReached, UsageError
from bot.domain.ledger import clean_reason, parse_amount

# Anything written like a number (even a wrong one: -1, −1, 2.5, .5) is meant as the amount,
# so it gets the amount's error message instead of becoming the start of the reason.
_NUMBER_LIKE = re.compile(r"[+\-−]?[.,]?\d[\d.,]*")


@dataclass(frozen=True)
class ThanksRequest:
    receiver: str | None  # "@username"; None when the command replies to someone
    amount: int
    reason: str


def parse_thanks(args: list[str], *, replying: bool, maximum: int) -> ThanksRequest:
    """`/thanks @user 2 reason`, `/thanks @user reason` (1 token), or either form as a reply."""
    rest = list(args)
    receiver = rest.pop(0) if rest and rest[0].startswith("@") else None
    if receiver is None and not replying:
        raise UsageError(usage="usage.thanks")
    amount = 1
    if rest and _NUMBER_LIKE.fullmatch(rest[0]):
        amount = parse_amount(rest.pop(0), maximum)
    return ThanksRequest(receiver, amount, clean_reason(" ".join(rest)))


@dataclass(frozen=True)
class ThanksRules:
    weekly_allowance: int
    pair_daily_cap: int
    cross_multiplier: int

    def check(self, amount: int, given_this_week: int, given_to_pair_today: int) -> None:
        """Refuse thanks beyond the giver's weekly allowance or the pair's daily cap."""
        left = self.weekly_allowance - given_this_week
        if amount > left:
            raise AllowanceExceeded(left=max(left, 0), allowance=self.weekly_allowance)
        pair_left = self.pair_daily_cap - given_to_pair_today
        if amount > pair_left:
            raise PairCapReached(left=max(pair_left, 0), cap=self.pair_daily_cap)

    def paid(self, amount: int, cross_department: bool) -> int:
        """What the receiver gets: thanks across the department line count more."""
        return amount * self.cross_multiplier if cross_department else amount
