"""The weekly goal and its streak: weeks, goals in force, counting people, parsing ``goal``."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot.core.dates import local_today
from bot.core.goals import (
    MAX_GOAL,
    GoalChange,
    GoalError,
    Reach,
    goal_for,
    parse_goal,
    progress,
    week_start,
    weekly_counts,
)

MON = date(2026, 11, 30)


def reach(day: date, *contacts: int) -> list[Reach]:
    return [Reach(day, c) for c in contacts]


@pytest.mark.parametrize(
    ("day", "monday"),
    [
        (date(2026, 11, 30), date(2026, 11, 30)),  # a Monday is its own week's start
        (date(2026, 12, 6), date(2026, 11, 30)),  # Sunday ends the week
        (date(2026, 12, 7), date(2026, 12, 7)),
        (date(2027, 1, 1), date(2026, 12, 28)),  # across the new year
        (date(2028, 2, 29), date(2028, 2, 28)),
    ],
)
def test_weeks_run_monday_to_sunday(day: date, monday: date) -> None:
    assert week_start(day) == monday


def test_the_week_is_the_users_local_one() -> None:
    """Sunday 23:30 in Los Angeles is already Monday in UTC and in Tokyo: each user's week is
    their own."""
    moment = datetime.fromisoformat("2026-12-07T07:30:00+00:00")
    assert week_start(local_today(moment, "America/Los_Angeles")) == date(2026, 11, 30)
    assert week_start(local_today(moment, "Asia/Tokyo")) == date(2026, 12, 7)


def test_each_person_counts_once_a_week() -> None:
    reached = reach(MON, 1, 2) + reach(MON + timedelta(days=3), 1) + reach(MON + timedelta(7), 1)
    assert weekly_counts(reached) == {MON: 2, MON + timedelta(7): 1}


def test_the_goal_in_force_is_the_latest_set_on_or_before_the_week() -> None:
    changes = [GoalChange(MON + timedelta(7), 4), GoalChange(MON - timedelta(14), 2)]
    assert goal_for(changes, MON - timedelta(21)) == 0
    assert goal_for(changes, MON - timedelta(14)) == 2
    assert goal_for(changes, MON) == 2
    assert goal_for(changes, MON + timedelta(7)) == 4
    assert goal_for([*changes, GoalChange(MON + timedelta(14), 0)], MON + timedelta(21)) == 0


def test_progress_and_streak_over_weeks_with_different_goals() -> None:
    changes = [GoalChange(MON - timedelta(21), 1), GoalChange(MON - timedelta(7), 2)]
    reached = (
        reach(MON - timedelta(20), 5)  # 3 weeks ago: 1 of 1
        + reach(MON - timedelta(13), 5)  # 2 weeks ago: 1 of 1
        + reach(MON - timedelta(6), 5, 6)  # last week: 2 of 2 (the goal was raised)
        + reach(MON + timedelta(1), 7)  # this week: 1 of 2 so far
    )
    wed = MON + timedelta(2)
    week = progress(changes, reached, wed)
    assert (week.goal, week.done, week.streak, week.met) == (2, 1, 3, False)
    assert week.line() == "1 of 2 this week"
    assert week.streak_line() == "Streak: 3 weeks in a row."
    done = progress(changes, [*reached, *reach(wed, 8)], wed)
    assert (done.done, done.streak, done.met) == (2, 4, True)


def test_a_missed_week_starts_afresh_without_scolding() -> None:
    changes = [GoalChange(MON - timedelta(28), 1)]
    reached = reach(MON - timedelta(27), 1) + reach(MON - timedelta(20), 1)  # then two misses
    week = progress(changes, reached, MON + timedelta(4))
    assert (week.streak, week.broken) == (0, 0)  # the streak ended two weeks ago
    one_miss = progress(changes, [*reached, *reach(MON - timedelta(13), 1)], MON)
    assert (one_miss.streak, one_miss.broken) == (0, 3)
    assert one_miss.streak_line() == "Every week is a fresh start."
    assert progress([], reached, MON).streak_line() == ""


def test_future_entries_and_no_goal_do_not_count() -> None:
    week = progress([], reach(MON, 1, 2, 3), MON)
    assert (week.goal, week.met, week.streak, week.line()) == (0, False, 0, "")
    later = progress([GoalChange(MON, 1)], reach(MON + timedelta(1), 1), MON)
    assert later.done == 0  # tomorrow's entry (a clock skew) is not counted today


def test_the_streak_looks_back_at_most_a_year() -> None:
    start = MON - timedelta(weeks=80)
    changes = [GoalChange(start, 1)]
    reached = [Reach(start + timedelta(weeks=k), 1) for k in range(80)]
    assert progress(changes, reached, MON).streak == 53


@pytest.mark.parametrize(
    ("text", "goal"),
    [
        ("", None),
        ("  ", None),
        ("3", 3),
        ("3 a week", 3),
        ("5 people per week", 5),
        ("50", 50),
        ("1", 1),
        ("off", 0),
        ("OFF", 0),
        ("none", 0),
        ("0", 0),
        ("clear", 0),
    ],
)
def test_parse_goal(text: str, goal: int | None) -> None:
    assert parse_goal(text) == goal


@pytest.mark.parametrize(
    "text", ["51", "-1", "1000000000000000000000", "three", "3.5", "٣", "²", "<!channel>", "3 4"]
)
def test_bad_goals_say_how_and_quote_safely(text: str) -> None:
    with pytest.raises(GoalError) as caught:
        parse_goal(text)
    message = str(caught.value)
    assert "`goal 3`" in message
    assert len(message) < 220
    if text.strip("-").isdigit() and text.isascii():
        assert f"1 to {MAX_GOAL}" in message
