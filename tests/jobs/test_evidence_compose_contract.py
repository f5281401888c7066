"""What the morning pass reads for predictions and next steps: the same on the fake and on
``NudgeStore`` over SQLite and PostgreSQL (fixtures shared with test_nudge_store_contract)."""

# The shared fixtures are imported, and pytest passes them in as arguments of the same name.
# ruff: noqa: F811

from __future__ import annotations

from datetime import timedelta

from bot.core.courage import EvidenceHint, Story
from bot.core.evidence import Expectation, StepStatus
from bot.core.model import ContactDraft
from tests.jobs.test_nudge_store_contract import (  # noqa: F401 (fixtures)
    ADA,
    BOB,
    DAY,
    World,
    user,
    world,
)

E = Expectation


async def test_next_steps_due_on_each_users_day(world: World) -> None:
    ada, bob = await user(world, ADA), await user(world, BOB)
    async with world.books.book(ADA) as book:
        dana = await book.add(ContactDraft(name="Dana Whitfield"), due_on=DAY, today=DAY)
        cy = await book.add(ContactDraft(name="Cy Park"), due_on=DAY, today=DAY)
        late = await book.add_next_step(dana.id, "intro to the CFO", DAY - timedelta(2))
        today = await book.add_next_step(cy.id, "send CV", DAY)
        await book.add_next_step(cy.id, "tomorrow's", DAY + timedelta(1))
        done = await book.add_next_step(dana.id, "done already", DAY - timedelta(5))
        await book.set_next_step(done.id, status=StepStatus.DONE, due_on=done.due_on)
        for i in range(3):
            await book.add_next_step(cy.id, f"extra {i}", DAY)
    async with world.books.book(BOB) as book:
        bo = await book.add(ContactDraft(name="Bo Li"), due_on=DAY, today=DAY)
        await book.add_next_step(bo.id, "Bob's", DAY + timedelta(1))
    inputs = await world.store.compose_inputs({ada: DAY, bob: DAY}, candidates_per_user=3)
    shown = [(s.id, s.text, c.name) for s, c in inputs[ada].next_steps]
    assert shown[:2] == [
        (late.id, "intro to the CFO", "Dana Whitfield"),
        (today.id, "send CV", "Cy Park"),
    ]
    assert len(shown) == 3  # at most MAX_STEPS
    assert inputs[bob].next_steps == []  # Bob's is due tomorrow
    later = await world.store.compose_inputs({bob: DAY + timedelta(1)}, candidates_per_user=3)
    assert [s.text for s, _ in later[bob].next_steps] == ["Bob's"]


async def test_evidence_hint_tells_the_latest_fear_that_turned_out_better(world: World) -> None:
    ada, bob = await user(world, ADA), await user(world, BOB)
    async with world.books.book(ADA) as book:
        ahmed = await book.add(ContactDraft(name="Ahmed Khan"), due_on=DAY, today=DAY)
        zoe = await book.add(ContactDraft(name="Zoe Li"), due_on=DAY, today=DAY)

        async def event(contact: int, days_ago: int, expected: E, actual: E | None) -> None:
            on = DAY - timedelta(days_ago)
            made = await book.record_outreach(contact, on, previous_contact_on=None)
            replied = on + timedelta(1) if actual is not None and actual.replied else None
            await book.set_outreach(made.id, expected=expected, actual=actual, replied_on=replied)

        await event(ahmed.id, 40, E.NO_REPLY, E.GLAD)  # the story
        await event(zoe.id, 20, E.GLAD, E.GO_OUT_OF_WAY)  # not a fear
        await event(zoe.id, 10, E.NO_REPLY, E.NO_REPLY)  # came true
        await event(zoe.id, 400, E.BRUSH_OFF, E.GLAD)  # too long ago
    async with world.books.book(BOB) as book:
        bo = await book.add(ContactDraft(name="Bo Li"), due_on=DAY, today=DAY)
        await book.record_outreach(bo.id, DAY, previous_contact_on=None)  # no prediction
    inputs = await world.store.compose_inputs({ada: DAY, bob: DAY}, candidates_per_user=3)
    story = Story("Ahmed", E.NO_REPLY, E.GLAD, DAY - timedelta(40), DAY - timedelta(39))
    assert inputs[ada].evidence == EvidenceHint(predicted=True, story=story)
    assert inputs[bob].evidence == EvidenceHint()
