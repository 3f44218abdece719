"""The shop's notion of "today" and date helpers shared by the seed and the actions."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta, timezone

RETURN_WINDOW_DAYS = 30


def today() -> date:
    """Today's date in UTC, the calendar every order date is stored in."""
    return datetime.now(timezone.utc).date()


def utc_now() -> datetime:
    """The current UTC time as a naive datetime (how the database stores timestamps)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def return_deadline(delivered_on: date) -> date:
    """The last day on which items of an order delivered on `delivered_on` can be returned."""
    return delivered_on + timedelta(days=RETURN_WINDOW_DAYS)


def format_date(value: date | datetime) -> str:
    """A date in the form "March 5, 2026"."""
    return f"{value:%B} {value.day}, {value.year}"


def add_business_days(start: date, days: int) -> date:
    """The date `days` business days (Monday to Friday) after `start`."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def add_months(start: date, months: int) -> date:
    """The same day `months` months later (the month's last day when it is shorter)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return start.replace(year=year, month=month, day=min(start.day, last_day))
