"""CSV exports: LinkedIn's ``Connections.csv``, Google Contacts (current and older form) and
our own export (``reconnect-contacts-….csv``, :mod:`bot.core.data_export`).

Any of them may also have a ``Relationship`` and a ``Last in touch`` column (any case: someone
added them in a spreadsheet); they are read as the add/edit form reads them, and a value that
can't be read is left out with a line in the report. Google's ``Relation 1 - Label`` columns are
not that: they name the contact's own relatives (spouse, child), so they are ignored.

The header is found by its column names, so preamble lines before it (LinkedIn starts with a
few ``Notes:`` lines) are skipped, and its delimiter (``,`` or ``;``, which Excel writes where
the comma is the decimal mark) is the one the header line uses.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.core.data_export import FORMULA_STARTS
from bot.core.imports import clean as c
from bot.core.imports.people import MAX_ROWS, Format, ImportRefused, Parsed, Person, Problem

Row = dict[str, str]


@dataclass(frozen=True, slots=True)
class _Context:
    """What every row's reader needs besides the row: the day "last in touch" is read on, and
    where values left out are noted."""

    today: date
    left_out: list[Problem]

    def extras(self, row: Row, preferred_name: str | None = None) -> dict[str, Any]:
        """The keyword arguments of :func:`~bot.core.imports.clean.person` for the preferred
        name and the optional ``Relationship`` / ``Last in touch`` columns."""
        return {
            "preferred_name": preferred_name,
            "relationship": row.get("relationship"),
            "last_in_touch": row.get("last in touch"),
            "today": self.today,
            "left_out": self.left_out,
        }


_Reader = Callable[[int, Row, _Context], Person | Problem]
#: How far into a file the header may be (LinkedIn's preamble is three or four lines).
_HEADER_WITHIN = 20


def looks_like_table(text: str) -> bool:
    """Whether ``text`` has a header this module knows within its first lines."""
    return _find_header(text) is not None


def parse_table(text: str, today: date | None = None) -> Parsed:
    """Read a CSV export (dates of "last in touch" may not be after ``today``, by default the
    system's); raises :class:`ImportRefused` when it is none we know."""
    found = _find_header(text)
    if found is None:
        raise ImportRefused(UNKNOWN_FORMAT)
    start, delimiter, form, read = found
    lines = text.splitlines(keepends=True)
    body = io.StringIO("".join(lines[start:]), newline="")
    reader = csv.reader(body, delimiter=delimiter)
    parsed = Parsed(form)
    context = _Context(today or date.today(), parsed.left_out)
    try:
        header = [_header_name(h) for h in next(reader)]
        rows = 0
        for line, cells in _records(reader, start):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, and the empty rows spreadsheets leave at the end
            rows += 1
            if rows > MAX_ROWS:
                raise ImportRefused(too_many_rows())
            result = read(line, dict(zip(header, cells, strict=False)), context)
            parsed.add(result)
    except csv.Error as exc:
        raise ImportRefused(
            f"Line {reader.line_num + start} of that file isn't valid CSV ({exc}), so I "
            "imported nothing. Export the file again and send me the new one."
        ) from None
    return parsed


UNKNOWN_FORMAT = (
    "I don't recognise that file. I can import LinkedIn's Connections.csv (Settings → Data "
    "privacy → Get a copy of your data → Connections), a Google Contacts export (CSV), "
    "vCard files (.vcf) and my own export (`export csv` or `export vcf`)."
)


def too_many_rows() -> str:
    """The answer for a file with more than :data:`MAX_ROWS` people."""
    return (
        f"That file has more than {MAX_ROWS:,} people — more than I import at once, so I "
        "imported nothing. Split it into smaller files and send them one by one."
    )


def _records(reader: Iterator[list[str]], start: int) -> Iterator[tuple[int, list[str]]]:
    """Each record with the line it starts on (a quoted field may span several lines)."""
    begins = start + 2  # after the header, counting lines from 1
    line_num = getattr(reader, "line_num", 0)
    for cells in reader:
        yield begins, cells
        line_num = getattr(reader, "line_num", line_num)
        begins = start + line_num + 1


def _header_name(cell: str) -> str:
    return c.line_text(cell).casefold()


def _find_header(text: str) -> tuple[int, str, Format, _Reader] | None:
    for index, line in enumerate(text.splitlines()[:_HEADER_WITHIN]):
        delimiter = max(",;\t", key=line.count)
        if not line.count(delimiter):
            continue
        names = {_header_name(cell) for cell in next(csv.reader([line], delimiter=delimiter))}
        form = _format_of(names)
        if form is not None:
            return index, delimiter, *form
    return None


def _format_of(names: set[str]) -> tuple[Format, _Reader] | None:
    if {"name", "company and role", "how you know them"} <= names:
        return Format.RECONNECT, _reconnect
    if {"first name", "last name"} <= names and ("connected on" in names or "url" in names):
        return Format.LINKEDIN, _linkedin
    if {"first name", "last name"} <= names and (
        "e-mail 1 - value" in names or "organization name" in names or "labels" in names
    ):
        return Format.GOOGLE, _google
    if "name" in names and ("given name" in names or "family name" in names):
        return Format.GOOGLE, _google_older
    return None


def _reconnect(line: int, row: Row, context: _Context) -> Person | Problem:
    """A row of our own CSV export: every field the user typed, back as they typed it."""
    row = {key: _unescaped(value) for key, value in row.items()}
    return c.person(
        line,
        row.get("name", ""),
        company_role=row.get("company and role", ""),
        how_known=row.get("how you know them", ""),
        notes=row.get("notes", ""),
        email=row.get("email", ""),
        linkedin_url=row.get("linkedin", ""),
        **context.extras(row, row.get("preferred name")),
    )


def _unescaped(cell: str) -> str:
    """A cell as it was before :func:`bot.core.data_export.safe_cell` kept a spreadsheet from
    running it: the apostrophe it put before a formula-like value taken off again."""
    if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


def _linkedin(line: int, row: Row, context: _Context) -> Person | Problem:
    return c.person(
        line,
        c.joined(row.get("first name"), row.get("last name")),
        company_role=c.role(row.get("position"), row.get("company")),
        email=row.get("email address", ""),
        linkedin_url=row.get("url", ""),
        connected_on=c.parse_date(row.get("connected on")),
        **context.extras(row),
    )


def _google(line: int, row: Row, context: _Context) -> Person | Problem:
    name = c.joined(row.get("first name"), row.get("middle name"), row.get("last name"))
    nickname = c.line_text(row.get("nickname"))
    return c.person(
        line,
        name or nickname,
        company_role=c.role(row.get("organization title"), row.get("organization name")),
        how_known=_labels(row.get("labels")),
        notes=_notes(row.get("notes"), row.get("phone 1 - value")),
        email=row.get("e-mail 1 - value", ""),
        linkedin_url=_website(row),
        **context.extras(row, nickname if name else ""),
    )


def _google_older(line: int, row: Row, context: _Context) -> Person | Problem:
    name = c.line_text(row.get("name")) or c.joined(
        row.get("given name"), row.get("additional name"), row.get("family name")
    )
    nickname = c.line_text(row.get("nickname"))
    return c.person(
        line,
        name,
        company_role=c.role(row.get("organization 1 - title"), row.get("organization 1 - name")),
        how_known=_labels(row.get("group membership")),
        notes=_notes(row.get("notes"), row.get("phone 1 - value")),
        email=row.get("e-mail 1 - value", ""),
        linkedin_url=_website(row),
        **context.extras(row, nickname if nickname != name else ""),
    )


def _labels(value: str | None) -> str:
    """Google's ``* myContacts ::: Former team``: the user's own labels (``*`` are Google's)."""
    labels = [part.strip() for part in c.line_text(value).split(":::")]
    return ", ".join(label for label in labels if label and not label.startswith("*"))


def _notes(notes: str | None, phone: str | None) -> str:
    phone_text = c.line_text(phone).split(":::")[0].strip()
    parts = [notes or "", f"Phone: {phone_text}" if phone_text else ""]
    return "\n".join(part for part in parts if part.strip())


def _website(row: Row) -> str:
    for key, value in row.items():
        if key.startswith("website") and key.endswith("value") and c.linkedin_profile(value):
            return value
    return ""
