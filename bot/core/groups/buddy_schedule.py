"""When a group's practice buddies are due: once a week, at the group's theme day and time in
the group's own time zone (``groups.theme_day`` / ``theme_at``), for a few hours after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.core.dates import zone

__all__ = ["BUDDY_GRACE", "BuddyTiming", "due_week", "pairing_instant"]

#: How long after the theme time a pass still pairs the group (a clock that was down catches
#: up the same day, never a week that has moved on).
BUDDY_GRACE = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class BuddyTiming:
    """What the schedule needs of a group."""

    timezone: str
    #: 0 = Monday … 6 = Sunday.
    theme_day: int
    theme_at: time
    #: The rhythm is paused up to and including this local date.
    paused_until: date | None = None


def pairing_instant(timing: BuddyTiming, week_start: date) -> datetime:
    """The UTC instant the week starting (local Monday) ``week_start`` is paired.

    In a spring-forward gap the local time that never happens maps to the instant the clock
    jumps over it; in a fall-back overlap it is the first of the two (``fold=0``)."""
    day = week_start + timedelta(days=timing.theme_day % 7)
    local = datetime.combine(day, timing.theme_at).replace(tzinfo=zone(timing.timezone), fold=0)
    return local.astimezone(UTC)


def due_week(timing: BuddyTiming, now: datetime, grace: timedelta = BUDDY_GRACE) -> date | None:
    """The local Monday of the group's week whose buddies are due at ``now``, or ``None``
    (not yet, too late, or paused on the pairing day)."""
    today = now.astimezone(zone(timing.timezone)).date()
    this_week = today - timedelta(days=today.weekday())
    # Last week too: a Sunday-night pairing is still due in its grace after midnight.
    for week_start in (this_week, this_week - timedelta(days=7)):
        day = week_start + timedelta(days=timing.theme_day % 7)
        if timing.paused_until is not None and day <= timing.paused_until:
            continue
        start = pairing_instant(timing, week_start)
        if start <= now <= start + grace:
            return week_start
    return None
