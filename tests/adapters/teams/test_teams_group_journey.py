"""One cohort's week on Teams against the fake connector, on SQLite and PostgreSQL: the coach
creates the group with an @mention in the channel, members join by typing there, work in their
personal chats, the clock posts the Friday recap into the channel exactly once through the
reference stored at creation — totals by level, nobody named, nothing private — and a member
who leaves is gone at once."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.adapters.teams.conftest import TeamsClient
from tests.adapters.teams.test_teams_group_rhythm import group_runner
from tests.adapters.teams.test_teams_groups import CHANNEL, in_channel, members
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.jobs.conftest import at
from tests.support import Clock

RECAP_AT = at(2026, 11, 27, 15, 5)  # Friday; 15:00 UTC is the default recap time


async def test_a_cohorts_week_on_teams(
    engine: AsyncEngine, connector: FakeTeamsConnector, teams: TeamsClient, clock: Clock
) -> None:
    clock.now = at(2026, 11, 23, 10, 0)
    await teams.post(in_channel(teams, "coach", text="group create Spring cohort"))
    await connector.async_wait_for("reply", 2)  # the notice and the welcome
    await teams.post(in_channel(teams, "m1", text="group join 2"))  # numbers
    await teams.post(in_channel(teams, "m2", text="group join 1"))  # membership only
    assert await members(engine) == {"aad-m1": "numbers", "aad-m2": "membership"}

    clock.now = at(2026, 11, 24, 10, 0)
    for user, people in (("m1", 2), ("m2", 3)):
        for i in range(people):
            await teams.say(f"add Person{i} Secretname{i} -- PRIVATE-NOTE", user=user)
            await teams.say(f"reached Person{i}", user=user)

    runner = group_runner(engine, connector)
    assert (await runner.run_once(RECAP_AT)).sent == 1
    assert (await group_runner(engine, connector).run_once(RECAP_AT)).sent == 0
    posted = [c for c in connector.sent(CHANNEL) if c.kind == "send"]
    recaps = [c for c in posted if "reached out" in json.dumps(c.cards)]
    assert len(recaps) == 1
    card = json.dumps(recaps[0].cards)
    assert "Together we reached out twice." in card  # m2 shares membership only: in no number
    assert "Totals count 1 member who shares weekly numbers" in card
    for private in ("Secretname", "PRIVATE-NOTE", "Person", "M1", "M2"):
        assert private not in card

    await teams.say("group leave", user="m1")
    assert await members(engine) == {"aad-m2": "membership"}
