"""Thanks (kudos): a weekly giving allowance, a per-pair daily cap, a cross-department bonus."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.errors import (
    AboveAllowance,
    AllowanceExceeded,
    AmountTooLarge,
    PairCapReached,
    TooManyReceivers,
    UsageError,
)
from bot.domain.ledger import clean_reason, parse_amount

# Anything written like a number (even a wrong one: -1, −1, 2.5, .5) is meant as the amount,
# so it gets the amount's error message instead of becoming the start of the reason.
_NUMBER_LIKE = re.compile(r"[+\-−]?[.,]?\d[\d.,]*")


# One /thanks may name several people; each counts against the allowance on its own.
MAX_RECEIVERS = 10


@dataclass(frozen=True)
class ThanksRequest:
    receivers: tuple[str, ...]  # "@username"s in the order named; empty when replying to someone
    amount: int
    reason: str


def parse_thanks(args: list[str], *, replying: bool, maximum: int) -> ThanksRequest:
    """`/thanks @user 2 reason`, `/thanks @carl @olga 1 reason` (each named person thanked),
    `/thanks @user reason` (1 token), or `/thanks 2 reason` as a reply."""
    rest = list(args)
    receivers: list[str] = []
    while rest and rest[0].startswith("@"):
        handle = rest.pop(0)
        if handle.casefold() not in {named.casefold() for named in receivers}:
            receivers.append(handle)
    if not receivers and not replying:
        raise UsageError(usage="usage.thanks")
    if len(receivers) > MAX_RECEIVERS:
        raise TooManyReceivers(maximum=MAX_RECEIVERS)
    amount = 1
    if rest and _NUMBER_LIKE.fullmatch(rest[0]):
        try:
            amount = parse_amount(rest.pop(0), maximum)
        except AmountTooLarge:
            raise AboveAllowance(allowance=maximum) from None
    return ThanksRequest(tuple(receivers), amount, clean_reason(" ".join(rest)))


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
