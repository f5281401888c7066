"""The import parsers on real files (tests/data, synthetic people) and on made-up quirks."""

from __future__ import annotations

import codecs
from datetime import date
from pathlib import Path

import pytest

from bot.core.imports.clean import linkedin_key, parse_date
from bot.core.imports.decode import decode
from bot.core.imports.merge import plan
from bot.core.imports.parse import parse_file
from bot.core.imports.people import MAX_BYTES, MAX_ROWS, Format, ImportRefused, Person
from bot.core.model import NAME_MAX, NOTES_MAX, SHORT_FIELD_MAX, Contact

DATA = Path(__file__).resolve().parent.parent / "data"


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def by_name(people: list[Person]) -> dict[str, Person]:
    """Each name's first record."""
    out: dict[str, Person] = {}
    for person in people:
        out.setdefault(person.name, person)
    return out


def test_linkedin_connections_with_preamble_empty_emails_and_quirks() -> None:
    parsed = parse_file(read("linkedin_connections.csv"))
    assert parsed.format is Format.LINKEDIN
    people = by_name(parsed.people)
    chen = people["Chen Wei"]
    assert chen.line == 5  # after three preamble lines and the header
    assert chen.email == ""  # LinkedIn leaves most e-mails empty
    assert chen.connected_on == date(2014, 3, 14)
    assert chen.company_role == "VP Engineering at Northwind Traders"
    assert chen.linkedin_url == "https://www.linkedin.com/in/chen-wei-example"
    assert people["Amara Okafor"].company_role == "Director of Finance at Contoso, Ltd."
    assert people["Amara Okafor"].email == "amara.okafor@example.com"
    assert people["Zoë Lindqvist"].connected_on == date(2023, 11, 30)
    assert "陳 小明" in people
    # "@priya" is no e-mail address: the person stays, the value goes.
    assert people["Priya Raman"].email == ""
    # A date LinkedIn never writes: the person stays, without the date.
    assert people["Tomás García"].connected_on is None
    # A deleted member (no name) is skipped, by line.
    assert [(p.line, p.reason) for p in parsed.problems] == [(10, "no name")]


def test_formula_looking_cells_are_kept_as_text() -> None:
    parsed = parse_file(read("linkedin_connections.csv"))
    formula = next(p for p in parsed.people if p.name.startswith("="))
    assert formula.name == '=HYPERLINK("http://evil.example") Formula'
    assert formula.company_role == "-2+3 at +cmd|' /C calc'!A0"


def test_excel_utf16_tab_separated() -> None:
    parsed = parse_file(read("linkedin_excel_utf16.csv"))
    assert parsed.format is Format.LINKEDIN
    assert [p.name for p in parsed.people] == ["Ingrid Björnsdóttir", "Kwame Mensah"]
    assert parsed.people[0].company_role == "Chief Financial Officer at Fabrikam"


def test_google_current_export_with_bom_multiline_notes_and_labels() -> None:
    parsed = parse_file(read("google_contacts.csv"))
    assert parsed.format is Format.GOOGLE
    people = by_name(parsed.people)
    dana = people["Dana M. Whitfield"]
    assert dana.email == "dana.whitfield@example.com"  # the first of " ::: "-joined ones
    assert dana.notes == "Met at the 2019 offsite.\nLoves sailing.\nPhone: +1 555 0100"
    assert dana.how_known == "Former team"  # "* myContacts" is Google's, not the user's
    assert dana.company_role == "Chief Financial Officer at Northwind Traders"
    # The note spans two lines, so Amara's row starts on line 4.
    assert people["Amara Okafor"].line == 4
    assert people["Luis Fernández"].linkedin_url.endswith("/in/luis-fernandez-example")
    assert [(p.line, p.reason) for p in parsed.problems] == [(5, "no name")]


def test_google_older_form_semicolons_windows_1252() -> None:
    parsed = parse_file(read("google_contacts_old_semicolon_cp1252.csv"))
    assert parsed.format is Format.GOOGLE
    assert [p.name for p in parsed.people] == ["Renée Dubois", "Søren Kierkegaard"]
    renee = parsed.people[0]
    assert renee.company_role == "Head of Marketing at Litware"
    assert renee.notes.startswith("Worked together at Crédit Agricole")
    assert renee.how_known == "Former colleagues"
    assert [p.line for p in parsed.problems] == [4]


def test_vcards_3_and_4_folded_quoted_printable_and_a_broken_card() -> None:
    parsed = parse_file(read("contacts.vcf"))
    assert parsed.format is Format.VCARD
    people = by_name(parsed.people)
    haruki = people["Haruki Nakamura"]
    assert haruki.company_role == "Senior Director of Research at Tailspin Toys, R&D"  # folded
    assert haruki.notes.startswith("Former manager — met in Osaka")  # quoted-printable UTF-8
    assert haruki.linkedin_url == "https://www.linkedin.com/in/haruki-example"
    ngozi = people["Ngozi Adeyemi"]
    assert ngozi.notes == "Café meetings, every spring"  # escaped comma
    assert ngozi.how_known == "Mentors, Former team"
    assert [(p.line, p.reason) for p in parsed.problems] == [
        (23, "no name"),
        (29, "I couldn't read this card"),
    ]


@pytest.mark.parametrize(
    "data",
    [
        "First Name;Last Name;URL;Email Address;Company;Position;Connected On\n"
        "Ana;Ruiz;;ana@example.com;Acme;CEO;01 Jan 2010\n",
        "\ufeffFirst Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n"
        "Ana,Ruiz,,ana@example.com,Acme,CEO,01 Jan 2010\r\n",
    ],
)
def test_delimiters_and_bom(data: str) -> None:
    for encoded in (data.encode("utf-8"), data.encode("utf-16"), data.encode("utf-16-le")):
        parsed = parse_file(encoded)
        assert [(p.name, p.email, p.company_role) for p in parsed.people] == [
            ("Ana Ruiz", "ana@example.com", "CEO at Acme")
        ]


def test_latin1_fallback() -> None:
    data = "First Name,Last Name,URL,Connected On\nJosé,Núñez,,01 Jan 2010\n".encode("latin-1")
    assert parse_file(data).people[0].name == "José Núñez"


def test_values_are_cleaned_and_cut_to_the_contact_limits() -> None:
    long_name = "A" * (NAME_MAX + 1)
    rows = [
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On",
        f"Ada\u200b\x07,Lovelace\u202e,,,{'C' * 400},,",
        f"{long_name},X,,,,,",
        "\u0301\u0301,,,,,,",
    ]
    parsed = parse_file("\n".join(rows).encode())
    ada = parsed.people[0]
    assert ada.name == "Ada Lovelace"  # invisible and control characters gone
    assert len(ada.company_role) == SHORT_FIELD_MAX and ada.company_role.endswith("…")
    assert [(p.line, p.reason) for p in parsed.problems] == [
        (3, f"the name is longer than {NAME_MAX} characters"),
        (4, "no name"),
    ]


def test_notes_are_cut_to_the_limit() -> None:
    header = "First Name,Last Name,Notes,Labels\n"
    parsed = parse_file((header + f'Ana,Ruiz,"{"n" * 5000}",\n').encode())
    assert len(parsed.people[0].notes) == NOTES_MAX


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"date,amount\n2024-01-01,12.50\n", "don't recognise"),
        (b"PK\x03\x04\x00\x00\x00binary", "isn't text"),
        (b"x" * (MAX_BYTES + 1), "5 MB"),
        (b'First Name,Last Name,URL\n"Ana,Ruiz\n' + b"x" * 140_000, "isn't valid CSV"),
    ],
)
def test_whole_file_refusals(data: bytes, words: str) -> None:
    with pytest.raises(ImportRefused) as refused:
        parse_file(data)
    assert words in refused.value.message


def test_row_limit() -> None:
    header = "First Name,Last Name,URL,Connected On\n"
    ok = header + "".join(f"P{i},Q,,\n" for i in range(MAX_ROWS))
    assert len(parse_file(ok.encode()).people) == MAX_ROWS
    with pytest.raises(ImportRefused) as refused:
        parse_file((ok + "One,More,,\n").encode())
    assert "20,000" in refused.value.message


def test_invalid_utf16_is_refused() -> None:
    with pytest.raises(ImportRefused):
        decode(codecs.BOM_UTF16_LE + b"\x00\xd8A")  # a lone surrogate


def test_dates_and_profile_keys() -> None:
    assert parse_date("14 Mar 2019") == date(2019, 3, 14)
    assert parse_date("2019-03-14") == date(2019, 3, 14)
    assert parse_date("31 Feb 2019") is None
    assert parse_date("") is None
    assert linkedin_key("http://LinkedIn.com/in/Chen-Wei/") == linkedin_key(
        "https://www.linkedin.com/in/chen-wei?trk=x"
    )


def test_merge_within_the_file_and_against_existing_contacts() -> None:
    parsed = parse_file(read("linkedin_connections.csv"))
    existing = [
        Contact(id=7, name="Amara Okafor", notes="Former peer"),
        Contact(id=8, name="Someone Else", email="ZOE@example.com"),
        Contact(id=9, name="P. Raman", linkedin_url="http://linkedin.com/in/priya-raman-example"),
    ]
    changes = plan(existing, parsed.people)
    names = [c.name for c in changes.new]
    # Chen Wei is twice in the file (same profile, spelled differently): one new contact,
    # with the e-mail only the second row had. Amara (by name) and Priya (by profile URL)
    # exist already.
    assert names.count("Chen Wei") == 1
    assert "Amara Okafor" not in names and "Priya Raman" not in names
    chen = next(c for c in changes.new if c.name == "Chen Wei")
    assert chen.email == "chen.wei@example.com"
    assert changes.merged == 3
    updated = {c.id: c for c in changes.updated}
    assert updated[7].notes == "Former peer"  # kept, and filled in:
    assert updated[7].email == "amara.okafor@example.com"
    assert updated[7].company_role == "Director of Finance at Contoso, Ltd."
    assert updated[9].name == "P. Raman"  # the user's name for them stays
    assert updated[9].connected_on == date(2016, 9, 21)
    assert 8 not in updated


@pytest.mark.parametrize(
    "name", ["Chen Wei", "O'Brien-Smith", "ANNA-LENA", "=HYPERLINK(1)", "Zoë Ó Briain", "ß", "İ"]
)
def test_the_quick_name_key_is_the_contacts_key(name: str) -> None:
    from bot.core.imports.clean import line_text, name_key
    from bot.core.text import fold

    cleaned = line_text(name)
    assert name_key(cleaned) == fold(cleaned)
