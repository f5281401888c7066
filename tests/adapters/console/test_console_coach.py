"""``coach`` in the console (same core and database as Slack and Teams): the view of the
groups the local user coaches; check-ins, sharing and prompts point to Slack and Teams."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.console.repl import COACH_ELSEWHERE, console_caller
from bot.core.groups.coaching import NOT_A_COACH, Coaching
from bot.core.model import UserRef
from bot.core.service import Reconnect
from storage.group_reads import SqlCoachStore
from storage.repository import SqlStore
from tests.adapters.console.test_console import run
from tests.groups_rows import make_group
from tests.support import Clock


async def test_coach_in_the_console(engine: AsyncEngine, store: SqlStore, clock: Clock) -> None:
    service = Reconnect(store, clock=clock, share=Coaching(SqlCoachStore(engine), clock))
    before = await run(service, ["coach", "quit"])
    assert " ".join(NOT_A_COACH.split()) in " ".join(before.split())
    member = UserRef("console", "local", "bo")
    await make_group(
        engine, "Spring cohort", "local", console_caller("ada").user, [(member, "numbers", "Bo")]
    )
    output = await run(service, ["coach", "1", "group prompt Hello", "quit"])
    assert "== Spring cohort ==" in output
    assert "Bo (nothing logged in the 23 days since joining)" in " ".join(output.split())
    assert "[1] Send a kind check-in to Bo" in output
    assert " ".join(output.split()).count(" ".join(COACH_ELSEWHERE.split())) == 2
