"""Preferred name, relationship and last in touch in imports and our own export (issue 10):
the parsers on small files in tests/data (synthetic people), merging, the triage order and the
report of values left out."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
import vobject  # type: ignore[import-untyped]

from bot.core.data_export import contact_record, csv_text, safe_cell, vcard_text
from bot.core.imports import triage
from bot.core.imports.merge import plan
from bot.core.imports.offer_view import PoolOffer, offer_blocks
from bot.core.imports.parse import parse_file
from bot.core.imports.people import Format, Person, Problem
from bot.core.imports.tables import _unescaped
from bot.core.imports.views import report
from bot.core.model import Contact
from bot.core.relationships import YEARS_AGO
from bot.core.replies import plain

DATA = Path(__file__).resolve().parent.parent / "data"
TODAY = date(2026, 11, 25)


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def by_name(people: list[Person]) -> dict[str, Person]:
    return {person.name: person for person in people}


def reasons(problems: list[Problem]) -> list[tuple[int, str]]:
    return [(p.line, p.reason) for p in problems]


def test_our_csv_export_is_recognised_and_every_typed_field_read_back() -> None:
    parsed = parse_file(read("reconnect_export.csv"), TODAY)
    assert parsed.format is Format.RECONNECT
    assert parsed.format.label == "Reconnect export"
    people = by_name(parsed.people)
    dana = people["Dana Whitfield"]
    assert dana.line == 2
    assert dana.preferred_name == "Dee"
    assert dana.company_role == "CFO at Northwind"
    assert dana.how_known == "Former team"
    assert dana.notes == "Loves sailing.\nTwo kids."
    assert dana.relationship == "boss"
    assert dana.last_in_touch == date(2019, 3, 1)
    assert dana.email == "dana.whitfield@example.com"
    assert dana.linkedin_url == "https://www.linkedin.com/in/dana-whitfield-example"
    # The apostrophe the export put before formula-looking cells is taken off again.
    formula = people["=HYPERLINK(evil)"]
    assert formula.line == 4 and formula.notes == "@SUM(A1)"
    # Bad values leave the person in, without them, and say why, by line.
    sam = people["Sam Ortiz"]
    assert sam.relationship == "" and sam.last_in_touch is None
    assert [line for line, _ in reasons(parsed.left_out)] == [5, 5]
    assert "“Arch-rival” isn't one I know" in parsed.left_out[0].reason
    assert "“2019-13” isn't a last-in-touch date I can read" in parsed.left_out[1].reason
    assert reasons(parsed.problems) == [(6, "no name")]


def test_google_nickname_relationship_columns_and_relatives_ignored() -> None:
    parsed = parse_file(read("google_contacts_relations.csv"), TODAY)
    assert parsed.format is Format.GOOGLE
    people = by_name(parsed.people)
    assert len(people) == 5 and not parsed.problems
    robert = people["Robert Lindqvist"]
    assert robert.preferred_name == "Bob"
    assert (robert.relationship, robert.last_in_touch) == ("boss", date(2019, 3, 1))
    # "Relation 1 - Label: Manager" is Mei's own manager, not the user's tie to her.
    mei = people["Mei Tanaka"]
    assert (mei.relationship, mei.last_in_touch, mei.preferred_name) == ("peer", YEARS_AGO, "")
    assert "Karin" not in str(parsed) and "Someone Else" not in str(parsed)
    oskar, lucia, ivo = people["Oskar Brandt"], people["Lucia Ferreira"], people["Ivo Petrov"]
    assert (oskar.relationship, oskar.last_in_touch) == ("", date(2019, 1, 1))
    assert (lucia.preferred_name, lucia.relationship, lucia.last_in_touch) == ("Lu", "mentor", None)
    assert ivo.last_in_touch is None
    lines = reasons(parsed.left_out)
    assert [line for line, _ in lines] == [4, 5, 6]
    assert "“bestie”" in lines[0][1] and "“sometime soon”" in lines[1][1]
    assert "“March 2999”" in lines[2][1]


def test_generic_columns_any_case_in_a_linkedin_file() -> None:
    data = (
        b"First Name,Last Name,URL,Email Address,Company,Position,Connected On,RELATIONSHIP,"
        b"last IN touch\r\n"
        b"Kofi,Mensah,,,Contoso,CEO,01 Feb 2015,Client,2020-06\r\n"
    )
    parsed = parse_file(data, TODAY)
    assert parsed.format is Format.LINKEDIN
    (kofi,) = parsed.people
    assert (kofi.relationship, kofi.last_in_touch) == ("client", date(2020, 6, 1))


def test_vcard_nickname_and_our_x_properties() -> None:
    parsed = parse_file(read("contacts_reconnect.vcf"), TODAY)
    assert parsed.format is Format.VCARD
    people = by_name(parsed.people)
    grace = people["Grace Holloway"]
    assert (grace.preferred_name, grace.relationship) == ("Gracie", "boss")
    assert grace.last_in_touch == date(2018, 6, 1)
    assert grace.email == "grace.holloway@example.com"
    tomasz = people["Tomasz Wilk"]
    assert tomasz.preferred_name == "Tom"  # the first of several nicknames
    assert (tomasz.relationship, tomasz.last_in_touch) == ("report", YEARS_AGO)
    priti = people["Priti Shah"]
    assert (priti.relationship, priti.last_in_touch) == ("", None)
    assert [line for line, _ in reasons(parsed.left_out)] == [19, 19]


def test_the_old_vcard_file_still_reads_without_the_new_fields() -> None:
    parsed = parse_file(read("contacts.vcf"), TODAY)
    assert all(p.relationship == "" and p.last_in_touch is None for p in parsed.people)


def sample_contacts() -> list[Contact]:
    return [
        Contact(
            id=1,
            name="Dana Whitfield",
            company_role="CFO at Northwind",
            how_known="Former team",
            notes="Loves sailing.\nTwo kids.",
            preferred_name="Dee",
            relationship="boss",
            last_in_touch=date(2019, 3, 1),
            email="dana.whitfield@example.com",
            linkedin_url="https://www.linkedin.com/in/dana-whitfield-example",
        ),
        Contact(id=2, name="Wang Li", relationship="friend", last_in_touch=YEARS_AGO),
        Contact(id=3, name="=cmd|' /C calc'!A0", notes="-2+3", last_in_touch=date(2021, 1, 1)),
        Contact(id=4, name="Plain Person"),
    ]


TYPED = (
    "name",
    "preferred_name",
    "company_role",
    "how_known",
    "notes",
    "relationship",
    "last_in_touch",
    "email",
    "linkedin_url",
)


def test_csv_export_round_trips_every_typed_field() -> None:
    contacts = sample_contacts()
    text = csv_text([contact_record(c) for c in contacts])
    header = next(csv.reader(io.StringIO(text)))
    assert header[-5:] == ["Preferred name", "Relationship", "Last in touch", "Email", "LinkedIn"]
    rows = {row[0]: row for row in csv.reader(io.StringIO(text))}
    assert rows["Dana Whitfield"][-5:-2] == ["Dee", "Former boss", "March 2019"]
    assert rows["Wang Li"][-4:-2] == ["Friend", "years ago"]
    parsed = parse_file(("\ufeff" + text).encode(), TODAY)
    assert parsed.format is Format.RECONNECT and not parsed.problems and not parsed.left_out
    back = by_name(parsed.people)
    for contact in contacts:
        person = back[contact.name]
        for field in TYPED:
            assert getattr(person, field) == getattr(contact, field), (contact.name, field)


def test_vcard_export_carries_the_new_fields_and_reads_back() -> None:
    contacts = sample_contacts()
    text = vcard_text([contact_record(c) for c in contacts])
    dana = next(vobject.readComponents(text))
    assert dana.nickname.value == "Dee"
    assert dana.contents["x-reconnect-relationship"][0].value == "boss"
    assert dana.contents["x-reconnect-last-in-touch"][0].value == "March 2019"
    parsed = parse_file(text.encode(), TODAY)
    assert not parsed.problems and not parsed.left_out
    back = by_name(parsed.people)
    for contact in contacts:
        person = back[contact.name]
        for field in ("preferred_name", "relationship", "last_in_touch", "email"):
            assert getattr(person, field) == getattr(contact, field), (contact.name, field)
        assert person.linkedin_url == contact.linkedin_url


@pytest.mark.parametrize("value", ["=1+1", "'=1+1", "''@x", "'plain", "-", "plain", ""])
def test_formula_escape_is_undone_exactly(value: str) -> None:
    assert _unescaped(safe_cell(value)) == value


def test_merge_keeps_the_richer_value() -> None:
    existing = [
        Contact(id=1, name="Dana Whitfield", preferred_name="Dana"),
        Contact(id=2, name="Mei Tanaka", relationship="other", last_in_touch=YEARS_AGO),
        Contact(id=3, name="Kofi Mensah", relationship="mentor", last_in_touch=date(2020, 6, 1)),
    ]
    people = [
        Person(2, "Dana Whitfield", preferred_name="Dee", relationship="boss"),
        Person(3, "Mei Tanaka", relationship="peer", last_in_touch=date(2019, 3, 1)),
        Person(4, "Kofi Mensah", relationship="client", last_in_touch=YEARS_AGO),
        Person(5, "Ivo Petrov", preferred_name="Ivo", relationship="friend"),
    ]
    changes = plan(existing, people)
    dana, mei, kofi = existing
    assert (dana.preferred_name, dana.relationship) == ("Dana", "boss")  # typed name kept
    assert (mei.relationship, mei.last_in_touch) == ("peer", date(2019, 3, 1))
    assert (kofi.relationship, kofi.last_in_touch) == ("mentor", date(2020, 6, 1))
    assert {c.id for c in changes.updated} == {1, 2}
    (ivo,) = changes.new
    assert (ivo.preferred_name, ivo.relationship, ivo.in_pool) == ("Ivo", "friend", True)


def test_triage_puts_a_former_boss_first_and_uses_last_in_touch() -> None:
    pool = [
        Contact(id=1, name="Ceo Person", company_role="CEO at Acme", connected_on=date(2010, 1, 1)),
        Contact(id=2, name="Boss Person", company_role="Analyst", relationship="boss"),
        Contact(id=3, name="Recent Peer", relationship="peer", last_in_touch=date(2026, 1, 1)),
        Contact(id=4, name="Old Peer", relationship="peer", last_in_touch=YEARS_AGO),
        Contact(id=5, name="Nobody Known"),
    ]
    order = [c.name for c in triage.ranked(pool, TODAY)]
    assert order == ["Boss Person", "Old Peer", "Recent Peer", "Ceo Person", "Nobody Known"]
    assert triage.why(pool[1]) == "Former boss · Analyst"
    assert triage.why(pool[3]) == "Peer · last in touch years ago"
    assert triage.dormant_years(pool[3], TODAY) == 3


def test_pool_offer_names_the_tie_and_survives_its_json() -> None:
    contact = Contact(
        id=7, name="Grace Holloway", relationship="boss", last_in_touch=date(2018, 6, 1)
    )
    offer = PoolOffer.of(contact)
    again = PoolOffer.from_data(offer.to_data())
    assert again == offer
    said = " ".join(plain(b.parts) for b in offer_blocks(offer, 3) if hasattr(b, "parts"))
    assert "add Grace Holloway (your former boss), last in touch June 2018, to your" in said
    old = PoolOffer.from_data({"id": 1, "name": "Chen Wei", "year": 2014})
    assert old is not None and old.tie == "" and old.last_in_touch == ""


def test_the_report_lists_values_left_out_by_line() -> None:
    parsed = parse_file(read("google_contacts_relations.csv"), TODAY)
    changes = plan([], parsed.people)
    reply = report(parsed.format, changes, [], 5, "/reconnect ", left_out=parsed.left_out)
    said = plain(reply.blocks[0].parts)  # type: ignore[attr-defined]
    assert "Imported 5 people from your Google contacts" in said
    assert "Imported without 3 values I couldn't read: line 4 — the relationship “bestie”" in said
    assert "line 6 — “March 2999” isn't a last-in-touch date" in said
