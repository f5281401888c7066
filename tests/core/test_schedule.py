"""Nudge timing: local times across DST, odd offsets, the date line, weekdays, pauses, grace."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.core.schedule import (
    EVERY_DAY,
    WEEKDAYS,
    NudgePrefs,
    describe_days,
    due_day,
    nudge_instant,
    parse_days,
    parse_time,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "day", "expected_utc"),
    [
        ("UTC", date(2026, 12, 1), utc(2026, 12, 1, 8, 30)),
        ("Asia/Kolkata", date(2026, 12, 1), utc(2026, 12, 1, 3, 0)),  # +05:30
        ("Pacific/Chatham", date(2026, 12, 1), utc(2026, 11, 30, 18, 45)),  # +13:45 in summer
        ("Pacific/Chatham", date(2026, 7, 1), utc(2026, 6, 30, 19, 45)),  # +12:45 in winter
        ("Asia/Kathmandu", date(2026, 12, 1), utc(2026, 12, 1, 2, 45)),  # +05:45
        ("Pacific/Kiritimati", date(2026, 12, 1), utc(2026, 11, 30, 18, 30)),  # +14
        ("Pacific/Pago_Pago", date(2026, 12, 1), utc(2026, 12, 1, 19, 30)),  # -11
        # New York: EDT (-4) before 1 Nov 2026, EST (-5) after; 8 March 2026 springs forward.
        ("America/New_York", date(2026, 10, 30), utc(2026, 10, 30, 12, 30)),
        ("America/New_York", date(2026, 11, 2), utc(2026, 11, 2, 13, 30)),
        ("America/New_York", date(2026, 3, 9), utc(2026, 3, 9, 12, 30)),
        # London: BST ends 25 Oct 2026.
        ("Europe/London", date(2026, 10, 23), utc(2026, 10, 23, 7, 30)),
        ("Europe/London", date(2026, 10, 26), utc(2026, 10, 26, 8, 30)),
    ],
)
def test_nudge_time_is_local(tz: str, day: date, expected_utc: datetime) -> None:
    assert nudge_instant(NudgePrefs(timezone=tz), day) == expected_utc


def test_a_time_in_the_spring_forward_gap_still_happens() -> None:
    prefs = NudgePrefs(timezone="America/New_York", time=time(2, 30), days=EVERY_DAY)
    instant = nudge_instant(prefs, date(2026, 3, 8))  # 02:00 → 03:00 that morning
    assert instant == utc(2026, 3, 8, 7, 30)  # = 03:30 EDT
    assert due_day(prefs, instant) == date(2026, 3, 8)


def test_a_time_in_the_fall_back_overlap_happens_once() -> None:
    prefs = NudgePrefs(timezone="America/New_York", time=time(1, 30), days=EVERY_DAY)
    first = nudge_instant(prefs, date(2026, 11, 1))
    assert first == utc(2026, 11, 1, 5, 30)  # the first 01:30 (EDT)
    assert due_day(prefs, first, timedelta(hours=3)) == date(2026, 11, 1)


def test_due_window_is_the_grace_period_of_that_local_day() -> None:
    prefs = NudgePrefs(timezone="Asia/Kolkata")  # 08:30 IST = 03:00 UTC
    assert due_day(prefs, utc(2026, 12, 1, 2, 59)) is None
    assert due_day(prefs, utc(2026, 12, 1, 3, 0)) == date(2026, 12, 1)
    assert due_day(prefs, utc(2026, 12, 1, 5, 59)) == date(2026, 12, 1)
    assert due_day(prefs, utc(2026, 12, 1, 6, 0)) == date(2026, 12, 1)
    assert due_day(prefs, utc(2026, 12, 1, 6, 1)) is None  # grace (3 h) is over
    assert due_day(prefs, utc(2026, 12, 1, 6, 1), timedelta(hours=4)) == date(2026, 12, 1)


def test_across_the_date_line_the_local_day_decides() -> None:
    """At 19:00 UTC on Monday 30 Nov it is already Tuesday 1 Dec in Kiritimati."""
    kiritimati = NudgePrefs(timezone="Pacific/Kiritimati")
    samoa = NudgePrefs(timezone="Pacific/Pago_Pago")  # Monday 08:00 there
    at = utc(2026, 11, 30, 19, 0)
    assert due_day(kiritimati, at) == date(2026, 12, 1)
    assert due_day(samoa, at) is None  # 08:00 < 08:30
    assert due_day(samoa, at + timedelta(minutes=30)) == date(2026, 11, 30)


def test_a_late_nudge_never_spills_into_the_next_day() -> None:
    prefs = NudgePrefs(time=time(23, 0), days=EVERY_DAY)
    assert due_day(prefs, utc(2026, 12, 1, 23, 30)) == date(2026, 12, 1)
    assert due_day(prefs, utc(2026, 12, 2, 0, 30)) is None  # next local day, before 23:00


def test_weekdays_and_pause() -> None:
    prefs = NudgePrefs()
    saturday = utc(2026, 11, 28, 9, 0)
    assert due_day(prefs, saturday) is None
    assert due_day(NudgePrefs(days=EVERY_DAY), saturday) == date(2026, 11, 28)
    paused = NudgePrefs(paused_until=date(2026, 12, 2))
    assert due_day(paused, utc(2026, 12, 1, 9, 0)) is None
    assert due_day(paused, utc(2026, 12, 2, 9, 0)) == date(2026, 12, 2)  # back that morning


@pytest.mark.parametrize(
    ("text", "expected"),
    [("8:30", time(8, 30)), ("08:30", time(8, 30)), ("8am", time(8)), ("7.45", time(7, 45)),
     ("6:15 pm", time(18, 15)), ("12am", time(0)), ("12pm", time(12)), ("23:59", time(23, 59)),
     ("24:00", None), ("13pm", None), ("banana", None), ("8:5", None)],
)  # fmt: skip
def test_parse_time(text: str, expected: time | None) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("text", "mask"),
    [("weekdays", WEEKDAYS), ("every day", EVERY_DAY), ("mon, wed, fri", 0b10101),
     ("Mon–Thu", 0b1111), ("saturday sunday", 0b1100000), ("fri-mon", None), ("", None),
     ("someday", None)],
)  # fmt: skip
def test_parse_days(text: str, mask: int | None) -> None:
    assert parse_days(text) == mask


def test_describe_days() -> None:
    assert describe_days(WEEKDAYS) == "Mon–Fri"
    assert describe_days(EVERY_DAY) == "every day"
    assert describe_days(0b10101) == "Mon, Wed, Fri"
