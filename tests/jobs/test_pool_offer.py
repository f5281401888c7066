"""The weekly pool offer on the morning nudge, delivered by the real pass to the fake Slack
and clicked over HTTP: on Mondays only, the oldest tie first, Add and Not now each once."""

from __future__ import annotations

from pathlib import Path

from bot.core.service import Reconnect
from jobs.runner import NudgeRunner
from storage.repository import SqlStore
from tests.fakes.slack_api import FakeSlack
from tests.jobs.conftest import at
from tests.jobs.test_nudge_buttons import button, nudge_for, text_of
from tests.support import Clock, SlackClient

DATA = Path(__file__).resolve().parents[1] / "data"
MONDAY = at(2026, 11, 30, 8, 30)
TUESDAY = at(2026, 12, 1, 8, 30)
NEXT_MONDAY = at(2026, 12, 7, 8, 30)


async def test_offer_on_mondays_add_then_the_next_one(
    slack: SlackClient,
    runner: NudgeRunner,
    user,
    fake_slack: FakeSlack,
    service: Reconnect,
    store: SqlStore,
    clock: Clock,
) -> None:
    clock.now = MONDAY
    ada = await user("U1", "Dana Whitfield")
    await service.import_file(ada, (DATA / "linkedin_connections.csv").read_bytes())
    message = await nudge_for(runner, fake_slack, "U1", when=MONDAY)
    said = text_of(message)
    # Rafael Moreno: connected 7 Jul 2012, the oldest tie in the file.
    assert "From your pool: add *Rafael Moreno*, connected 2012, to your circle?" in said
    assert "Dana Whitfield" in said  # the nudge itself is unchanged
    add = button(message, "Add", "Rafael Moreno")
    for _ in range(2):  # a double click adds once
        await slack.click(add["action_id"], add["value"])
    await fake_slack.async_wait_for("chat.update", 2)
    assert "✓ Added *Rafael Moreno* to your circle." in text_of(fake_slack.messages_to("DU1")[-1])
    async with store.book(ada.user, write=False) as book:
        assert sorted(n for _, n in await book.names()) == ["Dana Whitfield", "Rafael Moreno"]
    # Tuesday: no offer. The next Monday: the next oldest tie (Chen Wei, 2014).
    clock.now = TUESDAY
    assert "From your pool" not in text_of(await nudge_for(runner, fake_slack, "U1", TUESDAY))
    clock.now = NEXT_MONDAY
    later = await nudge_for(runner, fake_slack, "U1", when=NEXT_MONDAY)
    assert "add *Chen Wei*, connected 2014, to your circle?" in text_of(later)


async def test_not_now_keeps_them_in_the_pool_and_offers_someone_else(
    slack: SlackClient,
    runner: NudgeRunner,
    user,
    fake_slack: FakeSlack,
    service: Reconnect,
    store: SqlStore,
    clock: Clock,
) -> None:
    clock.now = MONDAY
    ada = await user("U1", "Dana Whitfield")
    await service.import_file(ada, (DATA / "linkedin_connections.csv").read_bytes())
    message = await nudge_for(runner, fake_slack, "U1", when=MONDAY)
    not_now = button(message, "Not now", "Rafael Moreno")
    await slack.click(not_now["action_id"], not_now["value"])
    await fake_slack.async_wait_for("chat.update")
    updated = text_of(fake_slack.messages_to("DU1")[-1])
    assert "Rafael Moreno stays in your pool; I won't offer them again." in updated
    async with store.book(ada.user, write=False) as book:
        assert "Rafael Moreno" in [c.name for c in await book.pool()]
    clock.now = NEXT_MONDAY
    later = await nudge_for(runner, fake_slack, "U1", when=NEXT_MONDAY)
    assert "add *Chen Wei*" in text_of(later)
    # Bob cannot click Ada's offer.
    add = button(later, "Add", "Chen Wei")
    await slack.click(add["action_id"], add["value"], user="U2")
    async with store.book(ada.user, write=False) as book:
        assert "Chen Wei" in [c.name for c in await book.pool()]


async def test_no_offer_without_a_pool(
    runner: NudgeRunner, user, fake_slack: FakeSlack, clock: Clock
) -> None:
    clock.now = MONDAY
    await user("U1", "Dana Whitfield")
    assert "From your pool" not in text_of(await nudge_for(runner, fake_slack, "U1", MONDAY))
