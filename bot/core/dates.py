"""Dates as people read them, and "today" in a user's own time zone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def zone(name: str | None) -> ZoneInfo:
    """The named IANA zone, falling back to UTC for unknown or missing names."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_today(now: datetime, tz: str | None) -> date:
    """The calendar date at ``now`` in time zone ``tz``."""
    return now.astimezone(zone(tz)).date()


def show(day: date, today: date | None = None) -> str:
    """``"3 Oct"`` this year, ``"3 Oct 2025"`` in another year."""
    if today is not None and day.year == today.year:
        return f"{day.day} {day:%b}"
    return f"{day.day} {day:%b %Y}"


def ago(day: date, today: date) -> str:
    """``"today"``, ``"yesterday"``, ``"5 days ago"``, ``"3 weeks ago"``, ``"4 months ago"``."""
    days = (today - day).days
    if days < 0:
        return until(day, today)
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 14:
        return f"{days} days ago"
    if days < 60:
        return f"{days // 7} weeks ago"
    if days < 730:
        return f"{days // 30} months ago"
    return f"{days // 365} years ago"


def until(day: date, today: date) -> str:
    """``"today"``, ``"tomorrow"``, ``"in 5 days"``, ``"in 3 weeks"``."""
    days = (day - today).days
    if days <= 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days < 14:
        return f"in {days} days"
    if days < 60:
        return f"in {days // 7} weeks"
    return f"in {days // 30} months"


def overdue(days: int) -> str:
    """``"due today"``, ``"1 day overdue"``, ``"12 days overdue"``."""
    if days <= 0:
        return "due today"
    return "1 day overdue" if days == 1 else f"{days} days overdue"
