"""The Slack adapter over real HTTP: signed requests in, Block Kit out, calls at the fake Slack."""

import asyncio
import json
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.slack.app import ACK_BUDGET_SECONDS, drain_deferred
from bot.core.model import UserRef
from bot.core.service import GONE
from storage.repository import SqlStore
from tests.fakes import slack_requests as sr
from tests.fakes.slack_api import FakeSlack, iter_texts
from tests.support import SlackClient

ADA = UserRef("slack", "T1", "U1")
BOB = UserRef("slack", "T1", "U2")


async def names(engine: AsyncEngine, user: UserRef = ADA) -> list[str]:
    async with SqlStore(engine).book(user) as book:
        return sorted(n for _, n in await book.names())


async def contact_id(engine: AsyncEngine, user: UserRef, name: str) -> int:
    async with SqlStore(engine).book(user) as book:
        return next(cid for cid, n in await book.names() if n == name)


def button(response_blocks: list[dict], label: str) -> dict:
    for block in response_blocks:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("type") == "button" and element["text"]["text"] == label:
                return element
    raise AssertionError(f"no button {label!r}")


async def test_add_replies_ephemerally_in_the_ack(slack: SlackClient, engine: AsyncEngine) -> None:
    response = await slack.command(
        "add Dana Whitfield every 2 months -- former CFO at Brightline, loves sailing"
    )
    assert response.status == 200
    assert response.json["response_type"] == "ephemeral"
    assert "Added *Dana Whitfield*" in response.texts()
    assert await names(engine) == ["Dana Whitfield"]


async def test_bare_command_shows_help(slack: SlackClient) -> None:
    response = await slack.command("")
    assert "/reconnect add" in response.texts() and "/reconnect snooze" in response.texts()


async def test_add_without_text_opens_the_modal(slack: SlackClient, fake_slack: FakeSlack) -> None:
    response = await slack.command("add")
    assert response.status == 200
    call = (await fake_slack.async_wait_for("views.open"))[0]
    view = (
        json.loads(call.params["view"])
        if isinstance(call.params["view"], str)
        else call.params["view"]
    )
    assert call.params["trigger_id"].startswith("T.")
    assert view["callback_id"] == "rc_form:add_contact"
    assert [b["block_id"] for b in view["blocks"]] == [
        "name", "preferred_name", "company_role", "how_known", "relationship", "last_in_touch",
        "notes", "win", "cadence",
    ]  # fmt: skip
    assert len(view["title"]["text"]) <= 24


async def test_modal_with_missing_name_gets_field_errors(
    slack: SlackClient, engine: AsyncEngine
) -> None:
    response = await slack.submit(
        "rc_form:add_contact", {"name": "", "cadence": sr.select("6 weeks")}
    )
    assert response.status == 200
    assert response.json["response_action"] == "errors"
    assert "name" in response.json["errors"]
    assert await names(engine) == []


async def test_modal_submission_answers_through_the_response_url(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    metadata = json.dumps({"ctx": "", "url": slack.response_url})
    response = await slack.submit(
        "rc_form:add_contact",
        {"name": "Zoë Ó Briain", "company_role": "VP Ops", "cadence": sr.select("2 months")},
        metadata=metadata,
    )
    assert response.status == 200 and response.body == ""
    posted = (await fake_slack.async_wait_for("response_url"))[0]
    assert "Added *Zoë Ó Briain*" in posted.params["text"] or any(
        "Zoë Ó Briain" in t for t in iter_texts(posted.params["blocks"])
    )
    assert await names(engine) == ["Zoë Ó Briain"]


async def test_modal_submitted_from_home_republishes_home(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    await slack.submit("rc_form:add_contact", {"name": "Dana"}, metadata="not json at all")
    publish = (await fake_slack.async_wait_for("views.publish"))[0]
    assert publish.params["user_id"] == "U1"
    texts = list(iter_texts(publish.params["view"]["blocks"]))
    assert any("Added" in t for t in texts)


async def test_app_home_opened_publishes_home(slack: SlackClient, fake_slack: FakeSlack) -> None:
    await slack.command("add Dana Whitfield -- loves sailing")
    response = await slack.event(sr.app_home_opened(user="U1"))
    assert response.status == 200
    publish = (await fake_slack.async_wait_for("views.publish"))[0]
    view = publish.params["view"]
    assert view["type"] == "home"
    texts = "\n".join(iter_texts(view["blocks"]))
    assert "Dana Whitfield" in texts and "*1* due now" in texts


async def test_messages_tab_does_not_publish(slack: SlackClient, fake_slack: FakeSlack) -> None:
    await slack.event(sr.app_home_opened(tab="messages"))
    await slack.command("due")  # a later request, so any stray publish would have arrived
    assert fake_slack.calls_to("views.publish") == []


async def test_forged_and_stale_signatures_get_401_and_change_nothing(
    slack: SlackClient, engine: AsyncEngine
) -> None:
    body = sr.slash_command("add Mallory")
    forged = await slack.post(body, secret="not-the-secret")
    stale = await slack.post(body, timestamp=int(time.time()) - 600)
    assert (forged.status, stale.status) == (401, 401)
    headers = sr.signed_headers(body, content_type="application/x-www-form-urlencoded")
    async with slack.http.post(slack.url, data=(body + "&x=1").encode(), headers=headers) as r:
        assert r.status == 401  # body altered after signing
    async with slack.http.post(slack.url, data=body.encode()) as r:
        assert r.status == 401  # unsigned
    assert await names(engine) == []


async def test_slack_escaping_is_read_once_and_written_once(
    slack: SlackClient, engine: AsyncEngine
) -> None:
    response = await slack.command(
        "add Tom &amp; Jerry &lt;3&gt; -- see <https://example.com/p|their site>, "
        "<mailto:tj@example.com|tj@example.com>, <!channel>"
    )
    assert await names(engine) == ["Tom & Jerry <3>"]
    texts = response.texts()
    assert "Tom &amp; Jerry &lt;3&gt;" in texts
    assert "&amp;amp;" not in texts
    due = await slack.command("due")
    assert "their site (https://example.com/p), tj@example.com, @channel" in due.texts()
    assert "<!channel>" not in due.texts()


async def test_mentions_become_names(
    slack: SlackClient, engine: AsyncEngine, fake_slack: FakeSlack
) -> None:
    await slack.command("add <@UDANA>")
    await slack.command("add <@U999|marcus.chen>")
    assert await names(engine) == ["Dana Whitfield", "marcus.chen"]
    looked_up = [c.params["user"] for c in fake_slack.calls_to("users.info")]
    assert looked_up.count("UDANA") == 1 and "U999" not in looked_up


async def test_emoji_and_non_latin_names(slack: SlackClient, engine: AsyncEngine) -> None:
    await slack.command("add 李小龍 🚀 every 3 weeks")
    await slack.command("add Ольга Петрова")
    response = await slack.command("log ольга -- чай")
    assert "Ольга Петрова" in response.texts()
    assert await names(engine) == sorted(["李小龍 🚀", "Ольга Петрова"])


async def test_huge_and_unknown_commands_get_friendly_answers(
    slack: SlackClient, engine: AsyncEngine
) -> None:
    huge = await slack.command("add " + "x" * 4000)
    assert huge.status == 200 and "more than I can take" in huge.texts()
    unknown = await slack.command("remvoe Dana")
    assert "Did you mean `/reconnect remove`?" in unknown.texts()
    bad_cadence = await slack.command("add Bo every banana")
    assert "every banana" in bad_cadence.texts()
    assert await names(engine) == []


async def test_buttons_act_and_update_the_message_in_place(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    await slack.command("add Dana Whitfield")
    ask = await slack.command("remove dana")
    remove = button(ask.json["blocks"], "Remove")
    response = await slack.click(remove["action_id"], remove["value"])
    assert response.status == 200
    posted = (await fake_slack.async_wait_for("response_url"))[0]
    assert posted.params["replace_original"] is True
    assert "Removed Dana Whitfield" in posted.params["text"]
    assert await names(engine) == []


async def test_a_button_naming_another_users_contact_is_refused(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    await slack.command("add Secret Person -- private", user="U2")
    secret = await contact_id(engine, BOB, "Secret Person")
    await slack.click("rc:remove.confirm:1.0", str(secret), user="U1")
    await slack.click("rc:edit.form:1.0", str(secret), user="U1")
    posted = await fake_slack.async_wait_for("response_url", 2)
    assert all(GONE in p.params["text"] for p in posted)
    assert fake_slack.calls_to("views.open") == []
    assert await names(engine, BOB) == ["Secret Person"]


async def test_button_on_home_republishes_home_with_a_notice(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    await slack.command("add Dana Whitfield")
    dana = await contact_id(engine, ADA, "Dana Whitfield")
    await slack.click("rc:snooze:3.1", str(dana), container="view")
    publish = (await fake_slack.async_wait_for("views.publish"))[0]
    assert any("Snoozed Dana Whitfield" in t for t in iter_texts(publish.params["view"]["blocks"]))


async def test_log_button_opens_a_prefilled_modal(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    await slack.command("add Dana Whitfield")
    dana = await contact_id(engine, ADA, "Dana Whitfield")
    await slack.click("rc:log.form:2.0", str(dana))
    view = (await fake_slack.async_wait_for("views.open"))[0].params["view"]
    picker = next(b for b in view["blocks"] if b.get("block_id") == "contact")
    assert picker["element"]["initial_option"]["value"] == str(dana)
    metadata = json.loads(view["private_metadata"])
    assert metadata["url"] == slack.response_url
    response = await slack.submit(
        "rc_form:log_conversation",
        {"contact": sr.select(str(dana)), "occurred_on": sr.date_picked("2026-11-24"),
         "note": "coffee", "learned": "new boat"},
        metadata=view["private_metadata"],
    )  # fmt: skip
    assert response.status == 200
    posted = (await fake_slack.async_wait_for("response_url"))[0]
    assert "Logged your conversation with *Dana Whitfield*" in " ".join(
        iter_texts(posted.params["blocks"])
    )


async def test_rate_limited_views_open_is_retried_after_retry_after(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("views.open", status=429, retry_after=1)
    await slack.command("add")
    calls = await fake_slack.async_wait_for("views.open", 2, within=10)
    assert calls[1].at - calls[0].at >= 0.9


async def test_server_errors_from_slack_are_retried(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("views.publish", status=500)
    await slack.event(sr.app_home_opened())
    await fake_slack.async_wait_for("views.publish", 2, within=10)


async def test_malformed_payloads_never_500(slack: SlackClient, engine: AsyncEngine) -> None:
    for body in ("payload=not-json", "payload=%7B%7D", "garbage", ""):
        response = await slack.post(body)
        assert response.status < 500, body
    weird = await slack.submit("rc_form:add_contact", {"name": {"type": "static_select"}})
    assert weird.status == 200 and weird.json["response_action"] == "errors"
    unknown_form = await slack.submit("rc_form:nonsense", {"name": "X"})
    assert unknown_form.status == 200
    assert await names(engine) == []


async def test_time_zone_comes_from_slack_once(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    await slack.command("due")
    await slack.command("due")
    await fake_slack.async_wait_for("users.info")

    async def timezone() -> str:
        async with SqlStore(engine).book(ADA) as book:
            return book.timezone

    # The refresh runs in the background after the answer: poll for it (at least 10 s).
    for _ in range(500):
        if await timezone() == "Europe/London":
            break
        await asyncio.sleep(0.02)
    assert await timezone() == "Europe/London"
    assert [c.params["user"] for c in fake_slack.calls_to("users.info")] == ["U1"]


async def test_unknown_time_zone_from_slack_is_ignored(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    fake_slack.users["U3"] = {"tz": "Mars/Olympus_Mons"}
    await slack.command("due", user="U3")
    await fake_slack.async_wait_for("users.info")
    await slack.command("due", user="U3")
    async with SqlStore(engine).book(UserRef("slack", "T1", "U3")) as book:
        assert book.timezone == "UTC"


async def test_a_slow_command_gets_an_ack_in_time_and_the_answer_later(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    """The command's work waits for Slack (the name of a mention is looked up) past the ack
    budget: "One moment…" goes out inside Slack's 3 s, and the answer comes when ready."""
    assert ACK_BUDGET_SECONDS < 3.0
    fake_slack.hold_answers("users.info", len(fake_slack.calls_to("users.info")) + 1)
    try:
        started = time.monotonic()
        response = await slack.command("add <@UDANA>")
        assert time.monotonic() - started < 10  # loose: a busy machine
        assert response.status == 200 and "One moment" in response.texts()
        assert fake_slack.calls_to("response_url") == []  # ... and the answer is still to come
    finally:
        fake_slack.release_answers()
    posted = (await fake_slack.async_wait_for("response_url", within=10))[0]
    assert "Dana Whitfield" in " ".join(iter_texts(posted.params["blocks"]))
    assert await names(engine) == ["Dana Whitfield"]


async def test_a_locked_database_gets_no_promise_but_the_answer_later(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    """Another transaction holds the lock the command needs, so even the record of the
    pending command cannot be written: no "One moment…" (a crash could break that promise,
    and Slack would not send the command again); the work still finishes and answers through
    response_url once the lock is released. The request is answered without waiting for the
    lock (nor for anything else that needs the write lock, such as pruning old replay keys,
    which would hold it to SQLite's 30 s busy timeout; the bound is loose for a busy machine)."""
    async with engine.connect() as blocker:
        if engine.dialect.name == "postgresql":
            await blocker.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))
        else:
            await blocker.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: holds the write lock
        started = time.monotonic()
        response = await slack.command("add Patient Person")
        assert time.monotonic() - started < 10
        assert "One moment" not in response.texts()
        assert fake_slack.calls_to("response_url") == []
        await blocker.rollback()
    posted = (await fake_slack.async_wait_for("response_url", within=10))[0]
    assert "Patient Person" in " ".join(iter_texts(posted.params["blocks"]))
    assert await names(engine) == ["Patient Person"]


async def test_shutting_down_waits_for_a_command_acknowledged_early(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    """A command Slack was told is on its way ("One moment…") is finished before the app's
    database closes, not abandoned halfway (``bot.adapters.slack.app.drain_deferred``)."""
    fake_slack.hold_answers("users.info", len(fake_slack.calls_to("users.info")) + 1)
    response = await slack.command("add <@UDANA>")
    assert "One moment" in response.texts()

    async def release() -> None:
        await asyncio.sleep(0.3)
        fake_slack.release_answers()

    releasing = asyncio.create_task(release())
    await drain_deferred()
    assert releasing.done()  # the drain waited for the command, which waited for Slack
    async with SqlStore(engine).book(UserRef("slack", "T1", "U1")) as book:
        assert [name for _, name in await book.names()] == ["Dana Whitfield"]


async def test_shutting_down_waits_for_an_events_listener_still_at_work(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    """Bolt acknowledges an event, then runs its listener in a task nobody awaits: shutting
    down waits for it (``bot.adapters.slack.inflight``) instead of abandoning it with its
    connection open mid-transaction — which left a PostgreSQL connection "idle in
    transaction", holding locks that blocked the next test's TRUNCATE for ever."""
    async with engine.connect() as blocker:
        if engine.dialect.name == "postgresql":
            await blocker.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))
        else:
            await blocker.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: holds the write lock
        response = await slack.event(sr.app_home_opened(user="U1"))
        assert response.status == 200  # acknowledged; the Home tab is still to be built

        async def release() -> None:
            await asyncio.sleep(0.3)
            await blocker.rollback()

        releasing = asyncio.create_task(release())
        await drain_deferred()
        assert releasing.done()  # the drain waited for the listener, which waited for the lock
    await fake_slack.async_wait_for("views.publish")
