"""Company weeks and months: periods start at local midnight in the company's timezone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.errors import BadDate


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def week_start(moment: datetime, tz: ZoneInfo) -> date:
    """The Monday that starts the company's week containing `moment`."""
    day = local_day(moment, tz)
    return day - timedelta(days=day.weekday())


def week_key(moment: datetime, tz: ZoneInfo) -> str:
    year, week, _ = local_day(moment, tz).isocalendar()
    return f"{year}-W{week:02d}"


def month_key(moment: datetime, tz: ZoneInfo) -> str:
    return local_day(moment, tz).strftime("%Y-%m")


def period_key(period: str, moment: datetime, tz: ZoneInfo) -> str:
    """The key of the week, month or whole life ("once") that contains `moment`."""
    if period == "week":
        return week_key(moment, tz)
    if period == "month":
        return month_key(moment, tz)
    return "once"


def period_start(period: str, moment: datetime, tz: ZoneInfo) -> datetime | None:
    """When the period containing `moment` began (as an aware datetime); None for "once"."""
    if period == "week":
        day = week_start(moment, tz)
    elif period == "month":
        day = local_day(moment, tz).replace(day=1)
    else:
        return None
    return datetime.combine(day, time.min, tzinfo=tz)


def parse_date(text: str) -> date:
    """A calendar day written as 2026-11-01; anything else is refused with what was written."""
    try:
        if len(text) != 10 or not text.isascii():
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise BadDate(value=text[:20]) from None
