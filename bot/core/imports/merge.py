"""Deduplicating an import: against the user's contacts and within the file.

Two records are one person when they share an e-mail address (any case), a LinkedIn profile
(any spelling of its URL) or a name (folded as contact names are: the database allows one
contact per folded name). Merging keeps the richer fields: what is already known stays, empty
fields are filled, notes are added to, and the earliest "connected on" wins. A relationship
fills an empty one or "other"; a month of "last in touch" fills an empty one or a bare
"years ago".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from bot.core.imports.clean import email_key, linkedin_key, name_key
from bot.core.imports.people import Person, Problem
from bot.core.model import NOTES_MAX, Contact
from bot.core.relationships import YEARS_AGO, Relationship
from bot.core.text import fold, shorten


@dataclass(slots=True)
class Plan:
    """What an import changes: people to add to the pool, existing contacts to update."""

    #: New people (``id`` 0 until stored), in file order.
    new: list[Contact] = field(default_factory=list)
    #: Existing contacts with fields filled in from the file.
    updated: list[Contact] = field(default_factory=list)
    #: Records of the file merged into someone (an existing contact or an earlier record).
    merged: int = 0


def plan(existing: list[Contact], people: list[Person]) -> Plan:
    """The changes that import ``people`` given the user's ``existing`` contacts."""
    result = Plan()
    index: dict[str, Contact] = {}
    changed: dict[int, Contact] = {}
    for contact in existing:
        for key in _keys(contact.name, contact.email, contact.linkedin_url):
            index.setdefault(key, contact)
    for person in people:
        keys = _keys(person.name, person.email, person.linkedin_url)
        target = next((index[key] for key in keys if key in index), None)
        if target is None:
            target = _new_contact(person)
            result.new.append(target)
        else:
            result.merged += 1
            if _enrich(target, person) and target.id:
                changed[target.id] = target
        for key in keys:
            index.setdefault(key, target)
    result.updated = list(changed.values())
    return result


def skipped(problems: list[Problem]) -> list[Problem]:
    """Problems in line order."""
    return sorted(problems, key=lambda p: p.line)


def _keys(name: str, email: str, linkedin_url: str) -> list[str]:
    """Lookup keys, strongest first; the prefixes keep the three kinds apart."""
    keys = []
    if email:
        keys.append("e:" + email_key(email))
    if linkedin_url and (profile := linkedin_key(linkedin_url)):
        keys.append("l:" + profile)
    keys.append("n:" + name_key(name))
    return keys


def _new_contact(person: Person) -> Contact:
    return Contact(
        id=0,
        name=person.name,
        company_role=person.company_role,
        how_known=person.how_known,
        notes=person.notes,
        email=person.email,
        linkedin_url=person.linkedin_url,
        connected_on=person.connected_on,
        in_pool=True,
        preferred_name=person.preferred_name,
        relationship=person.relationship,
        last_in_touch=person.last_in_touch,
    )


def _enrich(contact: Contact, person: Person) -> bool:
    """Fill ``contact``'s empty fields from ``person`` and add their notes; whether it changed."""
    before = replace(contact)
    contact.company_role = contact.company_role or person.company_role
    contact.how_known = contact.how_known or person.how_known
    contact.email = contact.email or person.email
    contact.linkedin_url = contact.linkedin_url or person.linkedin_url
    contact.connected_on = _earliest(contact.connected_on, person.connected_on)
    contact.preferred_name = contact.preferred_name or person.preferred_name
    if contact.relationship in ("", Relationship.OTHER.value) and person.relationship:
        contact.relationship = person.relationship
    if contact.last_in_touch in (None, YEARS_AGO) and person.last_in_touch is not None:
        contact.last_in_touch = person.last_in_touch
    if person.notes and fold(person.notes) not in fold(contact.notes):
        joined = f"{contact.notes}\n{person.notes}" if contact.notes else person.notes
        contact.notes = shorten(joined, NOTES_MAX)
    return contact != before


def _earliest(a: date | None, b: date | None) -> date | None:
    if a is None or b is None:
        return a or b
    return min(a, b)
