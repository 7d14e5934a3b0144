"""The mixer's catalogs and rules for a meeting's client pain."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.errors import EmptyPain, TextTooLong
from bot.domain.text import visible_text

TOPICS = 8  # mixer.topic.1 .. mixer.topic.8 in the catalogs
PROMPTS = 10  # mixer.prompt.1 .. mixer.prompt.10
MAX_PAIN = 300


def week_number(period: str) -> int:
    """A running number for an ISO week key like `2026-W48`, to rotate partners and prompts."""
    year, week = period.split("-W")
    return int(year) * 53 + int(week)


def topic_for(period: str) -> int:
    return week_number(period) % TOPICS + 1


def prompt_for(period: str, group_index: int) -> int:
    return (week_number(period) + group_index) % PROMPTS + 1


def clean_pain(text: str | None) -> str:
    pain = visible_text(text)
    if not pain:
        raise EmptyPain()
    if len(pain) > MAX_PAIN:
        raise TextTooLong(maximum=MAX_PAIN)
    return pain


def reminder_at(round_at: datetime, next_round: datetime, tz: ZoneInfo) -> datetime | None:
    """When the people who have not pressed "We met" get their one reminder: halfway to the
    next mixer, in whole days, at the time of day the round went out. A Monday 10:00 mixer
    followed by the next Monday's reminds on Thursday at 10:00 (3 of its 7 days), so nobody is
    reminded in the middle of the night; a round run by hand on Wednesday 14:00 before a Monday
    mixer reminds on Friday at 14:00. None when the next mixer is under two days away.
    """
    days = ((next_round - round_at) / 2).days
    if days < 1:
        return None
    return round_at.astimezone(tz) + timedelta(days=days)
