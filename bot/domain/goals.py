"""Shared goals: how many times a target has been reached."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.errors import (
    BadGoalCode,
    BadPeriod,
    GoalRewardMissing,
    GoalTitleMissing,
    ReportTooLarge,
    TextTooLong,
    TruceError,
    UsageError,
)
from bot.domain.ledger import parse_amount

PERIODS = ("week", "month", "once")


class ReportWalletSpent(TruceError):
    """A report cannot be voided: a wallet it paid has spent what taking it back needs."""

    key = "error.report_wallet_spent"


def times_reached(total: int, target: int, repeating: bool) -> int:
    """A repeating goal is reached once per `target`; a single one at most once."""
    reached = total // target
    return reached if repeating else min(reached, 1)


@dataclass(frozen=True)
class Payout:
    """Targets `first` .. `first + count - 1` newly paid by one report (count may be 0)."""

    first: int
    count: int
    capped: bool  # more targets were reached than the period may pay for


def check_report(amount: int, target: int, max_targets: int, code: str) -> None:
    """One report adds at most `max_targets` times the goal's target."""
    if amount > target * max_targets:
        raise ReportTooLarge(code=code, maximum=target * max_targets)


def payout(
    total_after: int,
    target: int,
    repeating: bool,
    *,
    paid: int,
    last_ordinal: int,
    max_payouts: int,
) -> Payout:
    """What a report that brings the period's progress to `total_after` pays, in O(1).

    `paid` targets were paid in this period already, the highest of them `last_ordinal` (higher
    than `paid` when a voided report left a gap); a period pays at most `max_payouts` times.
    """
    reached = times_reached(total_after, target, repeating)
    payable = min(reached, max_payouts)
    return Payout(last_ordinal + 1, max(payable - paid, 0), capped=reached > max_payouts)


def new_achievements(before: int, after: int, target: int, repeating: bool) -> range:
    """Ordinals (1-based) of the achievements that progress from `before` to `after` unlocked."""
    return range(
        times_reached(before, target, repeating) + 1, times_reached(after, target, repeating) + 1
    )


MAX_TARGET = 1_000_000
MAX_TITLE = 200


@dataclass(frozen=True)
class GoalSpec:
    code: str
    title: str
    target: int
    period: str
    reward_tokens: int
    repeating: bool
    reward_code: str | None
    reward_department: str | None


def parse_goal(args: list[str]) -> GoalSpec:
    """`code target week|month|once tokens [repeat] [reward@department] title`."""
    if len(args) < 5:
        raise UsageError(usage="usage.goal")
    code, target_text, period, tokens_text, *rest = args
    code = code.lower()
    if not re.fullmatch(r"[a-z0-9_]{2,32}", code):
        raise BadGoalCode(code=code[:32])
    if period.lower() not in PERIODS:
        raise BadPeriod(period=period[:32])
    target = parse_amount(target_text, MAX_TARGET)
    reward_tokens = 0 if tokens_text == "0" else parse_amount(tokens_text, MAX_TARGET)
    repeating = bool(rest) and rest[0].lower() == "repeat"
    if repeating:
        rest = rest[1:]
    reward_code = reward_department = None
    if rest and re.fullmatch(r"[a-z0-9_]+@[\w-]+", rest[0].lower()):
        reward_code, reward_department = rest.pop(0).lower().split("@")
    title = " ".join(rest).strip()
    if not title:
        raise GoalTitleMissing()
    if len(title) > MAX_TITLE:
        raise TextTooLong(maximum=MAX_TITLE)
    if not reward_tokens and reward_code is None:
        raise GoalRewardMissing()
    return GoalSpec(
        code,
        title,
        target,
        period.lower(),
        reward_tokens,
        repeating,
        reward_code,
        reward_department,
    )
