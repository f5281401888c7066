"""The weekly goal and recap through the service, on the in-memory store (which refuses writes
in read-only transactions): what writes, what only reads, and bad input changing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from bot.core.actions import Act
from bot.core.model import UserRef
from bot.core.recap import RecapPrefs
from bot.core.replies import Form, FormErrors, Reply
from bot.core.service import Caller, Reconnect
from tests.fakes.memory_store import MemoryStore
from tests.support import Clock

ADA = Caller(UserRef("slack", "T1", "U1"))
BOB = Caller(UserRef("slack", "T1", "U2"))


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def service(store: MemoryStore) -> Reconnect:
    # Wednesday 25 Nov 2026: this week starts Monday 23 Nov, next week on 30 Nov.
    return Reconnect(store, Clock(datetime(2026, 11, 25, 14, 0, tzinfo=UTC)))


async def goals(store: MemoryStore, caller: Caller = ADA) -> list[int]:
    async with store.book(caller.user, write=False) as book:
        return [c.goal for c in await book.goal_changes()]


async def test_showing_only_reads_and_setting_writes(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "goal")
    await service.command(ADA, "recap")
    assert store.opened[-2:] == [False, False]
    await service.command(ADA, "goal 4")
    assert store.opened[-1] is True
    assert await goals(store) == [4]
    assert await goals(store, BOB) == []


@pytest.mark.parametrize(
    "value",
    ["", ":", "x:3", "2026-11-30", "2026-11-30:", "2026-11-30:x", "2026-11-30:51",
     "2026-11-30:-1", "2026-12-01:3", "2026-11-16:3", "2026-12-07:3", "2026-11-30:3:4",
     "9999-12-27:3", "0001-01-01:3", "2026-11-30:" + "9" * 5000],
)  # fmt: skip
async def test_forged_goal_buttons_change_nothing(
    service: Reconnect, store: MemoryStore, value: str
) -> None:
    await service.command(ADA, "goal 2")
    reply = await service.action(ADA, Act.GOAL_SET, value)
    assert isinstance(reply, Reply) and "left your goal as it is" in reply.summary
    assert await goals(store) == [2]


async def test_goal_buttons_for_this_and_next_week(service: Reconnect, store: MemoryStore) -> None:
    await service.command(ADA, "goal 2")
    this = await service.action(ADA, Act.GOAL_SET, "2026-11-23:3")
    assert isinstance(this, Reply) and this.summary.startswith("This week's goal: 3 people.")
    nxt = await service.action(ADA, Act.GOAL_SET, "2026-11-30:1")
    assert isinstance(nxt, Reply) and nxt.summary.startswith("Next week's goal: 1 person.")
    off = await service.action(ADA, Act.GOAL_SET, "2026-11-30:0")
    assert isinstance(off, Reply) and "Next week's goal is off." in off.summary
    assert await goals(store) == [3, 0]


async def test_goal_off_without_a_goal_says_so(service: Reconnect, store: MemoryStore) -> None:
    reply = await service.command(ADA, "goal off")
    assert isinstance(reply, Reply) and "nothing to turn off" in reply.summary
    assert await goals(store) == []


async def test_settings_form_errors_come_together_and_change_nothing(
    service: Reconnect, store: MemoryStore
) -> None:
    form = await service.command(ADA, "settings")
    assert isinstance(form, Form)
    assert [f.id for f in form.fields][-2:] == ["recap_day", "recap_time"]
    assert "Weekly recaps come Fridays at 16:00." in form.intro
    bad = await service.submit(
        ADA, "settings", "", {"nudge_time": "25:00", "recap_day": "7", "recap_time": "noon"}
    )
    assert isinstance(bad, FormErrors)
    assert set(bad.errors) == {"nudge_time", "recap_day", "recap_time"}
    only_recap = await service.submit(
        ADA, "settings", "", {"nudge_time": "08:30", "recap_time": "99:99"}
    )
    assert isinstance(only_recap, FormErrors) and set(only_recap.errors) == {"recap_time"}
    async with store.book(ADA.user, write=False) as book:
        assert await book.recap_prefs() == RecapPrefs()
        assert (await book.prefs()).time == time(8, 30)
    good = await service.submit(
        ADA, "settings", "", {"nudge_time": "07:00", "recap_day": "6", "recap_time": "6pm"}
    )
    assert isinstance(good, Reply) and "Weekly recaps come Sundays at 18:00." in good.summary
    async with store.book(ADA.user, write=False) as book:
        assert await book.recap_prefs() == RecapPrefs(6, time(18, 0), True)


async def test_home_shows_the_goal_line(service: Reconnect) -> None:
    await service.command(ADA, "add Dana Whitfield")
    home = await service.home(ADA)
    assert any("No weekly goal yet" in str(b) for b in home.blocks)
    await service.command(ADA, "goal 1")
    await service.command(ADA, "log Dana")
    home = await service.home(ADA)
    assert any("1 of 1 this week — goal met!" in str(b) for b in home.blocks)
