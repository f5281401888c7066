"""What the import parsers produce: typed people, per-line problems, and whole-file refusals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

#: A file larger than this is refused before it is read (Slack and Teams report sizes first).
MAX_BYTES = 5 * 1024 * 1024
#: People (CSV rows or vCards) per file.
MAX_ROWS = 20_000


class Format(StrEnum):
    """Which export a file is, detected from its content."""

    LINKEDIN = "linkedin"
    GOOGLE = "google"
    VCARD = "vcard"
    RECONNECT = "reconnect"

    @property
    def label(self) -> str:
        """How the report names the source."""
        return {
            Format.LINKEDIN: "LinkedIn connections",
            Format.GOOGLE: "Google contacts",
            Format.VCARD: "contact cards",
            Format.RECONNECT: "Reconnect export",
        }[self]


@dataclass(frozen=True, slots=True)
class Person:
    """One person read from a file, cleaned and cut to the contact's limits.

    ``line`` is where they start in the file (1-based, as a text editor counts), for the report.
    """

    line: int
    name: str
    company_role: str = ""
    how_known: str = ""
    notes: str = ""
    email: str = ""
    linkedin_url: str = ""
    connected_on: date | None = None
    preferred_name: str = ""
    #: A :class:`~bot.core.relationships.Relationship` value, or ``""``.
    relationship: str = ""
    last_in_touch: date | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """A line (a row or a card) that was skipped, or one of its values that was left out, and
    why, in words for the user."""

    line: int
    reason: str


@dataclass(slots=True)
class Parsed:
    """Everything read from one file."""

    format: Format
    people: list[Person] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: Values left out of people who were imported (a relationship or date we couldn't read).
    left_out: list[Problem] = field(default_factory=list)

    def add(self, result: Person | Problem) -> None:
        """Keep a person, or note a skipped line."""
        if isinstance(result, Person):
            self.people.append(result)
        else:
            self.problems.append(result)


class ImportRefused(ValueError):
    """The whole file cannot be imported (too big, not a format we read, …); ``message`` is a
    friendly answer for the user. Nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
