"""Buttons on a delivered morning nudge, clicked over HTTP: each updates the DM in place."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from bot.core.model import UserRef
from jobs.runner import NudgeRunner
from storage.models import ContactRow, ConversationRow, Nudge, User
from tests.fakes import slack_requests as sr
from tests.fakes.slack_api import FakeSlack, iter_texts
from tests.jobs.conftest import at
from tests.support import Clock, SlackClient

TUESDAY = at(2026, 12, 1, 8, 30)


def text_of(message: dict) -> str:
    return "\n".join(iter_texts(message.get("blocks") or []))


def button(message: dict, label: str, name: str | None = None) -> dict:
    """The button ``label`` on the card (or question) mentioning ``name``."""
    seen = ""  # the text of the current card, since the last divider or row of buttons
    for block in message["blocks"]:
        if block["type"] == "section":
            seen += block["text"]["text"]
        if block["type"] == "divider":
            seen = ""
        if block["type"] == "actions":
            for element in block["elements"]:
                if element["text"]["text"] == label and (name is None or name in seen):
                    return element
            seen = ""
    raise AssertionError(f"no {label!r} button for {name!r}")


async def nudge_for(runner: NudgeRunner, fake: FakeSlack, user_id: str, when=TUESDAY) -> dict:
    await runner.run_once(when)
    return fake.messages_to(f"D{user_id}")[-1]


async def contact(engine, name: str) -> ContactRow:
    async with engine.connect() as connection:
        return (await connection.execute(select(ContactRow).where(ContactRow.name == name))).one()


async def outreach_count(engine) -> int:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(ConversationRow).where(ConversationRow.kind == "outreach")
        )
        return len(rows.all())


async def test_reached_out_records_once_and_updates_the_card(
    slack: SlackClient, runner: NudgeRunner, user, fake_slack: FakeSlack, engine, clock: Clock
) -> None:
    clock.now = TUESDAY
    await user("U1", "Dana Whitfield every 2 months -- loves sailing")
    message = await nudge_for(runner, fake_slack, "U1")
    reached = button(message, "Reached out", "Dana Whitfield")
    for _ in range(2):  # a double click
        response = await slack.click(reached["action_id"], reached["value"])
        assert response.status == 200
    updates = await fake_slack.async_wait_for("chat.update", 2)
    assert updates[0].params["ts"] == message["ts"]
    assert "✓ You reached out to *Dana Whitfield*" in text_of(fake_slack.messages_to("DU1")[-1])
    assert await outreach_count(engine) == 1
    dana = await contact(engine, "Dana Whitfield")
    assert (dana.last_contacted_on, dana.follow_up_on) == (date(2026, 12, 1), date(2026, 12, 4))
    assert dana.next_due_on == date(2027, 2, 1)


async def test_opener_snooze_and_skip(
    slack: SlackClient, runner: NudgeRunner, user, fake_slack: FakeSlack, engine, clock: Clock
) -> None:
    clock.now = TUESDAY
    await user("U1", "Dana Whitfield -- just promoted to COO; sails", "Bo Li", "Cy Park")
    message = await nudge_for(runner, fake_slack, "U1")
    opener = button(message, "Draft an opener", "Dana Whitfield")
    await slack.click(opener["action_id"], opener["value"])
    await fake_slack.async_wait_for("chat.update")
    updated = text_of(fake_slack.messages_to("DU1")[-1])
    assert "Openers you could send" in updated and "COO" in updated
    snooze = button(message, "Snooze a month", "Bo Li")
    await slack.click(snooze["action_id"], snooze["value"])
    skip = button(message, "Not this one", "Cy Park")
    await slack.click(skip["action_id"], skip["value"])
    await fake_slack.async_wait_for("chat.update", 3)
    final = text_of(fake_slack.messages_to("DU1")[-1])
    assert "Snoozed *Bo Li* until 1 Jan 2027" in final
    assert "Not today — *Cy Park*" in final
    assert (await contact(engine, "Cy Park")).skipped_on == date(2026, 12, 1)
    # Tomorrow Cy may come back; Bo, snoozed, may not.
    clock.now = at(2026, 12, 2, 8, 30)
    tomorrow = text_of(await nudge_for(runner, fake_slack, "U1", at(2026, 12, 2, 8, 30)))
    assert "Cy Park" in tomorrow and "Bo Li" not in tomorrow


async def test_log_conversation_from_a_card(
    slack: SlackClient, runner: NudgeRunner, user, fake_slack: FakeSlack, engine, clock: Clock
) -> None:
    clock.now = TUESDAY
    await user("U1", "Dana Whitfield")
    message = await nudge_for(runner, fake_slack, "U1")
    log = button(message, "Log conversation", "Dana Whitfield")
    await slack.click(log["action_id"], log["value"])
    view = (await fake_slack.async_wait_for("views.open"))[0].params["view"]
    metadata = json.loads(view["private_metadata"])
    assert metadata["ctx"].startswith("card:")
    dana = await contact(engine, "Dana Whitfield")
    response = await slack.submit(
        "rc_form:log_conversation",
        {"contact": sr.select(str(dana.id)), "occurred_on": sr.date_picked("2026-12-01"),
         "note": "coffee", "learned": "new boat"},
        metadata=view["private_metadata"],
    )  # fmt: skip
    assert response.status == 200 and response.body == ""
    await fake_slack.async_wait_for("chat.update")
    assert "✓ Logged your conversation with *Dana Whitfield*" in text_of(
        fake_slack.messages_to("DU1")[-1]
    )


async def test_someone_elses_card_is_refused(
    slack: SlackClient, runner: NudgeRunner, user, fake_slack: FakeSlack, engine, clock: Clock
) -> None:
    clock.now = TUESDAY
    await user("U1", "Dana Whitfield")
    await user("U2", "Bo Li")
    message = await nudge_for(runner, fake_slack, "U1")
    reached = button(message, "Reached out", "Dana Whitfield")
    await slack.click(reached["action_id"], reached["value"], user="U2")
    await slack.click(reached["action_id"], reached["value"].replace(":", ":9"), user="U1")
    posted = await fake_slack.async_wait_for("response_url", 2)
    assert all("no longer active" in p.params["text"] for p in posted)
    assert fake_slack.calls_to("chat.update") == []
    assert await outreach_count(engine) == 0


async def test_follow_up_three_days_after_reaching_out(
    slack: SlackClient, runner: NudgeRunner, user, fake_slack: FakeSlack, engine, clock: Clock
) -> None:
    clock.now = TUESDAY
    await user("U1", "Dana Whitfield", "Bo Li")
    message = await nudge_for(runner, fake_slack, "U1")
    reached = button(message, "Reached out", "Dana Whitfield")
    await slack.click(reached["action_id"], reached["value"])
    await fake_slack.async_wait_for("chat.update")
    wednesday = text_of(await nudge_for(runner, fake_slack, "U1", at(2026, 12, 2, 8, 30)))
    assert "Did you hear back" not in wednesday
    friday_at = at(2026, 12, 4, 8, 30)
    clock.now = friday_at
    friday = await nudge_for(runner, fake_slack, "U1", friday_at)
    assert "Did you hear back from *Dana Whitfield*? You reached out 3 days ago." in text_of(friday)
    later = button(friday, "Not yet", "Dana Whitfield")
    await slack.click(later["action_id"], later["value"])
    await fake_slack.async_wait_for("chat.update", 2)
    assert "again 7 Dec" in text_of(fake_slack.messages_to("DU1")[-1])
    assert (await contact(engine, "Dana Whitfield")).follow_up_on == date(2026, 12, 7)
    monday_at = at(2026, 12, 7, 8, 30)
    clock.now = monday_at
    monday = await nudge_for(runner, fake_slack, "U1", monday_at)
    drop = button(monday, "Let it go", "Dana Whitfield")
    await slack.click(drop["action_id"], drop["value"])
    await fake_slack.async_wait_for("chat.update", 3)
    assert "silence is rarely about you" in text_of(fake_slack.messages_to("DU1")[-1])
    assert (await contact(engine, "Dana Whitfield")).follow_up_on is None


async def test_settings_modal_and_pause(
    slack: SlackClient, fake_slack: FakeSlack, engine, clock: Clock
) -> None:
    await slack.command("settings")
    view = (await fake_slack.async_wait_for("views.open"))[0].params["view"]
    kinds = {b["block_id"]: b["element"]["type"] for b in view["blocks"] if b["type"] == "input"}
    assert kinds == {"nudge_time": "timepicker", "nudge_days": "checkboxes", "timezone":
                     "plain_text_input", "paused_until": "datepicker", "cards": "static_select",
                     "recap_day": "static_select", "recap_time": "timepicker"}  # fmt: skip
    bad = await slack.submit(
        "rc_form:settings",
        {"nudge_time": {"type": "timepicker", "selected_time": "07:15"},
         "timezone": "Mars/Base", "cards": sr.select("2")},
    )  # fmt: skip
    assert bad.json["response_action"] == "errors" and "timezone" in bad.json["errors"]
    good = await slack.submit(
        "rc_form:settings",
        {"nudge_time": {"type": "timepicker", "selected_time": "07:15"},
         "nudge_days": {"type": "checkboxes", "selected_options": [
             {"value": "0"}, {"value": "2"}, {"value": "4"}]},
         "timezone": "Asia/Kolkata", "paused_until": sr.date_picked(None), "cards": sr.select("2")},
    )  # fmt: skip
    assert good.status == 200
    async with engine.connect() as connection:
        row = (await connection.execute(select(User))).one()
    assert (f"{row.nudge_time:%H:%M}", row.nudge_days, row.timezone, row.timezone_source,
            row.cards_per_nudge) == ("07:15", 0b10101, "Asia/Kolkata", "user", 2)  # fmt: skip
    paused = await slack.command("pause until 2026-12-24")
    assert "paused until 24 Dec" in paused.texts()
    resumed = await slack.command("resume")
    assert "Mon, Wed, Fri at 07:15 (Asia/Kolkata)" in resumed.texts()
    unreadable = await slack.command("pause until someday")
    assert "couldn't read" in unreadable.texts()


async def test_slack_refresh_never_overrides_a_chosen_time_zone(
    slack: SlackClient, fake_slack: FakeSlack, engine
) -> None:
    from storage.repository import SqlStore

    store = SqlStore(engine)
    ada = UserRef("slack", "T1", "U1")
    async with store.book(ada) as book:
        prefs = await book.prefs()
        from dataclasses import replace

        await book.save_prefs(replace(prefs, timezone="Asia/Tokyo"), timezone_from_user=True)
    await slack.command("due")  # triggers the users.info refresh (Europe/London)
    await fake_slack.async_wait_for("users.info")
    await slack.command("due")
    async with store.book(ada) as book:
        assert book.timezone == "Asia/Tokyo"
    _ = Nudge
