"""Our own export imported back (issue 10), through the service on the in-memory store and the
SQL store (SQLite and PostgreSQL): every field a person typed arrives, in the CSV (all of them)
and the vCard (the ones an address book card holds)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.core.cadence import DEFAULT_CADENCE
from bot.core.model import Contact, UserRef
from bot.core.ports import Store
from bot.core.ranking import rotation_key, value_points
from bot.core.relationships import YEARS_AGO
from bot.core.replies import FileOut, Reply, plain
from bot.core.service import Caller, Reconnect
from storage.models import ContactRow
from storage.repository import SqlStore
from tests.core.test_store_contract import TODAY, add, any_store, postgresql_url, sqlite_url
from tests.support import Clock

__all__ = ["any_store", "postgresql_url", "sqlite_url"]  # fixtures used here

DATA = Path(__file__).resolve().parent.parent / "data"
ADA = Caller(UserRef("slack", "T1", "U1"))
BOB = Caller(UserRef("slack", "T1", "U2"))
CAROL = Caller(UserRef("slack", "T1", "U3"))

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
#: What a vCard holds of them (how you know them and notes share its NOTE).
ON_A_CARD = ("name", "preferred_name", "relationship", "last_in_touch", "email", "linkedin_url")


def text(reply: object) -> str:
    assert isinstance(reply, Reply), reply
    return "\n".join(
        [reply.summary, *(plain(b.parts) for b in reply.blocks if hasattr(b, "parts"))]
    )


async def everyone(store: Store, caller: Caller) -> dict[str, Contact]:
    async with store.book(caller.user, write=False) as book:
        return {c.name: c for c in await book.everyone()}


def fields(contact: Contact, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(contact, name) for name in names}


async def seed(store: Store, app: Reconnect) -> None:
    """Ada's circle: typed in, and imported (with e-mails) then chosen from the pool."""
    await add(
        store,
        ADA.user,
        "Dana Whitfield",
        company_role="CFO at Northwind",
        how_known="Former team",
        notes="Loves sailing.\nTwo kids.",
        preferred_name="Dee",
        relationship="boss",
        last_in_touch=date(2019, 3, 1),
    )
    await add(store, ADA.user, "WANG Li", relationship="friend", last_in_touch=YEARS_AGO)
    await add(store, ADA.user, "=SUM(A1)", notes="@risky -1")
    await app.import_file(ADA, (DATA / "google_contacts_relations.csv").read_bytes())
    async with store.book(ADA.user) as book:
        pool = await book.pool()
        await book.join_circle([c.id for c in pool], cadence=DEFAULT_CADENCE, today=TODAY)


async def export(app: Reconnect, what: str) -> FileOut:
    reply = await app.command(ADA, f"export {what}")
    assert isinstance(reply, Reply)
    (file,) = reply.files
    return file


async def test_csv_export_imports_back_with_every_typed_field(any_store: Store) -> None:
    app = Reconnect(any_store, clock=Clock())
    await seed(any_store, app)
    ada = await everyone(any_store, ADA)
    assert len(ada) == 8
    assert ada["Robert Lindqvist"].relationship == "boss"  # from the Google file
    file = await export(app, "csv")
    said = text(await app.import_file(BOB, file.content))
    assert "Imported 8 people from your Reconnect export into your pool." in said
    assert "couldn't read" not in said and "Skipped" not in said
    bob = await everyone(any_store, BOB)
    assert sorted(bob) == sorted(ada)
    for name, contact in ada.items():
        assert fields(bob[name], TYPED) == fields(contact, TYPED), name
        assert bob[name].in_pool and not contact.in_pool


async def test_vcard_export_imports_back_with_the_card_fields(any_store: Store) -> None:
    app = Reconnect(any_store, clock=Clock())
    await seed(any_store, app)
    ada = await everyone(any_store, ADA)
    file = await export(app, "vcf")
    said = text(await app.import_file(CAROL, file.content))
    assert "Imported 8 people from your contact cards" in said
    carol = await everyone(any_store, CAROL)
    for name, contact in ada.items():
        assert fields(carol[name], ON_A_CARD) == fields(contact, ON_A_CARD), name


async def test_importing_your_own_export_again_changes_nobody(any_store: Store) -> None:
    app = Reconnect(any_store, clock=Clock())
    await seed(any_store, app)
    before = await everyone(any_store, ADA)
    file = await export(app, "csv")
    said = text(await app.import_file(ADA, file.content))
    assert "Imported 0 people" in said and "Merged 8 entries" in said
    assert await everyone(any_store, ADA) == before


async def test_a_later_file_fills_in_the_tie_and_the_ranking_columns(any_store: Store) -> None:
    app = Reconnect(any_store, clock=Clock())
    first = b"First Name,Last Name,Organization Name,E-mail 1 - Value\nMei,Tanaka,Litware,\n"
    await app.import_file(ADA, first)
    later = (
        b"First Name,Last Name,Nickname,Organization Name,Relationship,Last in touch\n"
        b"Mei,Tanaka,Mimi,Litware,Former boss,years ago\n"
    )
    said = text(await app.import_file(ADA, later))
    assert "Merged 1 entry" in said
    mei = (await everyone(any_store, ADA))["Mei Tanaka"]
    assert (mei.preferred_name, mei.relationship, mei.last_in_touch) == ("Mimi", "boss", YEARS_AGO)
    if isinstance(any_store, SqlStore):  # the stored ranking columns (the fake has none)
        await _check_ranking_columns(any_store, mei)
    # Chosen in the triage, the former boss comes first.
    form = await app.command(ADA, "triage")
    assert "Mei Tanaka — Former boss · Litware · last in touch years ago" in str(form)


async def _check_ranking_columns(any_store: SqlStore, mei: Contact) -> None:
    async with any_store.engine.connect() as connection:
        row = (
            await connection.execute(
                select(ContactRow.value_points, ContactRow.rotation_key).where(
                    ContactRow.id == mei.id
                )
            )
        ).one()
    assert tuple(row) == (value_points(mei), rotation_key(mei)) and row[0] >= 8
