"""Importing files and triaging the pool through the service, on the in-memory store and the
SQL store (SQLite and PostgreSQL): the same expectations on all three."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.core.actions import Act
from bot.core.imports.people import MAX_BYTES
from bot.core.model import POOL_DUE, UserRef
from bot.core.ports import Store
from bot.core.replies import Form, FormKind, MultiSelectField, Reply, plain
from bot.core.service import Caller, Reconnect
from tests.core.test_store_contract import any_store, postgresql_url, sqlite_url
from tests.support import Clock

__all__ = ["any_store", "postgresql_url", "sqlite_url"]  # fixtures used here

DATA = Path(__file__).resolve().parent.parent / "data"
ADA = Caller(UserRef("slack", "T1", "U1"))
BOB = Caller(UserRef("slack", "T1", "U2"))


def text(reply: object) -> str:
    assert isinstance(reply, Reply), reply
    parts = [reply.summary]
    for block in reply.blocks:
        if hasattr(block, "parts"):
            parts.append(plain(block.parts))
    return "\n".join(parts)


def service(store: Store) -> Reconnect:
    return Reconnect(store, clock=Clock())


async def names_in_pool(store: Store, caller: Caller = ADA) -> list[str]:
    async with store.book(caller.user, write=False) as book:
        return sorted(c.name for c in await book.pool())


async def test_linkedin_import_lands_in_the_pool_not_the_circle(any_store: Store) -> None:
    app = service(any_store)
    reply = await app.import_file(ADA, (DATA / "linkedin_connections.csv").read_bytes())
    said = text(reply)
    assert "Imported 8 people from your LinkedIn connections into your pool." in said
    assert "Merged 1 entry" in said  # Chen Wei was in the file twice
    assert "Skipped 1 line: line 10 — no name." in said
    assert "You imported 8 connections — pick who matters." in said
    pool = await names_in_pool(any_store)
    assert len(pool) == 8 and "Chen Wei" in pool
    # The formula-looking name is stored as the text it is.
    assert '=HYPERLINK("http://evil.example") Formula' in pool
    async with any_store.book(ADA.user, write=False) as book:
        assert await book.count() == 0  # the circle is empty
        assert (await book.due_summary(date(2026, 11, 25), limit=10)).total_due == 0
        assert await book.names() == []
        chen = next(c for c in await book.pool() if c.name == "Chen Wei")
        assert chen.next_due_on == POOL_DUE and chen.in_pool
        assert chen.email == "chen.wei@example.com"  # from the duplicate row, merged
        assert chen.connected_on == date(2014, 3, 14)
        assert await book.get(chen.id) is None  # the circle's commands don't see the pool
    assert text(await app.command(ADA, "due")).startswith("You haven't added anyone yet")
    # Bob sees nothing of it.
    assert await names_in_pool(any_store, BOB) == []


async def test_importing_again_duplicates_nobody(any_store: Store) -> None:
    app = service(any_store)
    data = (DATA / "linkedin_connections.csv").read_bytes()
    await app.import_file(ADA, data)
    reply = await app.import_file(ADA, data)
    said = text(reply)
    assert "Imported 0 people" in said and "Merged 9 entries" in said
    assert len(await names_in_pool(any_store)) == 8


async def test_merge_keeps_the_circle_contact_and_fills_in_details(any_store: Store) -> None:
    app = service(any_store)
    await app.command(ADA, "add Amara Okafor -- former peer, loves chess")
    await app.import_file(ADA, (DATA / "google_contacts.csv").read_bytes())
    async with any_store.book(ADA.user, write=False) as book:
        assert await book.count() == 1
        amara = (await book.page(offset=0, limit=5))[0]
        assert not amara.in_pool
        assert amara.notes.startswith("former peer, loves chess")  # the user's notes first
        assert amara.email == "AMARA.OKAFOR@example.com"
        assert amara.company_role == "Director of Finance at Contoso"
    # The LinkedIn file knows her by the same e-mail in another case: merged again.
    said = text(await app.import_file(ADA, (DATA / "linkedin_connections.csv").read_bytes()))
    assert "Imported 7 people" in said
    assert "Amara Okafor" not in await names_in_pool(any_store)


async def test_triage_ranks_senior_and_dormant_first_and_chosen_join_the_circle(
    any_store: Store,
) -> None:
    app = service(any_store)
    await app.import_file(ADA, (DATA / "linkedin_connections.csv").read_bytes())
    form = await app.command(ADA, "triage")
    assert isinstance(form, Form) and form.kind == FormKind.TRIAGE_POOL
    field = form.fields[0]
    assert isinstance(field, MultiSelectField)
    labels = [choice.label for choice in field.choices]
    # COO first, then the VP, then Head (2012) before Director (2019), …
    assert labels[0].startswith("Priya Raman — Chief Operating Officer")
    assert labels[1] == "Chen Wei — VP Engineering at Northwind Traders · connected 2014"
    assert labels[2].startswith("Rafael Moreno") and labels[3].startswith("Amara Okafor")
    assert all(len(label) <= 75 for label in labels)
    priya, chen = field.choices[0].value, field.choices[1].value
    reply = await app.submit(ADA, form.kind, form.context, {"people": f"{priya},{chen}"})
    said = text(reply)
    assert (
        "Added Priya Raman and Chen Wei to your circle — I'll suggest them every 6 weeks." in said
    )
    assert "That was the last page; 6 people stay in your pool" in said
    async with any_store.book(ADA.user, write=False) as book:
        due = await book.due_summary(date(2026, 11, 25), limit=10)
        assert sorted(c.name for c in due.contacts) == ["Chen Wei", "Priya Raman"]
    assert len(await names_in_pool(any_store)) == 6
    # Submitting the same form again moves nobody twice.
    again = await app.submit(ADA, form.kind, form.context, {"people": f"{priya}"})
    assert "Nobody added" in text(again)


async def test_triage_ignores_ids_the_form_did_not_show_and_other_users(any_store: Store) -> None:
    app = service(any_store)
    await app.import_file(BOB, (DATA / "contacts.vcf").read_bytes())
    async with any_store.book(BOB.user, write=False) as book:
        bob_ids = [c.id for c in await book.pool()]
    await app.import_file(ADA, (DATA / "linkedin_excel_utf16.csv").read_bytes())
    form = await app.command(ADA, "triage")
    assert isinstance(form, Form)
    forged = ",".join(str(i) for i in bob_ids)
    # Bob's ids in the answer, and in a forged context: nothing of Bob's moves.
    reply = await app.submit(ADA, form.kind, f"0:{forged}", {"people": forged})
    assert "Nobody added" in text(reply)
    outcome = await app.action(ADA, Act.POOL_ADD, str(bob_ids[0]))
    assert "isn't in your pool" in text(outcome)
    assert len(await names_in_pool(any_store, BOB)) == len(bob_ids)


async def test_list_pool_and_the_add_button(any_store: Store) -> None:
    app = service(any_store)
    await app.import_file(ADA, (DATA / "linkedin_connections.csv").read_bytes())
    listing = await app.command(ADA, "list pool")
    said = text(listing)
    assert "Your pool: 8 people with no reminders (page 1 of 1)." in said
    assert isinstance(listing, Reply)
    add = next(b.button for b in listing.blocks if hasattr(b, "button") and b.button is not None)
    assert add.action == Act.POOL_ADD
    added = await app.action(ADA, add.action, add.value)
    assert "Added Priya Raman to your circle" in text(added)
    assert "page 2" in text(await app.command(ADA, "list pool 2"))
    assert "7 people" in text(await app.command(ADA, "list pool"))


async def test_adding_a_pool_name_moves_them_into_the_circle(any_store: Store) -> None:
    app = service(any_store)
    await app.import_file(ADA, (DATA / "linkedin_connections.csv").read_bytes())
    reply = await app.command(ADA, "add Chen Wei every 2 months -- met at KubeCon")
    assert "Added Chen Wei" in text(reply)
    async with any_store.book(ADA.user, write=False) as book:
        (chen,) = await book.page(offset=0, limit=5)
        assert chen.cadence.every() == "every 2 months"
        assert chen.notes == "met at KubeCon"
        assert chen.email == "chen.wei@example.com"  # what the import knew stays
        assert chen.next_due_on == date(2026, 11, 25)
    assert "Chen Wei" not in await names_in_pool(any_store)


async def test_refused_and_empty_files_change_nothing(any_store: Store) -> None:
    app = service(any_store)
    for data, words in [
        (b"x" * (MAX_BYTES + 1), "5 MB"),
        ((DATA / "not_contacts.csv").read_bytes(), "don't recognise"),
        (b"First Name,Last Name,URL\n,,\n,,x\n", "found nobody I could import"),
    ]:
        assert words in text(await app.import_file(ADA, data))
    async with any_store.book(ADA.user, write=False) as book:
        assert await book.everyone() == []


async def test_an_import_is_all_or_nothing(any_store: Store) -> None:
    """A failure after the rows were written (here: raised by the work itself) leaves none."""
    from bot.core.imports.merge import plan
    from bot.core.imports.parse import parse_file

    parsed = parse_file((DATA / "linkedin_connections.csv").read_bytes())

    async def work(book: object) -> None:
        changes = plan([], parsed.people)
        await book.import_people(changes.new, [], today=date(2026, 11, 25))  # type: ignore[attr-defined]
        assert len(await book.pool()) == 8  # type: ignore[attr-defined]
        raise RuntimeError("the connection dropped")

    with pytest.raises(RuntimeError):
        await any_store.in_book(ADA.user, work)  # type: ignore[arg-type]
    assert await names_in_pool(any_store) == []


async def test_the_export_includes_people_still_in_the_pool(any_store: Store) -> None:
    """Everything stored is exported (`export`), the imported pool too, on every store."""
    app = Reconnect(any_store, clock=Clock())
    await app.import_file(ADA, (DATA / "linkedin_connections.csv").read_bytes())
    pool = await names_in_pool(any_store)
    assert pool
    async with any_store.book(ADA.user, write=False) as book:
        exported = await book.export_data()
    assert {c["name"] for c in exported.sections["contacts"]} >= set(pool)
