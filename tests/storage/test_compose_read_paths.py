"""A page's composed nudges are the same whichever way its contacts are read: the fast reads
of ``Dialect.owned_contacts`` (contacts built by position from the driver's rows on
PostgreSQL, one JSON array a row on SQLite) against the plain one (``owned_contacts_by_row``:
SQLAlchemy rows, dates converted by the column types)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.cadence import Span, Unit
from bot.core.model import ContactDraft, UserRef
from bot.core.relationships import YEARS_AGO
from storage.compose_reads import ComposeReads
from storage.dialect import AnySelect, OwnedContact, dialect_of
from storage.repository import SqlStore

TODAY = date(2026, 11, 30)
TIES = ["", "boss", "mentor", "peer", "friend", "client", "report", "other"]
NOTES = ["", 'loves "sailing", \\ and\nCJK 北京 🎉', "asked about the Lisbon move", ""]


async def _seed(store: SqlStore) -> dict[int, UserRef]:
    users: dict[int, UserRef] = {}
    for u in range(6):
        user = UserRef("slack", "T1", f"U{u}")
        async with store.book(user) as book:
            for k in range(12):
                n = u * 12 + k
                draft = ContactDraft(
                    name=f"{['Dana', 'WANG Li', 'Dr. Amara', 'Zoë Ó'][n % 4]} {chr(65 + k)}son",
                    cadence=Span(1 + n % 3, [Unit.WEEKS, Unit.MONTHS, Unit.DAYS][n % 3]),
                    company_role=["", "CTO, [Acme]"][n % 2],
                    how_known=["", "school"][n % 3 == 0],
                    notes=NOTES[n % 4],
                    relationship=TIES[n % len(TIES)],
                    last_in_touch=[None, YEARS_AGO, date(2021, 5, 1)][n % 3],
                    win="got promoted to VP" if n % 5 == 0 else "",
                    win_on=TODAY - timedelta(days=n % 9) if n % 5 == 0 else None,
                )
                due = TODAY - timedelta(days=n % 40) if n % 6 else TODAY + timedelta(days=3)
                added = await book.add(draft, due_on=due, today=TODAY - timedelta(days=400))
                if n % 7 == 0:  # asked "did you hear back?" today
                    added = dataclasses.replace(
                        added,
                        reached_out_on=TODAY - timedelta(days=5 + n % 3),
                        follow_up_on=TODAY - timedelta(days=n % 3),
                    )
                elif n % 4 == 1:  # suggested lately, talked before
                    added = dataclasses.replace(
                        added,
                        suggested_on=TODAY - timedelta(days=1 + n % 10),
                        last_contacted_on=TODAY - timedelta(days=30 * (n % 50)),
                    )
                await book.save(added)
            users[await store.owner_id(user)] = user
    return users


async def test_a_page_composes_the_same_from_either_read(
    store: SqlStore, engine: AsyncEngine
) -> None:
    users = await _seed(store)
    days = dict.fromkeys(users, TODAY)
    fast = ComposeReads(engine)
    plain = ComposeReads(engine)
    kind = type(dialect_of(engine))

    class ByRow(kind):  # type: ignore[valid-type, misc]
        async def owned_contacts(
            self, connection: AsyncConnection, query: AnySelect
        ) -> list[OwnedContact]:
            rows: list[OwnedContact] = await self.owned_contacts_by_row(connection, query)
            return rows

    plain.dialect = ByRow(engine)
    composed = []
    for reads in (fast, plain):
        inputs = await reads.compose_inputs(days, candidates_per_user=6)
        page = []
        for owner_id, user in users.items():
            content, contacts = inputs[owner_id].compose(user, TODAY, 3)
            page.append((content.to_json(), sorted(contacts.items())))
        composed.append((page, inputs))
    (page_fast, inputs_fast), (page_plain, inputs_plain) = composed
    assert page_fast == page_plain
    assert inputs_fast == inputs_plain
    # Not a vacuous comparison: cards, follow-ups and wins were composed.
    assert all('"cards":[{' in text for text, _ in page_fast)
    assert any('"followups":[{' in text for text, _ in page_fast)
    assert any("Congratulate" in text for text, _ in page_fast)
