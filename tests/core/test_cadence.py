"""Cadences and spans."""

from datetime import date, timedelta

import pytest

from bot.core.cadence import (
    CadenceError,
    Span,
    Unit,
    horizon,
    later,
    parse_cadence,
    parse_span,
)


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("every 2 months", Span(2, Unit.MONTHS)),
        ("every month", Span(1, Unit.MONTHS)),
        ("every other week", Span(2, Unit.WEEKS)),
        ("every two weeks", Span(2, Unit.WEEKS)),
        ("every 10d", Span(10, Unit.DAYS)),
        ("every fortnight", Span(2, Unit.WEEKS)),
        ("every year", Span(12, Unit.MONTHS)),
        ("EVERY 3 Weeks", Span(3, Unit.WEEKS)),
    ],
)
def test_parse_cadence(text: str, span: Span) -> None:
    assert parse_cadence(text) == span


@pytest.mark.parametrize(
    "text", ["every", "every banana", "every 0 days", "every -1 days", "every 3 years"]
)
def test_bad_cadence(text: str) -> None:
    with pytest.raises(CadenceError):
        parse_cadence(text)


def test_month_arithmetic_clamps_to_month_end() -> None:
    assert Span(1, Unit.MONTHS).after(date(2027, 1, 31)) == date(2027, 2, 28)
    assert Span(2, Unit.WEEKS).after(date(2026, 12, 25)) == date(2027, 1, 8)


def test_describe_round_trips() -> None:
    for span in (Span(1, Unit.WEEKS), Span(6, Unit.WEEKS), Span(2, Unit.MONTHS)):
        assert parse_span(span.encode()) == span
        assert parse_cadence(span.every()) == span


def test_span_arithmetic_stops_at_the_last_date_instead_of_overflowing() -> None:
    for unit in Unit:
        assert Span(2, unit).after(date(9999, 12, 30)) == date.max


def test_the_horizon_is_two_calendar_years() -> None:
    assert horizon(date(2026, 11, 25)) == date(2028, 11, 25)
    assert horizon(date(2028, 2, 29)) == date(2030, 2, 28)
    assert horizon(date(9999, 1, 1)) == date.max
    assert later(date.max, timedelta(days=1)) == date.max
