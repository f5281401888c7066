"""Concurrent requests about one contact, on both databases: logging, snoozing and removing
the same person at once must each get a sensible reply, never an exception, never a deadlock,
and leave the database consistent."""

import asyncio
from datetime import date

from sqlalchemy import func, select

from bot.core.actions import Act
from bot.core.model import ContactDraft, UserRef
from bot.core.replies import Outcome, Reply
from bot.core.service import Caller, Reconnect
from storage.models import ContactRow, ConversationRow
from storage.repository import SqlStore

ADA = Caller(UserRef("slack", "T1", "U1"))
TODAY = date(2026, 11, 25)
#: Names no fuzzy match confuses with each other.
NAMES = (
    "Dana Abbott Bailey Carter Dixon Ellis Foster Gray Hayes Irwin Jones Klein Lopez Moore "
    "Nash Owens Perry Quinn Reyes Stone"
).split()


def _text(outcome: Outcome) -> str:
    assert isinstance(outcome, Reply), outcome
    return outcome.summary


async def test_log_snooze_and_remove_of_one_contact_race_cleanly(
    service: Reconnect, store: SqlStore
) -> None:
    ids = {}
    async with store.book(ADA.user) as book:
        for name in NAMES:
            contact = await book.add(ContactDraft(name=name), due_on=TODAY, today=TODAY)
            ids[name] = contact.id

    calls = []
    for name in NAMES:
        contact_id = str(ids[name])
        calls += [
            service.command(ADA, f"log {name} -- caught up"),
            service.action(ADA, Act.REMOVE_CONFIRM, contact_id),
            service.action(ADA, Act.SNOOZE, contact_id),
            service.command(ADA, f"log {name} -- and again"),
            service.command(ADA, f"snooze {name} 2 weeks"),
        ]
    results = await asyncio.gather(*calls, return_exceptions=True)

    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    texts = [_text(r) for r in results if not isinstance(r, BaseException)]
    for name, replies in zip(NAMES, (texts[i : i + 5] for i in range(0, len(texts), 5))):
        log, remove, snooze, log_again, snooze_again = replies
        assert remove.startswith(f"Removed {name}."), remove
        for reply in (log, log_again, snooze, snooze_again):
            assert name in reply or "removed" in reply, reply

    async with store.engine.connect() as connection:
        contacts = (await connection.execute(select(func.count()).select_from(ContactRow))).scalar()
        orphans = (
            await connection.execute(
                select(func.count())
                .select_from(ConversationRow)
                .outerjoin(ContactRow, ContactRow.id == ConversationRow.contact_id)
                .where(ContactRow.id.is_(None))
            )
        ).scalar()
    assert contacts == 0
    assert orphans == 0
