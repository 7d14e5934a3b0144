"""Ledger rules: amounts, reasons, and how a journal proves the balances."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.errors import AmountTooLarge, InvalidAmount, ReasonRequired, ReasonTooLong
from bot.domain.text import visible_text

MAX_REASON_LENGTH = 200


class SystemAccount(StrEnum):
    """Accounts that belong to no one: where tokens come from, wait, and go."""

    ISSUANCE = "issuance"
    ESCROW = "escrow"
    SPENT = "spent"


def parse_amount(text: str, maximum: int) -> int:
    """A whole, positive number of tokens no larger than `maximum`."""
    cleaned = text.strip().removeprefix("+")
    if not (cleaned.isascii() and cleaned.isdigit()):
        raise InvalidAmount(value=text[:20])
    if len(cleaned) > len(str(maximum)) + 1:
        raise AmountTooLarge(maximum=maximum)
    amount = int(cleaned)
    if amount <= 0:
        raise InvalidAmount(value=text[:20])
    if amount > maximum:
        raise AmountTooLarge(maximum=maximum)
    return amount


def check_amount(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidAmount(value=str(amount)[:20])


def clean_reason(text: str | None) -> str:
    reason = visible_text(text)
    if not reason:
        raise ReasonRequired()
    if len(reason) > MAX_REASON_LENGTH:
        raise ReasonTooLong(maximum=MAX_REASON_LENGTH)
    return reason


@dataclass(frozen=True)
class Movement:
    from_account: int
    to_account: int
    amount: int


@dataclass(frozen=True)
class Discrepancy:
    account_id: int
    stored: int
    journal: int


def balances_from_journal(movements: Iterable[Movement]) -> dict[int, int]:
    """Each account's balance as the journal alone says it is."""
    balances: dict[int, int] = {}
    for move in movements:
        balances[move.from_account] = balances.get(move.from_account, 0) - move.amount
        balances[move.to_account] = balances.get(move.to_account, 0) + move.amount
    return balances


def compare(stored: Mapping[int, int], journal: Mapping[int, int]) -> list[Discrepancy]:
    """Every account whose stored balance differs from what its journal adds up to."""
    return [
        Discrepancy(account_id, stored.get(account_id, 0), journal.get(account_id, 0))
        for account_id in sorted(set(stored) | set(journal))
        if stored.get(account_id, 0) != journal.get(account_id, 0)
    ]
