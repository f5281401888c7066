"""When practice buddies are due: the group's theme day and time in its own zone, across DST,
for a few hours, never while paused."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from bot.core.groups.buddy_schedule import BuddyTiming, due_week, pairing_instant

NEW_YORK = BuddyTiming("America/New_York", 0, time(9, 0))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_due_from_the_local_theme_time_for_six_hours() -> None:
    # Monday 2026-11-30, 09:00 in New York is 14:00 UTC (EST).
    assert due_week(NEW_YORK, utc(2026, 11, 30, 13, 59)) is None
    assert due_week(NEW_YORK, utc(2026, 11, 30, 14, 0)) == date(2026, 11, 30)
    assert due_week(NEW_YORK, utc(2026, 11, 30, 20, 0)) == date(2026, 11, 30)
    assert due_week(NEW_YORK, utc(2026, 11, 30, 20, 1)) is None
    assert due_week(NEW_YORK, utc(2026, 12, 1, 14, 0)) is None  # Tuesday


def test_dst_moves_the_utc_instant_not_the_local_time() -> None:
    # Summer time ends 2026-11-01 and starts 2027-03-14 in New York.
    assert pairing_instant(NEW_YORK, date(2026, 10, 26)) == utc(2026, 10, 26, 13, 0)
    assert pairing_instant(NEW_YORK, date(2026, 11, 2)) == utc(2026, 11, 2, 14, 0)
    assert pairing_instant(NEW_YORK, date(2027, 3, 15)) == utc(2027, 3, 15, 13, 0)
    assert due_week(NEW_YORK, utc(2027, 3, 15, 13, 0)) == date(2027, 3, 15)
    assert due_week(NEW_YORK, utc(2027, 3, 8, 13, 0)) is None  # still EST then: 14:00 UTC


def test_a_time_that_never_happens_is_paired_when_the_clock_jumps() -> None:
    # Sunday 2027-03-14, 02:30 does not exist in New York: paired once, at the jump.
    sunday = BuddyTiming("America/New_York", 6, time(2, 30))
    instant = pairing_instant(sunday, date(2027, 3, 8))
    assert instant == utc(2027, 3, 14, 7, 30)
    assert due_week(sunday, instant) == date(2027, 3, 8)


def test_a_sunday_night_pairing_is_still_due_after_midnight() -> None:
    late = BuddyTiming("Europe/Berlin", 6, time(23, 0))
    # Sunday 2026-12-06 23:00 in Berlin = 22:00 UTC; 01:00 on Monday is still in the grace.
    assert due_week(late, utc(2026, 12, 7, 0, 0)) == date(2026, 11, 30)


def test_paused_on_the_pairing_day_skips_the_week() -> None:
    paused = BuddyTiming("UTC", 0, time(9, 0), paused_until=date(2026, 11, 30))
    assert due_week(paused, utc(2026, 11, 30, 9, 0)) is None
    assert due_week(paused, utc(2026, 12, 7, 9, 0)) == date(2026, 12, 7)


def test_an_unknown_zone_counts_as_utc() -> None:
    odd = BuddyTiming("Mars/Olympus", 2, time(9, 0))
    assert due_week(odd, utc(2026, 12, 2, 9, 0)) == date(2026, 11, 30)
