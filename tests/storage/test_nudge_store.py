"""The nudge store's compose reads on SQLite and PostgreSQL: one row shape, eligible contacts."""

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.model import Contact, ContactDraft, Conversation, UserRef
from storage.models import User
from storage.nudges import NudgeStore
from storage.repository import SqlStore

ADA = UserRef("slack", "T1", "U1")
TODAY = date(2026, 11, 25)


async def test_compose_inputs_reads_typed_contacts_and_only_eligible_ones(
    store: SqlStore, engine: AsyncEngine
) -> None:
    async with store.book(ADA) as book:
        due = await book.add(
            ContactDraft(name="Dana Due"), due_on=TODAY - timedelta(3), today=TODAY
        )
        await book.add(ContactDraft(name="Fay Future"), due_on=TODAY + timedelta(1), today=TODAY)
        skipped = await book.add(ContactDraft(name="Sam Skipped"), due_on=TODAY, today=TODAY)
        waiting = await book.add(ContactDraft(name="Wes Waiting"), due_on=TODAY, today=TODAY)
        await book.save(replace(skipped, skipped_on=TODAY))
        await book.save(replace(waiting, reached_out_on=TODAY, follow_up_on=TODAY))
        await book.log(Conversation(due.id, TODAY - timedelta(days=2), learned="sails"))
        expected = await book.get(due.id)
    async with engine.connect() as connection:
        owner = (await connection.execute(select(User.id))).scalar_one()

    inputs = (await NudgeStore(engine).compose_inputs({owner: TODAY}, candidates_per_user=5))[owner]

    # Due, not skipped today, not awaiting a reply: the only candidate (rank() relies on it).
    assert [c.name for c in inputs.candidates] == ["Dana Due"]
    [candidate] = inputs.candidates
    assert candidate == expected  # the same Contact the book reads, dates as dates
    assert isinstance(candidate.next_due_on, date) and isinstance(candidate.created_on, date)
    assert [c.name for c in inputs.followups] == ["Wes Waiting"]
    assert inputs.followups[0].follow_up_on == TODAY
    activity = inputs.activity
    assert activity.contacts == 4
    assert activity.conversations == 1
    assert activity.last_activity_on == TODAY - timedelta(days=2)
    assert activity.last_conversation_learned is True


async def test_contacts_for_reads_the_same_contacts_as_the_book(
    store: SqlStore, engine: AsyncEngine
) -> None:
    async with store.book(ADA) as book:
        added = await book.add(ContactDraft(name="Dana Due"), due_on=TODAY, today=TODAY)
        expected: Contact | None = await book.get(added.id)
    async with engine.connect() as connection:
        owner = (await connection.execute(select(User.id))).scalar_one()
    assert await NudgeStore(engine).contacts_for(owner, [added.id]) == {added.id: expected}
    assert await NudgeStore(engine).contacts_for(owner + 1, [added.id]) == {}
