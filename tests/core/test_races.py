"""Concurrent requests about one contact, on both databases: logging, snoozing and removing
the same person at once must each get a sensible reply, never an exception, never a deadlock,
and leave the database consistent."""

import asyncio
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from bot.core.actions import Act
from bot.core.model import ContactDraft, ContactGone, Conversation, UserRef
from bot.core.nudges import Card, NudgeContent
from bot.core.replies import MessageUpdate, Outcome, Reply
from bot.core.service import Caller, Reconnect
from storage.models import ContactRow, ConversationRow
from storage.repository import SqlContactBook, SqlStore
from tests.core.test_store_contract import seed_nudge
from tests.fakes.memory_store import MemoryBook, MemoryStore
from tests.support import Clock

ADA = Caller(UserRef("slack", "T1", "U1"))
TODAY = date(2026, 11, 25)
#: Names no fuzzy match confuses with each other.
NAMES = (
    *("Dana", "Abbott", "Bailey", "Carter", "Dixon", "Ellis", "Foster", "Gray", "Hayes"),
    *("Irwin", "Jones", "Klein", "Lopez", "Moore", "Nash", "Owens", "Perry", "Quinn"),
    *("Reyes", "Stone"),
)


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

    # This morning's nudge, with a card for everyone: every card click locks this one row.
    cards = [Card(ids[name], "Due") for name in NAMES]
    nudge = await seed_nudge(store, ADA.user, NudgeContent(day=TODAY.isoformat(), cards=cards))

    calls = []
    for name in NAMES:
        contact_id = str(ids[name])
        card = f"{nudge}:{contact_id}"
        calls += [
            service.command(ADA, f"log {name} -- caught up"),
            service.action(ADA, Act.REMOVE_CONFIRM, contact_id),
            service.action(ADA, Act.SNOOZE, contact_id),
            service.command(ADA, f"log {name} -- and again"),
            service.command(ADA, f"snooze {name} 2 weeks"),
            service.action(ADA, Act.CARD_REACHED, card),
            service.action(ADA, Act.CARD_SNOOZE_WEEK, card),
        ]
    results = await asyncio.gather(*calls, return_exceptions=True)

    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    for i, name in enumerate(NAMES):
        log, remove, snooze, log_again, snooze_again, *clicks = results[i * 7 : i * 7 + 7]
        assert _text(remove).startswith(f"Removed {name}."), remove
        for reply in (log, log_again, snooze, snooze_again):
            assert name in _text(reply) or "removed" in _text(reply), reply
        for click in clicks:  # the nudge shown again, or a message saying why not
            assert isinstance(click, MessageUpdate | Reply), click

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


async def test_a_contact_removed_under_a_log_gets_a_clear_reply(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the loser of the race hears where writers do not take turns: storage finds the
    contact gone when it records the conversation, and nothing is kept."""
    store = MemoryStore()
    service = Reconnect(store, clock=clock)
    await service.command(ADA, "add Dana")

    async def vanished(self: MemoryBook, conversation: Conversation) -> None:
        raise ContactGone(conversation.contact_id)

    monkeypatch.setattr(MemoryBook, "log", vanished)
    reply = await service.command(ADA, "log dana -- caught up")
    assert _text(reply) == "Dana was just removed from your list, so nothing was changed."
    async with store.book(ADA.user, write=False) as book:
        (dana,) = await book.page(offset=0, limit=10)
    assert dana.last_contacted_on is None


async def test_a_contact_removed_twice_at_once_says_so_to_the_second(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MemoryStore()
    service = Reconnect(store, clock=clock)
    await service.command(ADA, "add Dana")
    async with store.book(ADA.user, write=False) as book:
        ((dana, _),) = await book.names()

    async def none_left(self: MemoryBook, contact_id: int) -> bool:
        return False  # what storage answers when another request removed them first

    monkeypatch.setattr(MemoryBook, "delete", none_left)
    reply = await service.action(ADA, Act.REMOVE_CONFIRM, str(dana))
    assert _text(reply) == "Dana was just removed from your list, so nothing was changed."


class _Aborted(Exception):
    """A driver error as the database reports a transaction it aborted."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize("sqlstate", ["40001", "40P01"])
async def test_a_serialization_failure_or_deadlock_is_retried_once(
    store: SqlStore, sqlstate: str
) -> None:
    runs = []

    async def work(book: SqlContactBook) -> int:
        runs.append(await book.count())
        if len(runs) == 1:
            raise DBAPIError("UPDATE", {}, _Aborted(sqlstate))
        return len(runs)

    assert await store.in_book(ADA.user, work) == 2

    runs.clear()

    async def always(book: SqlContactBook) -> int:
        runs.append(0)
        raise DBAPIError("UPDATE", {}, _Aborted(sqlstate))

    with pytest.raises(DBAPIError):
        await store.in_book(ADA.user, always)
    assert len(runs) == 2


async def test_other_database_errors_are_not_retried(store: SqlStore) -> None:
    runs = []

    async def work(book: SqlContactBook) -> None:
        runs.append(0)
        raise DBAPIError("INSERT", {}, _Aborted("23505"))

    with pytest.raises(DBAPIError):
        await store.in_book(ADA.user, work)
    assert len(runs) == 1
