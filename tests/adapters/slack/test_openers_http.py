"""``opener``, ``prep``, ``add … called …`` and ``log … learned:`` over real HTTP to the Slack
adapter, on SQLite and PostgreSQL."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.model import UserRef
from storage.models import ContactRow, ConversationRow
from storage.repository import SqlStore
from tests.adapters.slack.test_http import button
from tests.fakes.slack_api import FakeSlack, iter_texts
from tests.support import SlackClient

ADA = UserRef("slack", "T1", "U1")


async def test_opener_prep_and_learned_over_http(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    added = await slack.command(
        "add Dr. Amara Okafor called Amara -- just promoted to COO; https://x.com/amara; "
        "his wife passed away"
    )
    assert "Added *Dr. Amara Okafor*" in added.texts()
    async with engine.connect() as connection:
        row = (await connection.execute(select(ContactRow))).one()
    assert row.preferred_name == "Amara"

    opener = await slack.command("opener okafor")
    assert opener.status == 200 and opener.json["response_type"] == "ephemeral"
    shown = opener.texts()
    assert "Hi Amara, " in shown and "COO" in shown
    for leak in ("wife", "passed", "x.com", "last I heard"):
        assert leak not in shown, leak

    prepare = button(opener.json["blocks"], "Prepare")
    assert (await slack.click(prepare["action_id"], prepare["value"])).status == 200
    posted = (await fake_slack.async_wait_for("response_url"))[0]
    prep_text = " ".join(iter_texts(posted.params["blocks"]))
    assert "Three curious questions" in prep_text and "No conversation logged yet" in prep_text

    logged = await slack.command("log okafor -- coffee")
    assert logged.texts().count("What did they mention twice?") == 1
    learned = await slack.command("log okafor -- learned: training for a regatta")
    assert "Added what you learned" in learned.texts()
    async with engine.connect() as connection:
        talks = (await connection.execute(select(ConversationRow))).all()
    assert [(t.note, t.learned) for t in talks] == [("coffee", "training for a regatta")]
    prep = await slack.command("prep amara okafor")
    assert "You learned: training for a regatta" in prep.texts()


async def test_due_and_home_show_an_opener_and_the_two_buttons(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    await slack.command("add WANG Li -- sails every summer")
    due = await slack.command("due")
    assert "💬" in due.texts() and "Hi Li, " in due.texts()
    prepare = button(due.json["blocks"], "Prepare")
    await slack.click(prepare["action_id"], prepare["value"])
    prepared = (await fake_slack.async_wait_for("response_url"))[0]
    openers = button(prepared.params["blocks"], "Openers")  # one tap further
    await slack.click(openers["action_id"], openers["value"])
    posted = (await fake_slack.async_wait_for("response_url", 2))[1]
    assert "Openers for" in " ".join(iter_texts(posted.params["blocks"]))
    listed = await slack.command("list")
    assert "Hi Li, " in listed.texts()


async def test_another_users_contact_gets_no_openers(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    await slack.command("add Secret Person -- private notes about sailing", user="U2")
    async with SqlStore(engine).book(UserRef("slack", "T1", "U2")) as book:
        secret = (await book.names())[0][0]
    await slack.click("rc:openers:1.0", str(secret), user="U1")
    await slack.click("rc:prep:1.0", str(secret), user="U1")
    posted = await fake_slack.async_wait_for("response_url", 2)
    for post in posted:
        assert "isn't in your list" in post.params["text"]
        assert "Secret" not in post.params["text"]
    assert "couldn't find anyone" in (await slack.command("opener secret")).texts()


async def test_a_link_button_click_is_acknowledged_and_changes_nothing(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    response = await slack.click("rc:link:1.0", "")
    assert response.status == 200
    assert fake_slack.calls_to("response_url") == []
