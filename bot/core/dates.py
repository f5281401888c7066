"""Dates as people read them, and "today" in a user's own time zone."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


#: Names the zone database may list that are not zones a person lives in: the server's own
#: zone under another name, a POSIX default, and tzdata's "no zone set" placeholder.
_NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})


@functools.cache
def known_zones() -> frozenset[str]:
    """Every IANA zone name we accept (read once: listing the zone database is slow)."""
    return frozenset(available_timezones()) - _NOT_PLACES


@functools.cache
def _by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in known_zones()}


def canonical_zone(text: str) -> str | None:
    """The IANA zone ``text`` names, or ``None``: ``"europe/paris"`` and ``"America/New York"``
    are read as ``Europe/Paris`` and ``America/New_York``; ``"America"`` is not a zone."""
    name = "_".join(text.strip().split())
    if name in known_zones():
        return name
    return _by_folded_name().get(name.casefold())


def unknown_zone_message(text: str) -> str:
    """What to say when ``text`` is not a time zone: a region gets an example from it."""
    region = "_".join(text.strip().split()).strip("/").casefold()
    examples = sorted(n for n in known_zones() if n.casefold().startswith(region + "/"))
    if region and examples:
        example = next((n for n in _EXAMPLES if n in examples), examples[0])
        return f"“{text.strip()[:40]}” is a region, not a time zone — add a city, like {example}."
    return "That time zone isn't one I know — try a city, like Europe/Paris or America/New_York."


#: Well-known zones, offered as examples when someone types only a region ("America").
_EXAMPLES = (
    "Africa/Lagos",
    "America/New_York",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Europe/Paris",
    "Pacific/Auckland",
)


def zone(name: str | None) -> ZoneInfo:
    """The named IANA zone, falling back to UTC for unknown or missing names.

    Only names in :func:`known_zones` reach :class:`ZoneInfo`: other text ("America", a path,
    300 characters) would make it read the file system and raise ``OSError``.
    """
    if name and name in known_zones():
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
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
