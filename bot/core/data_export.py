"""``export``: everything we hold about a user, as CSV, JSON and vCard files.

The store gathers the data (:class:`~bot.core.ports.UserData`, one section per table); this
module turns it into files. JSON carries every section as it is, so a new table (predictions,
outcomes, …) appears in the export as soon as the store adds a section for it. CSV and vCard
carry the contacts, the part a spreadsheet or an address book can use.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import vobject

from bot.core.model import Contact, Conversation
from bot.core.ports import UserData
from bot.core.relationships import Relationship, show_last_in_touch
from bot.core.replies import FileOut
from bot.core.schedule import DAY_NAMES, NudgePrefs

#: The ``format`` of our JSON export, and its version (bumped when a field changes meaning).
JSON_FORMAT = "reconnect-export"
JSON_VERSION = 1

#: What a spreadsheet would run as a formula when a cell starts with it (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Format(StrEnum):
    """An export file format."""

    CSV = "csv"
    JSON = "json"
    VCARD = "vcard"


ALL_FORMATS = (Format.CSV, Format.JSON, Format.VCARD)

#: Words people type for each format (``export vcf``, ``export spreadsheet``).
FORMAT_WORDS: dict[str, Format] = {
    "csv": Format.CSV,
    "spreadsheet": Format.CSV,
    "excel": Format.CSV,
    "json": Format.JSON,
    "vcard": Format.VCARD,
    "vcards": Format.VCARD,
    "vcf": Format.VCARD,
    "contacts": Format.VCARD,
}


# --- records: the store's sections are made of these ------------------------------------------


def contact_record(contact: Contact) -> dict[str, Any]:
    """One contact as an export record (the ``contacts`` section)."""
    return {
        "id": contact.id,
        "name": contact.name,
        "company_role": contact.company_role,
        "how_known": contact.how_known,
        "notes": contact.notes,
        "cadence": contact.cadence.encode(),
        "last_contacted_on": _iso(contact.last_contacted_on),
        "next_due_on": _iso(contact.next_due_on),
        "last_note": contact.last_note,
        "created_on": _iso(contact.created_on),
        "skipped_on": _iso(contact.skipped_on),
        "reached_out_on": _iso(contact.reached_out_on),
        "follow_up_on": _iso(contact.follow_up_on),
        "preferred_name": contact.preferred_name,
        "relationship": contact.relationship,
        "last_in_touch": _iso(contact.last_in_touch),
        "email": contact.email,
        "linkedin_url": contact.linkedin_url,
    }


def conversation_record(conversation: Conversation, contact_name: str) -> dict[str, Any]:
    """One logged conversation as an export record (the ``conversations`` section)."""
    return {
        "contact_id": conversation.contact_id,
        "contact_name": contact_name,
        "occurred_on": _iso(conversation.occurred_on),
        "kind": conversation.kind,
        "note": conversation.note,
        "learned": conversation.learned,
    }


def nudge_record(
    day: date, kind: str, status: str, sent_at: datetime | None, content: str
) -> dict[str, Any]:
    """One morning message as an export record (the ``nudges`` section)."""
    try:
        shown: Any = json.loads(content) if content else None
    except ValueError:
        shown = None
    return {
        "day": _iso(day),
        "kind": kind,
        "status": status,
        "sent_at": sent_at.isoformat() if sent_at is not None else None,
        "content": shown,
    }


def profile_record(prefs: NudgePrefs, **identity: Any) -> dict[str, Any]:
    """The user's identity and settings (the export's ``profile``)."""
    return {
        **identity,
        "timezone": prefs.timezone,
        "timezone_chosen_by_you": prefs.timezone_locked,
        "nudge_time": f"{prefs.time:%H:%M}",
        "nudge_days": [name for i, name in enumerate(DAY_NAMES) if prefs.days >> i & 1],
        "cards_per_nudge": prefs.cards,
        "paused_until": _iso(prefs.paused_until),
    }


# --- files -------------------------------------------------------------------------------------


def export_files(data: UserData, formats: Iterable[Format], *, today: date) -> tuple[FileOut, ...]:
    """The export files for ``data``, in the order of ``formats``, dated ``today``."""
    builders = {Format.CSV: _csv_file, Format.JSON: _json_file, Format.VCARD: _vcard_file}
    return tuple(builders[f](data, today) for f in dict.fromkeys(formats))


#: CSV columns: (header, record key). The import recognises the file by its first three
#: headers (:mod:`bot.core.imports.tables`) and reads back every field the user typed.
CSV_COLUMNS = (
    ("Name", "name"),
    ("Company and role", "company_role"),
    ("How you know them", "how_known"),
    ("Notes", "notes"),
    ("Reminder", "cadence"),
    ("Last talked", "last_contacted_on"),
    ("Next due", "next_due_on"),
    ("Last note", "last_note"),
    ("Added", "created_on"),
    ("Preferred name", "preferred_name"),
    ("Relationship", "relationship"),
    ("Last in touch", "last_in_touch"),
    ("Email", "email"),
    ("LinkedIn", "linkedin_url"),
)


def csv_text(contacts: Iterable[Mapping[str, Any]]) -> str:
    """The contacts as CSV (a header row, then one row each), formula-safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([header for header, _ in CSV_COLUMNS])
    for record in contacts:
        shown = {**record, **_readable(record)}
        writer.writerow([safe_cell(shown.get(key)) for _, key in CSV_COLUMNS])
    return out.getvalue()


def relationship_text(value: Any) -> str:
    """A stored relationship as a form shows it ("Former boss"); ``""`` when none."""
    try:
        return Relationship(value).label if value else ""
    except ValueError:
        return str(value)


def last_in_touch_text(value: Any) -> str:
    """A record's ``last_in_touch`` (ISO) as the form writes it: ``"March 2019"``, ``"2019"``
    or ``"years ago"`` (and read back by :func:`~bot.core.relationships.parse_last_in_touch`)."""
    if not value:
        return ""
    try:
        return show_last_in_touch(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _readable(record: Mapping[str, Any]) -> dict[str, str]:
    """The cells a person reads differently from the stored value."""
    return {
        "relationship": relationship_text(record.get("relationship")),
        "last_in_touch": last_in_touch_text(record.get("last_in_touch")),
    }


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: one starting with ``=``, ``+``, ``-``, ``@``, a tab
    or a carriage return gets a leading apostrophe, so it is never run as a formula. Apostrophes
    already before such a start get one more, so the import can take exactly one off again."""
    text = "" if value is None else str(value)
    return "'" + text if text.lstrip("'").startswith(FORMULA_STARTS) else text


def json_text(data: UserData, *, today: date) -> str:
    """Everything in ``data`` as one JSON document."""
    document = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "exported_on": today.isoformat(),
        "profile": data.profile,
        **data.sections,
    }
    return json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n"


def vcard_text(contacts: Iterable[Mapping[str, Any]]) -> str:
    """The contacts as vCard 4.0 (RFC 6350), one card each.

    The preferred name is ``NICKNAME``; the relationship and "last in touch" are
    ``X-RECONNECT-RELATIONSHIP`` (the stored value, e.g. ``boss``) and
    ``X-RECONNECT-LAST-IN-TOUCH`` (``March 2019``, ``2019``, ``years ago``). RFC 6350's
    ``RELATED`` names *another person* with a fixed vocabulary that has no "former boss" or
    "someone I managed", so ``X-`` properties, which address books keep and ignore (§6.10),
    carry them; the import reads them back.
    """
    cards = []
    for record in contacts:
        card = vobject.vCard()
        card.add("version").value = "4.0"
        name = str(record.get("name") or "")
        card.add("fn").value = name
        given, _, family = name.rpartition(" ") if " " in name else (name, "", "")
        card.add("n").value = vobject.vcard.Name(family=family, given=given)
        if record.get("preferred_name"):
            card.add("nickname").value = str(record["preferred_name"])
        if record.get("company_role"):
            card.add("title").value = str(record["company_role"])
        if record.get("email"):
            card.add("email").value = str(record["email"])
        if record.get("linkedin_url"):
            card.add("url").value = str(record["linkedin_url"])
        if record.get("relationship"):
            card.add("x-reconnect-relationship").value = str(record["relationship"])
        if touch := last_in_touch_text(record.get("last_in_touch")):
            card.add("x-reconnect-last-in-touch").value = touch
        note = "\n\n".join(
            str(part)
            for part in (record.get("how_known"), record.get("notes"), record.get("last_note"))
            if part
        )
        if note:
            card.add("note").value = note
        cards.append(card.serialize())
    return "".join(cards)


def _csv_file(data: UserData, today: date) -> FileOut:
    contacts = data.sections.get("contacts", [])
    # UTF-8 with a byte order mark: Excel then reads accents right.
    content = ("\ufeff" + csv_text(contacts)).encode("utf-8")
    return FileOut(
        filename=f"reconnect-contacts-{today.isoformat()}.csv",
        media_type="text/csv",
        content=content,
        title="Your contacts (CSV)",
    )


def _json_file(data: UserData, today: date) -> FileOut:
    return FileOut(
        filename=f"reconnect-data-{today.isoformat()}.json",
        media_type="application/json",
        content=json_text(data, today=today).encode("utf-8"),
        title="Everything Reconnect keeps about you (JSON)",
    )


def _vcard_file(data: UserData, today: date) -> FileOut:
    return FileOut(
        filename=f"reconnect-contacts-{today.isoformat()}.vcf",
        media_type="text/vcard",
        content=vcard_text(data.sections.get("contacts", [])).encode("utf-8"),
        title="Your contacts (vCard)",
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None
