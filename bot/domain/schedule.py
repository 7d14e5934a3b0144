"""When scheduled posts are due, in the company's timezone, and what to do about a late one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.errors import BadSchedule, UnknownTimezone

DAYS = {
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
    "пн": 0,
    "вт": 1,
    "ср": 2,
    "чт": 3,
    "пт": 4,
    "сб": 5,
    "вс": 6,
}
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FULL_NAMES = (
    ("monday", "понедельник"),
    ("tuesday", "вторник"),
    ("wednesday", "среда", "среду"),
    ("thursday", "четверг"),
    ("friday", "пятница", "пятницу"),
    ("saturday", "суббота", "субботу"),
    ("sunday", "воскресенье"),
)


@dataclass(frozen=True)
class Slot:
    weekday: int  # Monday is 0
    minute: int  # after local midnight

    def label(self) -> str:
        return f"{DAY_NAMES[self.weekday]} {self.minute // 60:02d}:{self.minute % 60:02d}"


def parse_day(text: str) -> int:
    """A day as written: `mon`, `пн`, or the start of its full name (`wednes`, `пятницу`).

    Only the start of a name counts, so `sunny` or `monkey` is not taken for a day.
    """
    word = text.strip().lower().rstrip(".")
    if word in DAYS:
        return DAYS[word]
    if len(word) >= 3:
        for day, names in enumerate(FULL_NAMES):
            if any(name.startswith(word) for name in names):
                return day
    raise BadSchedule(value=text[:20])


def parse_time(text: str) -> int:
    match = re.fullmatch(r"(\d{1,2})[:.](\d{2})", text.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise BadSchedule(value=text[:20])
    return int(match[1]) * 60 + int(match[2])


# The longest IANA name is under 40 characters; a longer text is no zone, and checking it
# would make ZoneInfo open a file of that name.
MAX_TIMEZONE = 64


def parse_timezone(text: str) -> str:
    name = text.strip()
    if not name or len(name) > MAX_TIMEZONE or not name.isascii():
        raise UnknownTimezone(value=text[:40])
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimezone(value=text[:40]) from None
    return text.strip()


def _at(day: datetime, minute: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day.date(), time(minute // 60, minute % 60), tzinfo=tz)


def last_weekly(slot: Slot, now: datetime, tz: ZoneInfo) -> datetime:
    """The latest moment at or before `now` when a weekly `slot` was due."""
    local = now.astimezone(tz)
    days_back = (local.weekday() - slot.weekday) % 7
    due = _at(local - timedelta(days=days_back), slot.minute, tz)
    if due > local:
        due = _at(local - timedelta(days=days_back + 7), slot.minute, tz)
    return due


def last_monthly(minute: int, now: datetime, tz: ZoneInfo) -> datetime:
    """The latest first-of-the-month at `minute` at or before `now`."""
    local = now.astimezone(tz)
    due = _at(local.replace(day=1), minute, tz)
    if due > local:
        previous = (local.replace(day=1) - timedelta(days=1)).replace(day=1)
        due = _at(previous, minute, tz)
    return due


def next_weekly(slot: Slot, after: datetime, tz: ZoneInfo) -> datetime:
    """The first moment strictly after `after` when a weekly `slot` is due."""
    local = after.astimezone(tz)
    days_ahead = (slot.weekday - local.weekday()) % 7
    due = _at(local + timedelta(days=days_ahead), slot.minute, tz)
    if due <= local:
        due = _at(local + timedelta(days=days_ahead + 7), slot.minute, tz)
    return due


def next_monthly(minute: int, after: datetime, tz: ZoneInfo) -> datetime:
    """The first first-of-the-month at `minute` strictly after `after`."""
    local = after.astimezone(tz)
    due = _at(local.replace(day=1), minute, tz)
    if due <= local:
        following = (local.replace(day=1) + timedelta(days=32)).replace(day=1)
        due = _at(following, minute, tz)
    return due


def last_due(slot: Slot, monthly: bool, now: datetime, tz: ZoneInfo) -> datetime:
    """The latest moment at or before `now` when the post was due."""
    return last_monthly(slot.minute, now, tz) if monthly else last_weekly(slot, now, tz)


def next_due(slot: Slot, monthly: bool, after: datetime, tz: ZoneInfo) -> datetime:
    """The first moment strictly after `after` when the post is due."""
    return next_monthly(slot.minute, after, tz) if monthly else next_weekly(slot, after, tz)


def period_of(due: datetime, monthly: bool, tz: ZoneInfo) -> str:
    """The period a post due at `due` is the run of: its ISO week, or the month it looks back on."""
    return monthly_period(due, tz) if monthly else weekly_period(due, tz)


def set_in_time(due: datetime, since: datetime | None) -> bool:
    """Whether a moment counts under a slot set at `since`: a moment that had already passed
    when an admin set the slot is not one they asked for (the slot starts with its next one).

    Slots are in whole minutes, so a slot set for this very minute counts.
    """
    return since is None or due >= since.replace(second=0, microsecond=0)


def weekly_period(due: datetime, tz: ZoneInfo) -> str:
    year, week, _ = due.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def monthly_period(due: datetime, tz: ZoneInfo) -> str:
    """The month a monthly digest due at `due` looks back on."""
    previous = due.astimezone(tz).replace(day=1) - timedelta(days=1)
    return previous.strftime("%Y-%m")


def still_worth_sending(due: datetime, now: datetime, grace: timedelta) -> bool:
    """A post missed while the bot was down is sent late only within the grace window."""
    return now - due <= grace
