"""The reward shop's rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.errors import TextTooLong, UsageError
from bot.domain.ledger import parse_amount

MAX_REWARD_NAME = 100
MAX_PRICE = 1_000_000


class RewardKind(StrEnum):
    PERSONAL = "personal"
    DEPARTMENT = "department"


class Status(StrEnum):
    # A department reward asked for by a member waits for a colleague to back it.
    PROPOSED = "proposed"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


@dataclass(frozen=True)
class DefaultReward:
    code: str
    name_en: str
    name_ru: str
    price: int
    kind: RewardKind
    per_person_limit: int | None = None


DEFAULT_REWARDS = (
    DefaultReward(
        "pizza", "Pizza for the department", "Пицца для отдела", 100, RewardKind.DEPARTMENT
    ),
    DefaultReward("coffee", "Coffee break", "Кофе-брейк", 20, RewardKind.PERSONAL),
    DefaultReward("lunch", "Team lunch", "Командный обед", 250, RewardKind.DEPARTMENT),
    DefaultReward("party", "Corporate party", "Корпоратив", 1000, RewardKind.DEPARTMENT),
    DefaultReward(
        "day_off",
        "An extra day off",
        "Дополнительный выходной",
        300,
        RewardKind.PERSONAL,
        per_person_limit=1,
    ),
    DefaultReward(
        "charity",
        "A donation to charity",
        "Пожертвование на благотворительность",
        50,
        RewardKind.PERSONAL,
    ),
)


@dataclass(frozen=True)
class NewReward:
    code: str
    name_en: str
    name_ru: str
    price: int
    kind: RewardKind


def parse_new_reward(args: list[str]) -> NewReward:
    """`code price personal|department English name | Русское название`."""
    if len(args) < 4:
        raise UsageError(usage="usage.rewards")
    code = args[0].lower()
    # A code of digits only would be taken for a reward's number by /redeem and /rewards.
    if not re.fullmatch(r"[a-z0-9_]{2,32}", code) or code.isdecimal():
        raise UsageError(usage="usage.rewards")
    price = parse_amount(args[1], MAX_PRICE)
    try:
        kind = RewardKind(args[2].lower())
    except ValueError:
        raise UsageError(usage="usage.rewards") from None
    names = " ".join(args[3:]).split("|")
    name_en = names[0].strip()
    name_ru = (names[1] if len(names) > 1 else names[0]).strip()
    if not name_en or not name_ru:
        raise UsageError(usage="usage.rewards")
    if max(len(name_en), len(name_ru)) > MAX_REWARD_NAME:
        raise TextTooLong(maximum=MAX_REWARD_NAME)
    return NewReward(code, name_en, name_ru, price, kind)


def parse_optional_count(text: str) -> int | None:
    """A stock or limit: a whole number of zero or more, or `none` for unlimited."""
    if text.lower() in {"none", "-", "∞", "unlimited"}:
        return None
    if text == "0":
        return 0
    return parse_amount(text, MAX_PRICE)
