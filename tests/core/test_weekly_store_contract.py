"""The store contract for the weekly goal and recap: the same expectations on the in-memory
store and on SQLite and PostgreSQL (fixtures shared with test_store_contract)."""

# The shared fixtures are imported, and pytest passes them in as arguments of the same name.
# ruff: noqa: F811

from datetime import time, timedelta

from bot.core.evidence import Expectation, OutcomeTag
from bot.core.goals import GoalChange, Reach, week_start
from bot.core.model import Conversation
from bot.core.ports import Store
from bot.core.recap import RecapPrefs
from tests.core.test_store_contract import (  # noqa: F401 (fixtures)
    ADA,
    BOB,
    TODAY,
    add,
    any_store,
    postgresql_url,
    sqlite_url,
)

WEEK = week_start(TODAY)


async def test_goals_are_kept_per_week_and_a_new_one_replaces_later_ones(any_store: Store) -> None:
    async with any_store.book(ADA) as book:
        assert await book.goal_changes() == []
        await book.set_goal(WEEK - timedelta(14), 2)
        await book.set_goal(WEEK + timedelta(7), 4)  # a recap's "raise next week"
        await book.set_goal(WEEK, 3)  # `goal 3` now: replaces next week's too
        await book.set_goal(WEEK, 3)  # twice is once
    async with any_store.book(BOB) as book:
        await book.set_goal(WEEK, 9)
    async with any_store.book(ADA, write=False) as book:
        assert await book.goal_changes() == [
            GoalChange(WEEK - timedelta(14), 2),
            GoalChange(WEEK, 3),
        ]
        goals, reached = await book.week_record(WEEK - timedelta(days=365))
        assert goals == await book.goal_changes() and reached == []


async def test_week_record_counts_outreach_and_logged_conversations(any_store: Store) -> None:
    dana = await add(any_store, ADA, "Dana")
    bo = await add(any_store, ADA, "Bo")
    secret = await add(any_store, BOB, "Secret")
    async with any_store.book(ADA) as book:
        # "Reached out" keeps an outreach row and a conversation of kind "outreach": one reach.
        await book.log(Conversation(dana, WEEK, kind="outreach"))
        await book.record_outreach(dana, WEEK, previous_contact_on=None)
        await book.log(Conversation(bo, WEEK + timedelta(1), "lunch"))
        await book.log(Conversation(bo, WEEK - timedelta(30), "long ago"))
    async with any_store.book(BOB) as book:
        await book.log(Conversation(secret, WEEK, "not Ada's"))
    async with any_store.book(ADA, write=False) as book:
        _, reached = await book.week_record(WEEK)
    assert sorted(reached, key=lambda r: (r.day, r.contact_id)) == [
        Reach(WEEK, dana),
        Reach(WEEK + timedelta(1), bo),
    ]


async def test_recap_settings_default_and_are_saved(any_store: Store) -> None:
    async with any_store.book(ADA) as book:
        assert await book.recap_prefs() == RecapPrefs(4, time(16, 0), True)
        await book.save_recap_prefs(RecapPrefs(6, time(18, 15), False))
    async with any_store.book(ADA) as book:
        assert await book.recap_prefs() == RecapPrefs(6, time(18, 15), False)
        await book.save_recap_prefs(RecapPrefs(0, time(9, 0), True))
    async with any_store.book(ADA, write=False) as book:
        assert await book.recap_prefs() == RecapPrefs(0, time(9, 0), True)
    async with any_store.book(BOB, write=False) as book:
        assert await book.recap_prefs() == RecapPrefs()


async def test_recap_inputs_hold_the_week_and_the_history(any_store: Store) -> None:
    dana = await add(any_store, ADA, "Dana Whitfield")
    bo = await add(any_store, ADA, "Bo Li")
    secret = await add(any_store, BOB, "Secret")
    friday = WEEK + timedelta(4)
    async with any_store.book(ADA) as book:
        event = await book.record_outreach(dana, WEEK + timedelta(1), previous_contact_on=None)
        await book.set_outreach(
            event.id, expected=Expectation.NO_REPLY, actual=Expectation.GLAD, replied_on=friday
        )
        await book.record_outreach(dana, WEEK - timedelta(20), previous_contact_on=None)
        await book.log(
            Conversation(
                bo, WEEK + timedelta(2), "coffee", outcomes=frozenset({OutcomeTag.REFERRAL})
            )
        )
        await book.log(Conversation(bo, friday + timedelta(1), "tomorrow"))  # after the day
        step = await book.add_next_step(bo, "send my CV", friday + timedelta(3))
        await book.set_goal(WEEK - timedelta(21), 1)
    async with any_store.book(BOB) as book:
        await book.log(Conversation(secret, WEEK + timedelta(1), "not Ada's"))
        await book.add_next_step(secret, "not Ada's", friday)
    async with any_store.book(ADA, write=False) as book:
        inputs = await book.recap_inputs(friday)
    assert sorted(inputs.reached, key=lambda r: r.day) == [
        Reach(WEEK - timedelta(20), dana),
        Reach(WEEK + timedelta(1), dana),
        Reach(WEEK + timedelta(2), bo),
    ]
    assert [o.id for o in inputs.outreach] == [event.id]
    assert inputs.outreach[0].actual == Expectation.GLAD
    assert [(t.contact_id, t.outcomes) for t in inputs.talks] == [
        (bo, frozenset({OutcomeTag.REFERRAL}))
    ]
    assert [s.id for s in inputs.steps] == [step.id]
    assert inputs.names == {dana: "Dana Whitfield", bo: "Bo Li"}
    assert inputs.goals == [GoalChange(WEEK - timedelta(21), 1)]
    assert secret not in inputs.names


async def test_a_long_streak_reads_the_older_history_too(any_store: Store) -> None:
    """The SQL reads fetch a few recent weeks for everyone and the rest of the year only when a
    streak reaches back that far: a 20-week streak is counted in full all the same."""
    from bot.core.recap import compose_recap

    dana = await add(any_store, ADA, "Dana Whitfield")
    friday = WEEK + timedelta(4)
    async with any_store.book(ADA) as book:
        await book.set_goal(WEEK - timedelta(weeks=30), 1)
        for k in range(20):  # one conversation in each of the 20 weeks before this one
            day = WEEK - timedelta(weeks=k + 1) + timedelta(days=2)
            await book.log(Conversation(dana, day, "catch-up"))
        await book.log(Conversation(dana, WEEK - timedelta(weeks=22), "before a missed week"))
    async with any_store.book(ADA, write=False) as book:
        inputs = await book.recap_inputs(friday)
    assert compose_recap(ADA, friday, inputs).streak == 20
    async with any_store.book(ADA) as book:
        await book.log(Conversation(dana, WEEK + timedelta(1), "this week"))
    async with any_store.book(ADA, write=False) as book:
        inputs = await book.recap_inputs(friday)
    content = compose_recap(ADA, friday, inputs)
    assert (content.streak, content.done, content.goal) == (21, 1, 1)


async def test_recap_inputs_hold_the_wins_noted_this_week(any_store: Store) -> None:
    """Good news noted within the recap's week, one sentence each in the order noted; news
    that is not a win is never listed (nor quoted), and other users' contacts stay theirs."""
    friday = WEEK + timedelta(4)
    dana = await add(
        any_store, ADA, "Dana Whitfield", win="started as CFO at Acme", win_on=WEEK + timedelta(2)
    )
    await add(any_store, ADA, "Bo Li", win="she launched her book!", win_on=WEEK)
    await add(any_store, ADA, "Cy Ode", win="a new job at Initech", win_on=WEEK + timedelta(3))
    await add(any_store, ADA, "Ed Vance", win="was laid off", win_on=WEEK + timedelta(1))
    await add(any_store, ADA, "Old News", win="got promoted", win_on=WEEK - timedelta(1))
    await add(any_store, ADA, "Too Late", win="got promoted", win_on=friday + timedelta(1))
    await add(any_store, ADA, "No News")
    await add(any_store, BOB, "Secret", win="got promoted to VP", win_on=WEEK + timedelta(1))
    async with any_store.book(ADA, write=False) as book:
        inputs = await book.recap_inputs(friday)
    assert inputs.wins == [
        "Bo Li launched her book.",
        "Dana Whitfield started as CFO at Acme.",
        "Cy Ode shared some good news.",
    ]
    # A Monday recap looks back at last week: the Sunday before counts, this week's don't.
    async with any_store.book(ADA, write=False) as book:
        monday = await book.recap_inputs(WEEK)
    assert monday.wins == ["Old News got promoted."]
    async with any_store.book(BOB, write=False) as book:
        assert (await book.recap_inputs(friday)).wins == ["Secret got promoted to VP."]
    async with any_store.book(ADA) as book:
        contact = await book.get(dana)
        assert contact is not None
        contact.record_win("became a partner", friday)
        await book.save(contact)
    async with any_store.book(ADA, write=False) as book:
        inputs = await book.recap_inputs(friday)
    assert inputs.wins[-1] == "Dana Whitfield became a partner."
    assert "Dana Whitfield started as CFO at Acme." not in inputs.wins
