"""The weekly goal and recap in the console: ``goal``, ``recap`` and its numbered goal buttons,
and the recap's settings in the settings form (same core and database as the chat platforms)."""

from __future__ import annotations

from bot.adapters.console.repl import console_caller
from bot.core.service import Reconnect
from storage.repository import SqlStore
from tests.adapters.console.test_console import run
from tests.jobs.conftest import at
from tests.support import Clock


async def test_goal_and_recap_in_the_console(
    service: Reconnect, store: SqlStore, clock: Clock
) -> None:
    clock.now = at(2026, 12, 2, 9, 0)  # Wednesday
    output = await run(
        service,
        [
            "add Dana Whitfield",
            "add Priya Raman",
            "log dana -- coffee",
            "goal",
            "goal 2",
            "recap",
            "2",  # "Raise to 3"
            "goal",
            "quit",
        ],
    )
    assert "You don't have a weekly goal yet." in output
    assert "Goal set: 2 people a week, starting this week. So far: 1 of 2 this week." in output
    assert "Your week, 30 Nov – 2 Dec" in output
    assert "You reached 1 person: Dana Whitfield." in output
    assert "1 of 2 this week." in output
    assert "[1] Keep 2 next week" in output and "[2] Raise to 3" in output
    assert "Next week's goal: 3 people." in output
    assert "From next week: 3 people." in output
    async with store.book(console_caller("ada").user, write=False) as book:
        assert [c.goal for c in await book.goal_changes()] == [2, 3]


async def test_the_recap_settings_in_the_console_form(service: Reconnect, store: SqlStore) -> None:
    output = await run(
        service,
        [
            "settings",
            "08:30",  # nudge time
            "",  # days: keep
            "",  # time zone
            "",  # pause
            "",  # cards
            "8",  # recap day: Off (the 8th choice)
            "",  # recap time: keep
            "recap",
            "quit",
        ],
    )
    assert "8) Off — no weekly recap" in output
    assert "Weekly recaps are off. Turn them on in `/reconnect" in output
    async with store.book(console_caller("ada").user, write=False) as book:
        assert not (await book.recap_prefs()).enabled
