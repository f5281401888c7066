"""What kind of tie a contact is, and when you were last in touch before Reconnect.

Dormant ties are the most valuable ones to revive (Levin, Walter & Murnighan, 2011), and a
former boss or someone you managed knows your work best. Neither could be expressed before:
these two fields let the user say so, and :mod:`bot.core.ranking` uses both.

Grammar of the one-line ``add`` (see :func:`bot.core.commands.parse`): after the name, in any
order and before ``--``, a relationship word (``boss``, ``former boss``, ``peer``,
``report``/``managed``, ``mentor``, ``client``, ``friend``) and ``last <when>``, where ``<when>``
is ``March 2019``, ``2019-03``, ``3/2019``, ``2019`` or ``years ago``.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

#: "Years ago", without a date: stored as this day (far enough back to count as dormant).
YEARS_AGO = date(1900, 1, 1)


class Relationship(StrEnum):
    """The kind of tie; the values are what storage keeps (``contacts.relationship``)."""

    BOSS = "boss"
    PEER = "peer"
    REPORT = "report"
    MENTOR = "mentor"
    CLIENT = "client"
    FRIEND = "friend"
    OTHER = "other"

    @property
    def label(self) -> str:
        """How a form shows it: "Former boss"."""
        return _LABELS[self]

    @property
    def phrase(self) -> str:
        """How a sentence names it: "your former boss"."""
        return _PHRASES[self]


_LABELS = {
    Relationship.BOSS: "Former boss",
    Relationship.PEER: "Peer",
    Relationship.REPORT: "Someone I managed",
    Relationship.MENTOR: "Mentor",
    Relationship.CLIENT: "Client",
    Relationship.FRIEND: "Friend",
    Relationship.OTHER: "Other",
}
_PHRASES = {
    Relationship.BOSS: "your former boss",
    Relationship.PEER: "a peer of yours",
    Relationship.REPORT: "someone you managed",
    Relationship.MENTOR: "your mentor",
    Relationship.CLIENT: "a client of yours",
    Relationship.FRIEND: "a friend",
    Relationship.OTHER: "someone you know",
}

#: Words the one-line grammar accepts for each relationship (lower case; longest first wins).
WORDS: dict[str, Relationship] = {
    "former boss": Relationship.BOSS,
    "ex-boss": Relationship.BOSS,
    "boss": Relationship.BOSS,
    "manager": Relationship.BOSS,
    "peer": Relationship.PEER,
    "colleague": Relationship.PEER,
    "report": Relationship.REPORT,
    "managed": Relationship.REPORT,
    "mentor": Relationship.MENTOR,
    "client": Relationship.CLIENT,
    "customer": Relationship.CLIENT,
    "friend": Relationship.FRIEND,
}

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_YEARS_AGO = re.compile(r"^(?:many\s+|some\s+|a\s+few\s+)?years\s+ago$", re.IGNORECASE)
_MONTH_YEAR = re.compile(r"^(?P<month>[a-z]+)\.?,?\s+(?P<year>\d{4})$", re.IGNORECASE)
_ISO = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})$")
_SLASH = re.compile(r"^(?P<month>\d{1,2})/(?P<year>\d{4})$")
_YEAR = re.compile(r"^(?P<year>\d{4})$")


class WhenError(ValueError):
    """``last in touch`` could not be read; the message is a friendly reply."""


def parse_relationship(text: str) -> Relationship | None:
    """The relationship a form value or a word names (``"boss"``, ``"Former boss"``), if any."""
    word = " ".join(text.lower().split())
    if not word:
        return None
    for relationship in Relationship:
        if word in (relationship.value, relationship.label.lower()):
            return relationship
    return WORDS.get(word)


def parse_last_in_touch(text: str, today: date) -> date | None:
    """``"March 2019"``, ``"2019-03"``, ``"3/2019"``, ``"2019"`` or ``"years ago"`` as a day
    (the first of the month; :data:`YEARS_AGO` for "years ago"); ``None`` for empty text.

    Raises :class:`WhenError` for anything else, a month that does not exist, or a date in
    the future.
    """
    words = " ".join(text.split())
    if not words:
        return None
    if _YEARS_AGO.match(words):
        return YEARS_AGO
    month: int | None = None
    year: int | None = None
    if match := _MONTH_YEAR.match(words):
        month = _MONTHS.get(match["month"].lower())
        year = int(match["year"])
        if month is None:
            raise WhenError(f"I don't know the month in “{words[:40]}”. Try `March 2019`.")
    elif match := _ISO.match(words) or _SLASH.match(words):
        month, year = int(match["month"]), int(match["year"])
    elif match := _YEAR.match(words):
        month, year = 1, int(match["year"])
    if month is None or year is None:
        raise WhenError(
            "When were you last in touch? Write a month and year (`March 2019`, `2019-03`), "
            "a year (`2019`), or `years ago`."
        )
    if not 1 <= month <= 12 or year < 1900:
        raise WhenError(f"“{words[:40]}” isn't a month I can place. Try `March 2019`.")
    when = date(year, month, 1)
    if when > today:
        raise WhenError("That's in the future — when were you last in touch?")
    return when


def show_last_in_touch(when: date) -> str:
    """``"March 2019"``, ``"2019"`` or ``"years ago"``; also a form's text for the field (it
    reads back). A year alone is kept as 1 January, so January shows as the year alone rather
    than claim a month nobody gave."""
    if when == YEARS_AGO:
        return "years ago"
    if when.month == 1:
        return str(when.year)
    return f"{when:%B %Y}"


def years_since(when: date, today: date) -> int:
    """Whole years from ``when`` to ``today`` (at least 3 for "years ago", the dormancy mark)."""
    if when == YEARS_AGO:
        return 3
    return max(0, (today - when).days // 365)
