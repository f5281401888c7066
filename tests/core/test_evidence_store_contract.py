"""The store contract for predictions, outcomes and next steps: the same expectations on the
in-memory store and on SQLite and PostgreSQL (fixtures shared with test_store_contract)."""

# The shared fixtures are imported, and pytest passes them in as arguments of the same name.
# ruff: noqa: F811

from datetime import date, timedelta

import pytest

from bot.core.evidence import (
    ConversationFacts,
    Expectation,
    NextStep,
    OutcomeTag,
    Outreach,
    StepStatus,
)
from bot.core.model import ContactGone, Conversation
from bot.core.ports import Store
from tests.core.test_store_contract import (  # noqa: F401 (fixtures)
    ADA,
    BOB,
    TODAY,
    add,
    any_store,
    postgresql_url,
    sqlite_url,
)


async def test_outreach_is_recorded_read_back_and_updated(any_store: Store) -> None:
    dana = await add(any_store, ADA, "Dana")
    old = date(2023, 5, 1)
    async with any_store.book(ADA) as book:
        first = await book.record_outreach(dana, TODAY - timedelta(30), previous_contact_on=None)
        second = await book.record_outreach(dana, TODAY, previous_contact_on=old)
    assert second == Outreach(second.id, dana, TODAY, previous_contact_on=old)
    assert second.dormant and not first.dormant
    async with any_store.book(ADA) as book:
        assert await book.latest_outreach(dana) == second
        assert await book.set_outreach(
            second.id,
            expected=Expectation.NO_REPLY,
            actual=Expectation.GLAD,
            replied_on=TODAY + timedelta(1),
        )
    async with any_store.book(ADA, write=False) as book:
        assert await book.outreach(second.id) == Outreach(
            second.id,
            dana,
            TODAY,
            Expectation.NO_REPLY,
            Expectation.GLAD,
            TODAY + timedelta(1),
            old,
        )
        events, talks = await book.history(None)
        assert [e.id for e in events] == [first.id, second.id]
        assert talks == []
        events, _ = await book.history(TODAY - timedelta(29))
        assert [e.id for e in events] == [second.id]
        assert await book.outreach(second.id + 1000) is None


async def test_conversations_keep_response_and_outcomes(any_store: Store) -> None:
    dana = await add(any_store, ADA, "Dana")
    tags = frozenset({OutcomeTag.REFERRAL, OutcomeTag.ADVICE})
    async with any_store.book(ADA) as book:
        await book.log(Conversation(dana, TODAY - timedelta(2), kind="outreach"))
        await book.log(
            Conversation(dana, TODAY, "coffee", response=Expectation.GLAD, outcomes=tags)
        )
        await book.log(Conversation(dana, TODAY - timedelta(1)))
    async with any_store.book(ADA, write=False) as book:
        _, talks = await book.history(None)
    # Outreach rows are not conversations; oldest first.
    assert talks == [
        ConversationFacts(dana, TODAY - timedelta(1)),
        ConversationFacts(dana, TODAY, Expectation.GLAD, tags),
    ]


async def test_next_steps_lifecycle(any_store: Store) -> None:
    dana = await add(any_store, ADA, "Dana")
    marcus = await add(any_store, ADA, "Marcus")
    async with any_store.book(ADA) as book:
        late = await book.add_next_step(dana, "intro to the CFO", TODAY + timedelta(3))
        soon = await book.add_next_step(marcus, "send CV", TODAY)
    assert late == NextStep(late.id, dana, "intro to the CFO", TODAY + timedelta(3))
    async with any_store.book(ADA) as book:
        assert await book.next_steps_due(TODAY, limit=5) == [soon]
        assert await book.next_steps_due(TODAY + timedelta(3), limit=5) == [soon, late]
        assert await book.next_steps_due(TODAY + timedelta(3), limit=1) == [soon]
        assert await book.open_next_steps(limit=5) == [soon, late]
        assert await book.set_next_step(soon.id, status=StepStatus.DONE, due_on=soon.due_on)
        assert await book.set_next_step(
            late.id, status=StepStatus.OPEN, due_on=TODAY + timedelta(6)
        )
    async with any_store.book(ADA, write=False) as book:
        assert await book.next_steps_due(TODAY + timedelta(5), limit=5) == []
        moved = await book.next_step(late.id)
        assert moved is not None and moved.due_on == TODAY + timedelta(6)
        done = await book.next_step(soon.id)
        assert done is not None and done.status is StepStatus.DONE


async def test_everything_is_scoped_to_the_owner(any_store: Store) -> None:
    dana = await add(any_store, ADA, "Dana")
    async with any_store.book(ADA) as book:
        event = await book.record_outreach(dana, TODAY, previous_contact_on=None)
        step = await book.add_next_step(dana, "call", TODAY)
    async with any_store.book(BOB) as book:
        with pytest.raises(ContactGone):
            await book.record_outreach(dana, TODAY, previous_contact_on=None)
        with pytest.raises(ContactGone):
            await book.add_next_step(dana, "steal", TODAY)
        assert await book.outreach(event.id) is None
        assert await book.latest_outreach(dana) is None
        assert await book.next_step(step.id) is None
        assert not await book.set_outreach(
            event.id, expected=Expectation.GLAD, actual=None, replied_on=None
        )
        assert not await book.set_next_step(step.id, status=StepStatus.DROPPED, due_on=TODAY)
        assert await book.next_steps_due(TODAY, limit=5) == []
        assert await book.history(None) == ([], [])
    async with any_store.book(ADA, write=False) as book:
        assert await book.outreach(event.id) == event
        assert await book.next_step(step.id) == step


async def test_deleting_a_contact_deletes_its_evidence(any_store: Store) -> None:
    dana = await add(any_store, ADA, "Dana")
    marcus = await add(any_store, ADA, "Marcus")
    async with any_store.book(ADA) as book:
        gone = await book.record_outreach(dana, TODAY, previous_contact_on=None)
        kept = await book.record_outreach(marcus, TODAY, previous_contact_on=None)
        await book.add_next_step(dana, "call", TODAY)
        step = await book.add_next_step(marcus, "call", TODAY)
        await book.log(Conversation(dana, TODAY, response=Expectation.GLAD))
        assert await book.delete(dana)
    async with any_store.book(ADA, write=False) as book:
        assert await book.outreach(gone.id) is None
        assert await book.outreach(kept.id) == kept
        assert await book.next_steps_due(TODAY, limit=5) == [step]
        events, talks = await book.history(None)
        assert events == [kept] and talks == []
