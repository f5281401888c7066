"""The morning pass's contact reads (``Dialect.owned_contacts``) give back exactly what the
contact book stores, whatever the text: on SQLite each row travels as one JSON array."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.cadence import Span, Unit
from bot.core.model import ContactDraft, UserRef
from storage.compose_reads import OWNED_CONTACT_COLUMNS
from storage.dialect import dialect_of
from storage.models import ContactRow
from storage.repository import SqlStore

ADA = UserRef("slack", "T1", "U1")
TODAY = date(2026, 11, 25)
AWKWARD = [
    ContactDraft(name="Zoë Ó Briain", notes='said "hi" \\ then\nleft\ttabs', how_known="北京 office 🎉"),
    ContactDraft(name="WANG Li", company_role="CTO, [Acme] {x}", preferred_name="Li"),
    ContactDraft(name="Dr. Amara Okafor", relationship="boss", last_in_touch=date(2019, 3, 1),
                 win="got promoted to VP", win_on=date(2026, 11, 20), cadence=Span(3, Unit.WEEKS)),
    ContactDraft(name="Plain"),
]  # fmt: skip


async def test_owned_contacts_equal_what_the_book_reads(
    store: SqlStore, engine: AsyncEngine
) -> None:
    async with store.book(ADA) as book:
        ids = [(await book.add(d, due_on=TODAY, today=TODAY)).id for d in AWKWARD]
        stored = [await book.get(i) for i in ids]
    dialect = dialect_of(engine)
    query = select(*OWNED_CONTACT_COLUMNS).where(ContactRow.id.in_(ids)).order_by(ContactRow.id)
    async with engine.connect() as connection:
        read = await dialect.owned_contacts(connection, query)
    assert len({owner for owner, _ in read}) == 1
    assert [contact for _, contact in read] == stored
    assert read[0][1].notes == 'said "hi" \\ then\nleft\ttabs'
    assert read[2][1].win_on == date(2026, 11, 20) and read[2][1].last_in_touch == date(2019, 3, 1)
    assert read[3][1].last_contacted_on is None
