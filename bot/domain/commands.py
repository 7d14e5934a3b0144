"""Reading the arguments people type after a command."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.errors import UsageError
from bot.domain.ledger import clean_reason, parse_amount


@dataclass(frozen=True)
class GrantRequest:
    target: str | None  # "@username" or a department; None when the command replies to someone
    amount: int
    reason: str


def parse_grant(args: list[str], *, replying: bool, maximum: int) -> GrantRequest:
    """`/grant @user 50 reason`, `/grant marketing 100 reason`, or `/grant 50 reason` as a reply."""
    rest = list(args)
    target = rest.pop(0) if rest and (rest[0].startswith("@") or not replying) else None
    if not rest:
        raise UsageError(usage="usage.grant")
    amount = parse_amount(rest[0], maximum)
    return GrantRequest(target, amount, clean_reason(" ".join(rest[1:])))
