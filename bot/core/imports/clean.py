"""Cleaning what a file says about a person into what a contact may hold.

Every value goes through :mod:`bot.core.text` (no control or invisible characters, nothing a
database refuses) and is cut to the contact's limits (:mod:`bot.core.model`). Values that look
like spreadsheet formulas (``=``, ``+``, ``-``, ``@`` first) are kept as the text they are:
nothing here evaluates anything.
"""

from __future__ import annotations

import re
from datetime import date

from bot.core.imports.people import Person, Problem
from bot.core.model import EMAIL_MAX, NAME_KEY_MAX, NAME_MAX, NOTES_MAX, SHORT_FIELD_MAX, URL_MAX
from bot.core.names import PREFERRED_MAX, clean_preferred
from bot.core.relationships import WhenError, parse_last_in_touch, parse_relationship
from bot.core.text import clean, fold, one_line, shorten, visible

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LINKEDIN = re.compile(
    r"^(?:https?://)?(?:[a-z]{2,3}\.)?linkedin\.com/(?P<kind>in|pub)/(?P<slug>[^/?#\s]+)",
    re.IGNORECASE,
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})[ -]([A-Za-z]{3})[A-Za-z]*[ -](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def line_text(value: str | None) -> str:
    """A one-line value (names, titles, e-mail, URLs)."""
    if not value:
        return ""
    # Most cells are plain ASCII with nothing to clean: :func:`one_line` would return them
    # stripped, and a 20,000-row file has ~150,000 of them (a third of the import's time).
    if value.isascii() and value.isprintable() and "  " not in value:
        return value.strip()
    return one_line(value)


def name_key(name: str) -> str:
    """:func:`bot.core.text.fold` of a cleaned name (the contacts' unique key), quicker for
    ASCII names, where NFKD and NFKC change nothing and it is just the case fold."""
    return name.casefold() if name.isascii() else fold(name)


def person(
    line: int,
    name: str,
    *,
    company_role: str = "",
    how_known: str = "",
    notes: str = "",
    email: str = "",
    linkedin_url: str = "",
    connected_on: date | None = None,
    preferred_name: str | None = None,
    relationship: str | None = None,
    last_in_touch: str | None = None,
    today: date | None = None,
    left_out: list[Problem] | None = None,
) -> Person | Problem:
    """A cleaned :class:`Person`, or the :class:`Problem` that keeps them out.

    ``preferred_name``, ``relationship`` and ``last_in_touch`` are the file's text, read as the
    add/edit form reads them (:func:`~bot.core.names.clean_preferred`,
    :func:`~bot.core.relationships.parse_relationship`,
    :func:`~bot.core.relationships.parse_last_in_touch` on ``today``). A value that can't be
    read is left out of the person, and why is added to ``left_out``: one odd cell never keeps
    a person (or the file) out.
    """
    name = line_text(name)
    # A cleaned, non-empty ASCII name has a visible character (controls are gone).
    if not name or not (name.isascii() or visible(name)):
        return Problem(line, "no name")
    if len(name) > NAME_MAX or len(name_key(name)) > NAME_KEY_MAX:
        return Problem(line, f"the name is longer than {NAME_MAX} characters")
    notices: list[Problem] = []
    preferred = _preferred(line, preferred_name, notices)
    tie = _relationship(line, relationship, notices)
    touch = _last_in_touch(line, last_in_touch, today or date.today(), notices)
    if left_out is not None:
        left_out.extend(notices)
    return Person(
        line=line,
        name=name,
        company_role=shorten(line_text(company_role), SHORT_FIELD_MAX),
        how_known=shorten(line_text(how_known), SHORT_FIELD_MAX),
        notes=shorten(clean(notes), NOTES_MAX) if notes else "",
        email=email_address(email),
        linkedin_url=linkedin_profile(linkedin_url),
        connected_on=connected_on,
        preferred_name=preferred,
        relationship=tie,
        last_in_touch=touch,
    )


def _preferred(line: int, value: str | None, notices: list[Problem]) -> str:
    text = line_text(value)
    preferred = clean_preferred(text) if text else ""
    if len(preferred) > PREFERRED_MAX:
        notices.append(
            Problem(line, f"the preferred name is longer than {PREFERRED_MAX} characters")
        )
        return ""
    return preferred


def _relationship(line: int, value: str | None, notices: list[Problem]) -> str:
    text = line_text(value)
    if not text:
        return ""
    found = parse_relationship(text)
    if found is None:
        notices.append(
            Problem(
                line,
                f"the relationship “{shorten(text, 40)}” isn't one I know (former boss, peer, "
                "someone I managed, mentor, client, friend, other), so I left it empty",
            )
        )
        return ""
    return found.value


def _last_in_touch(
    line: int, value: str | None, today: date, notices: list[Problem]
) -> date | None:
    text = line_text(value)
    try:
        return parse_last_in_touch(text, today)
    except WhenError:
        notices.append(
            Problem(
                line,
                f"“{shorten(text, 40)}” isn't a last-in-touch date I can read (write "
                "`March 2019`, `2019` or `years ago`), so I left it empty",
            )
        )
        return None


def role(title: str | None, company: str | None) -> str:
    """``"VP Sales at Acme"``, or whichever of the two is known."""
    title, company = line_text(title), line_text(company)
    if title and company:
        return f"{title} at {company}"
    return title or company


def email_address(value: str | None) -> str:
    """The first e-mail address in ``value`` (Google joins several with `` ::: ``), or ``""``
    when there is none that looks like one."""
    for candidate in re.split(r"\s*(?::::|;|,)\s*", line_text(value)):
        candidate = candidate.strip().removeprefix("mailto:")
        if _EMAIL.match(candidate) and len(candidate) <= EMAIL_MAX:
            return candidate
    return ""


def email_key(value: str) -> str:
    """What two e-mail addresses of one person have in common (case never matters)."""
    return value.strip().casefold()


def linkedin_profile(value: str | None) -> str:
    """A LinkedIn profile URL in one spelling (``https://www.linkedin.com/in/<slug>``), or
    ``""`` for anything that is not one."""
    found = _LINKEDIN.match(line_text(value))
    if found is None:
        return ""
    url = f"https://www.linkedin.com/{found['kind'].lower()}/{found['slug']}"
    return url if len(url) <= URL_MAX else ""


def linkedin_key(value: str) -> str:
    """What two spellings of one profile URL have in common."""
    found = _LINKEDIN.match(value)
    return f"{found['kind']}/{found['slug']}".casefold() if found else ""


def parse_date(value: str | None) -> date | None:
    """LinkedIn's ``14 Mar 2019`` (or ``2019-03-14``) as a date; ``None`` otherwise."""
    text = line_text(value)
    try:
        if found := _DAY_MONTH_YEAR.match(text):
            month = _MONTHS.get(found[2].lower())
            return date(int(found[3]), month, int(found[1])) if month else None
        if found := _ISO.match(text):
            return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:  # 31 Feb
        return None
    return None


def joined(*parts: str | None) -> str:
    """Non-empty parts, one space apart (a first, middle and last name)."""
    return " ".join(p for p in (line_text(x) for x in parts) if p)
