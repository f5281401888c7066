"""The weekly goal and recap on Slack over real HTTP, on SQLite and PostgreSQL: ``goal``,
``recap`` and its goal buttons, the goal on the Home tab, and the recap in the settings modal."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.slack import files
from bot.core.model import UserRef
from bot.core.recap import RecapPrefs
from storage.repository import SqlStore
from tests.adapters.slack.test_http import button
from tests.fakes import slack_requests as sr
from tests.fakes.slack_api import FakeSlack, iter_texts
from tests.support import SlackClient

ADA = UserRef("slack", "T1", "U1")
BOB = UserRef("slack", "T1", "U2")


async def goals(engine: AsyncEngine, user: UserRef = ADA) -> list[int]:
    async with SqlStore(engine).book(user, write=False) as book:
        return [change.goal for change in await book.goal_changes()]


async def recap_prefs(engine: AsyncEngine, user: UserRef = ADA) -> RecapPrefs:
    async with SqlStore(engine).book(user, write=False) as book:
        return await book.recap_prefs()


async def test_goal_sets_shows_and_clears_the_weekly_goal(
    slack: SlackClient, engine: AsyncEngine
) -> None:
    none = await slack.command("goal")
    assert "You don't have a weekly goal yet" in none.texts()
    assert "/reconnect goal 3" in none.texts()
    await slack.command("add Dana Whitfield")
    await slack.command("log Dana -- coffee")
    set_ = await slack.command("goal 3")
    assert set_.json["response_type"] == "ephemeral"
    assert "Goal set: 3 people a week, starting this week. So far: 1 of 3 this week." in (
        set_.texts()
    )
    assert await goals(engine) == [3]
    shown = await slack.command("goal")
    assert "Your goal: 3 people a week. So far this week: 1 of 3." in shown.texts()
    off = await slack.command("goal off")
    assert "Weekly goal off." in off.texts()
    assert await goals(engine) == [0]
    assert await goals(engine, BOB) == []


async def test_bad_goals_get_a_friendly_answer_and_change_nothing(
    slack: SlackClient, engine: AsyncEngine
) -> None:
    await slack.command("goal 2")
    for text in ("goal 51", "goal -3", "goal lots", "goal 99999999999999", "goal <!channel>"):
        response = await slack.command(text)
        assert response.status == 200
        assert "Try `goal 3`" in response.texts(), text
    assert await goals(engine) == [2]


async def test_the_recap_command_and_its_goal_buttons(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    await slack.command("add Dana Whitfield")
    await slack.command("log Dana -- lunch")
    await slack.command("goal 2")
    recap = await slack.command("recap")
    body = recap.texts()
    assert "You reached *1 person*: Dana Whitfield." in body
    assert "1 of 2 this week." in body
    # The evidence chart goes to the DM (an ephemeral reply can't carry files), named for the
    # recap's last day, with its words as alt text.
    assert files.IN_YOUR_DMS in body
    await fake_slack.async_wait_for("files.completeUploadExternal")
    [chart] = fake_slack.shared_files
    assert (chart["filename"], chart["channel"]) == ("reconnect-week-2026-11-25.png", "DU1")
    assert chart["content"].startswith(b"\x89PNG\r\n\x1a\n")
    assert chart["alt_txt"].startswith("Chart. Left: your predicted versus actual responses.")
    keep = button(recap.json["blocks"], "Keep 2 next week")
    raise_ = button(recap.json["blocks"], "Raise to 3")
    lower = button(recap.json["blocks"], "Lower to 1")
    assert keep["style"] == "primary" and "style" not in lower
    await slack.click(raise_["action_id"], raise_["value"])
    posted = (await fake_slack.async_wait_for("response_url"))[0]
    assert "Next week's goal: 3 people." in posted.params["text"]
    assert await goals(engine) == [2, 3]
    # Another user pressing the same button changes only their own goal.
    await slack.click(lower["action_id"], lower["value"], user="U2")
    await fake_slack.async_wait_for("response_url", 2)
    assert await goals(engine) == [2, 3]
    assert await goals(engine, BOB) == [1]


async def test_a_recap_with_nothing_recorded_comes_without_a_chart(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    await slack.command("add Dana Whitfield")
    recap = await slack.command("recap")
    assert "A quiet week" in recap.texts()
    assert files.IN_YOUR_DMS not in recap.texts()
    assert fake_slack.calls_to("files.getUploadURLExternal") == []
    assert fake_slack.shared_files == []


async def test_forged_goal_buttons_change_nothing(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    await slack.command("goal 2")
    forged = [
        "2020-01-06:3",  # a week long gone
        "2099-01-05:3",  # far ahead
        "2026-11-24:3",  # not a Monday
        "2026-11-30:51",  # over the bound
        "2026-11-30:-1",
        "garbage",
        "",
    ]
    for value in forged:
        await slack.click("rc:goal.set:1.0", value)
    posted = await fake_slack.async_wait_for("response_url", len(forged))
    assert all("left your goal as it is" in p.params["text"] for p in posted)
    assert await goals(engine) == [2]


async def test_home_shows_the_weeks_goal(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    await slack.command("add Dana Whitfield")
    await slack.event(sr.app_home_opened(user="U1"))
    first = (await fake_slack.async_wait_for("views.publish"))[0]
    assert any("No weekly goal yet" in t for t in iter_texts(first.params["view"]["blocks"]))
    await slack.command("goal 1")
    await slack.command("log Dana")
    await slack.event(sr.app_home_opened(user="U1"))
    second = (await fake_slack.async_wait_for("views.publish", 2))[1]
    texts = list(iter_texts(second.params["view"]["blocks"]))
    assert "🎯 1 of 1 this week — goal met! · Streak: 1 week — keep it going." in texts


async def test_the_settings_modal_sets_the_recap_day_time_and_off_switch(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    await slack.command("settings")
    call = (await fake_slack.async_wait_for("views.open"))[0]
    view = call.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    ids = [b.get("block_id") for b in view["blocks"]]
    assert ids[-2:] == ["recap_day", "recap_time"]
    values = {
        "nudge_time": {"type": "timepicker", "selected_time": "08:30"},
        "recap_day": sr.select("6"),
        "recap_time": {"type": "timepicker", "selected_time": "18:15"},
    }
    response = await slack.submit("rc_form:settings", values)
    assert response.status == 200
    prefs = await recap_prefs(engine)
    assert (prefs.day, prefs.time.isoformat(), prefs.enabled) == (6, "18:15:00", True)
    values["recap_day"] = sr.select("off")
    await slack.submit("rc_form:settings", values)
    assert not (await recap_prefs(engine)).enabled
    # A forged day is refused along with everything else in the form.
    values["recap_day"] = sr.select("9")
    values["nudge_time"] = {"type": "timepicker", "selected_time": "07:00"}
    bad = await slack.submit("rc_form:settings", values)
    assert bad.json["response_action"] == "errors" and "recap_day" in bad.json["errors"]
    async with SqlStore(engine).book(ADA, write=False) as book:
        assert (await book.prefs()).time.isoformat() == "08:30:00"
    assert not (await recap_prefs(engine)).enabled
