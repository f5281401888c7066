"""Nudge settings: the settings form, ``pause`` and ``resume``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta

from dateutil import parser as dateparser

from bot.core import dates
from bot.core.cadence import CadenceError, Span, Unit, horizon, later, parse_span
from bot.core.forms import FieldErrors
from bot.core.replies import (
    Choice,
    DateField,
    Form,
    FormKind,
    MultiSelectField,
    SelectField,
    TextField,
    TimeField,
)
from bot.core.schedule import DAY_NAMES, INDEFINITELY, NudgePrefs, describe_days, parse_time
from bot.core.text import one_line

TIME, DAYS, TIMEZONE, PAUSED, CARDS = (
    "nudge_time",
    "nudge_days",
    "timezone",
    "paused_until",
    "cards",
)
MAX_CARDS = 5
_DAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class PauseError(ValueError):
    """A pause that can't be understood; the message is for the user."""


def settings_form(prefs: NudgePrefs) -> Form:
    """The settings form, filled in with the current settings."""
    days = tuple(str(i) for i in range(7) if prefs.days >> i & 1)
    paused = prefs.paused_until if prefs.paused_until not in (None, INDEFINITELY) else None
    fields = (
        TimeField(TIME, "Morning nudge at (your local time)", initial=prefs.time),
        MultiSelectField(
            DAYS,
            "On these days",
            tuple(Choice(str(i), label) for i, label in enumerate(_DAY_LABELS)),
            initial=days,
            optional=True,
        ),
        TextField(
            TIMEZONE,
            "Time zone",
            prefs.timezone if prefs.timezone_locked else "",
            placeholder=f"{prefs.timezone} (from your profile) — or e.g. Europe/London",
            optional=True,
            max_length=64,
        ),
        DateField(
            PAUSED, "Pause until (nudges resume that morning)", initial=paused, optional=True
        ),
        SelectField(
            CARDS,
            "People to suggest each morning",
            tuple(Choice(str(n), str(n)) for n in range(1, MAX_CARDS + 1)),
            initial=str(prefs.cards),
        ),
    )
    intro = f"Nudges come {describe_days(prefs.days)} at {prefs.time:%H:%M} ({prefs.timezone})." + (
        " They are paused." if prefs.paused_until else ""
    )
    return Form(FormKind.SETTINGS, "Nudge settings", "Save", fields, intro=intro)


def read_settings(values: Mapping[str, str | None], current: NudgePrefs, today: date) -> NudgePrefs:
    """Validate a settings submission; raises :class:`FieldErrors`."""
    errors: dict[str, str] = {}
    at = parse_time(values.get(TIME) or "")
    if at is None:
        errors[TIME] = "Please pick a time, like 08:30."
    mask = 0
    for part in (values.get(DAYS) or "").split(","):
        if part.strip() in {str(i) for i in range(7)}:
            mask |= 1 << int(part)
    typed = one_line(values.get(TIMEZONE) or "")  # quoted back in the error: no lone surrogates
    locked = bool(typed)
    timezone = dates.canonical_zone(typed) if typed else None
    if typed and timezone is None:
        errors[TIMEZONE] = dates.unknown_zone_message(typed)
    paused: date | None = None
    raw_pause = (values.get(PAUSED) or "").strip()
    if raw_pause:
        try:
            paused = date.fromisoformat(raw_pause)
        except ValueError:
            errors[PAUSED] = "Please pick a date."
        else:
            if paused <= today:
                paused = None  # a date in the past means "not paused"
            elif paused > horizon(today) and paused != INDEFINITELY:
                errors[PAUSED] = (
                    "That's more than two years away, further than I plan ahead. Pick an "
                    "earlier date, or type `pause` to pause until you resume."
                )
    cards = current.cards
    raw_cards = (values.get(CARDS) or "").strip()
    if raw_cards:
        if raw_cards.isascii() and raw_cards.isdigit() and 1 <= int(raw_cards) <= MAX_CARDS:
            cards = int(raw_cards)
        else:
            errors[CARDS] = f"Choose 1 to {MAX_CARDS}."
    if errors:
        raise FieldErrors(errors)
    assert at is not None
    if current.paused_until == INDEFINITELY and not raw_pause:
        paused = INDEFINITELY  # the form shows no date for "until I resume"; keep it
    return replace(
        current,
        time=at,
        days=mask,
        timezone=timezone or current.timezone,
        timezone_locked=locked,
        paused_until=paused,
        cards=cards,
    )


def describe(prefs: NudgePrefs, today: date) -> str:
    """One sentence about when nudges come."""
    if prefs.paused_until == INDEFINITELY:
        return "Nudges are paused until you type `resume`."
    when = f"{describe_days(prefs.days)} at {prefs.time:%H:%M} ({prefs.timezone})"
    if prefs.days == 0:
        return "No nudge days are set — choose some in settings."
    if prefs.paused_until is not None and prefs.paused_until > today:
        return f"Nudges are paused until {dates.show(prefs.paused_until, today)}, then {when}."
    return f"Nudges come {when}."


_FOR = re.compile(r"^(?:for\s+)?(?P<span>.+)$")


def parse_pause(text: str, today: date) -> date:
    """``""`` (until resumed), ``"until 5 Dec"``, ``"until friday"``, ``"for 2 weeks"``.

    Returns the date nudges resume; raises :class:`PauseError`.
    """
    words = " ".join(text.split()).lower()
    if not words:
        return INDEFINITELY
    if words.startswith("until ") or words.startswith("till "):
        return _resume_date(words.split(" ", 1)[1], today)
    found = _FOR.match(words)
    if found is not None:
        try:
            span = parse_span(found.group("span"), what="pause")
        except CadenceError:
            pass
        else:
            return span.after(today)
    try:
        return _resume_date(words, today)
    except PauseError:
        raise PauseError(
            f"I couldn't read “{text.strip()}”. Try `pause`, `pause until 5 Dec` or "
            "`pause for 2 weeks`."
        ) from None


def _resume_date(text: str, today: date) -> date:
    if text == "tomorrow":
        return later(today, timedelta(days=1))
    try:
        found = date.fromisoformat(text)
    except ValueError:
        if not re.search(r"[a-z]", text) or re.search(r"\d+[/.]\d+", text):
            raise PauseError(
                f"I couldn't read the date “{text}”. Try “5 Dec” or 2026-12-05."
            ) from None
        try:
            found = dateparser.parse(
                text, default=datetime(today.year, today.month, today.day)
            ).date()
        except (ValueError, OverflowError):
            raise PauseError(
                f"I couldn't read the date “{text}”. Try “5 Dec” or 2026-12-05."
            ) from None
        if found <= today:
            weekday_only = text.strip()[:3] in {d.lower() for d in DAY_NAMES}
            found = later(found, timedelta(days=7)) if weekday_only else _next_year(found)
    if found <= today:
        raise PauseError("That date has already passed — pick a day in the future.")
    if found > horizon(today):
        raise PauseError("That's more than two years away. Use `pause` to pause until you resume.")
    return found


def _next_year(day: date) -> date:
    """The same day a year later (28 Feb for 29 Feb), or ``day`` itself in year 9999."""
    return Span(12, Unit.MONTHS).after(day) if day.year < date.max.year else day
