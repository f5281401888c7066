"""Practice buddies on Teams over real HTTP (the fake connector), on SQLite and PostgreSQL:
members join in the channel and opt in from their personal chat; the weekly pass sends each
person an intro in their own chat naming their buddies — once, whatever runs again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.teams.hosting import build_hosting
from bot.adapters.teams.messenger import TeamsMessenger
from jobs.buddy_runner import BuddyConfig, BuddyRunner
from storage.buddy_runs import BuddyRuns
from storage.repository import SqlStore
from tests.adapters.teams.conftest import ANONYMOUS, TeamsClient, service_url_origins
from tests.adapters.teams.test_teams_groups import in_channel, submit_of
from tests.adapters.teams.test_teams_http import card_text
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.jobs.conftest import at

MONDAY = at(2026, 11, 30, 9, 1)


def buddy_runner(engine: AsyncEngine, connector: FakeTeamsConnector) -> BuddyRunner:
    allowed = service_url_origins(connector.base_url)
    messenger = TeamsMessenger(
        build_hosting(ANONYMOUS, allowed_service_urls=allowed), SqlStore(engine)
    )
    return BuddyRunner(
        BuddyRuns(engine), {"teams": messenger}, config=BuddyConfig(backoff_base=0.01)
    )


async def test_each_member_hears_who_their_buddies_are_in_their_own_chat(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await teams.post(in_channel(teams, "coach", text="group create Spring cohort"))
    await connector.async_wait_for("reply", 2)
    replies = 2
    for user in ("ada", "ben", "cy", "dot"):
        await teams.post(in_channel(teams, user, text="group join 2"))
        replies += 1
        await connector.async_wait_for("reply", replies)
    # Three opt in from their personal chat (typed, and Dot by the button); Dot changes her mind.
    for user in ("ada", "ben"):
        await teams.say("group buddies on", user=user)
        replies += 1
        done = (await connector.async_wait_for("reply", replies))[-1]
        assert "You're in for practice buddies in Spring cohort" in card_text(done.card)
        assert done.conversation_id == f"a:personal-{user}"
    await teams.say("group", user="cy")
    replies += 1
    mine = (await connector.async_wait_for("reply", replies))[-1]
    await teams.submit(
        submit_of(mine.card, "Pair me with a practice buddy"), reply_to=None, user="cy"
    )
    replies += 1
    await connector.async_wait_for("reply", replies)
    await teams.say("group buddies on", user="dot")
    await teams.say("group buddies off", user="dot")
    replies += 2
    await connector.async_wait_for("reply", replies)
    # The coach sees how many, not who.
    await teams.say("group buddies", user="coach")
    replies += 1
    count = card_text((await connector.async_wait_for("reply", replies))[-1].card)
    assert "3 of the 4 members of Spring cohort have opted in" in count
    assert "Ada" not in count and "Dot" not in count
    connector.reset()

    runner = buddy_runner(engine, connector)
    summary = await runner.run_once(MONDAY)
    assert (summary.due, summary.sent, summary.failed) == (1, 3, 0)
    texts = {}
    for user in ("ada", "ben", "cy"):
        [intro] = connector.sent(f"a:personal-{user}")
        texts[user] = card_text(intro.card)
    assert "your practice buddies in Spring cohort are Ben and Cy." in texts["ada"]
    assert "are Ada and Cy." in texts["ben"] and "are Ada and Ben." in texts["cy"]
    for text in texts.values():
        assert "One thing to try together this week" in text
        assert "group buddies off" in text and "/reconnect" not in text
        assert "Dot" not in text and "Coach" not in text
    assert connector.sent("a:personal-dot") == [] and connector.sent("a:personal-coach") == []
    # Nothing goes to the channel, and nothing more on a second pass.
    assert all(c.conversation_id.startswith("a:personal-") for c in connector.sent())
    again = await buddy_runner(engine, connector).run_once(MONDAY + timedelta(minutes=3))
    assert (again.sent, again.already) == (0, 1)
    assert len(connector.sent()) == 3
