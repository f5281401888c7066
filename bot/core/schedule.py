"""When a user's morning nudge is due: local time, weekdays, pauses, DST and catch-up."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.core.dates import zone

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAYS = 0b0011111
EVERY_DAY = 0b1111111
DEFAULT_TIME = time(8, 30)
DEFAULT_GRACE = timedelta(hours=3)
#: "pause" with no date: until the user resumes.
INDEFINITELY = date(9999, 12, 31)


@dataclass(frozen=True, slots=True)
class NudgePrefs:
    """A user's nudge settings. ``days`` is a bit mask: bit 0 is Monday."""

    timezone: str = "UTC"
    time: time = DEFAULT_TIME
    days: int = WEEKDAYS
    paused_until: date | None = None
    cards: int = 3
    timezone_locked: bool = False  # set by the user, so platform profile refreshes leave it

    def paused_on(self, day: date) -> bool:
        """Paused on ``day``: "pause until 5 Dec" means the nudges come back on 5 Dec."""
        return self.paused_until is not None and day < self.paused_until

    def sends_on(self, day: date) -> bool:
        """A nudge day (right weekday, not paused)."""
        return bool(self.days >> day.weekday() & 1) and not self.paused_on(day)


def nudge_instant(prefs: NudgePrefs, day: date) -> datetime:
    """The UTC instant of ``day``'s nudge at the user's local time.

    In a spring-forward gap (02:30 that never happens) this is the instant the clock jumps
    over it; in a fall-back overlap it is the first of the two 01:30s.
    """
    local = datetime.combine(day, prefs.time).replace(tzinfo=zone(prefs.timezone), fold=0)
    return local.astimezone(UTC)


def due_day(prefs: NudgePrefs, now: datetime, grace: timedelta = DEFAULT_GRACE) -> date | None:
    """The user's local date whose nudge is due at ``now``, or ``None``.

    Due from the nudge time until ``grace`` later, on that local day only: a scheduler that was
    down catches up the same morning, but never sends a nudge for a day that has passed.
    """
    today = now.astimezone(zone(prefs.timezone)).date()
    if not prefs.sends_on(today):
        return None
    start = nudge_instant(prefs, today)
    if start <= now <= start + grace:
        return today
    return None


def describe_days(days: int) -> str:
    """``"Mon–Fri"``, ``"every day"``, ``"Mon, Wed, Fri"``, ``"no days"``."""
    if days & EVERY_DAY == EVERY_DAY:
        return "every day"
    if days & EVERY_DAY == WEEKDAYS:
        return "Mon–Fri"
    if days & EVERY_DAY == 0:
        return "no days"
    return ", ".join(name for i, name in enumerate(DAY_NAMES) if days >> i & 1)


_DAY_WORDS = {name.lower(): i for i, name in enumerate(DAY_NAMES)}
_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$")


def parse_time(text: str) -> time | None:
    """``"8:30"``, ``"08:30"``, ``"8am"``, ``"7.45"``, ``"6:15 pm"`` → a time; else ``None``."""
    found = _TIME.match(text.strip().lower())
    if found is None:
        return None
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    suffix = (found.group(3) or "").replace(".", "")
    if suffix:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def parse_days(text: str) -> int | None:
    """``"weekdays"``, ``"every day"``, ``"mon,wed,fri"``, ``"mon-thu"`` → a bit mask."""
    words = text.strip().lower().replace("–", "-")
    if words in ("weekdays", "mon-fri", "monday-friday", "workdays"):
        return WEEKDAYS
    if words in ("every day", "everyday", "daily", "all", "mon-sun"):
        return EVERY_DAY
    mask = 0
    for part in re.split(r"[\s,;/]+", words):
        if not part:
            continue
        if "-" in part:
            first, _, last = part.partition("-")
            start, end = _DAY_WORDS.get(first[:3]), _DAY_WORDS.get(last[:3])
            if start is None or end is None or end < start:
                return None
            for i in range(start, end + 1):
                mask |= 1 << i
        else:
            index = _DAY_WORDS.get(part[:3])
            if index is None:
                return None
            mask |= 1 << index
    return mask or None
