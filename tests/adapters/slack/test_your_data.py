"""Export, delete my data and uninstalling, on Slack over real HTTP: files uploaded to the DM
with files_upload_v2, signed app_uninstalled / tokens_revoked events acknowledged and acted on."""

import asyncio
import csv
import io
import json
import time

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.slack import files
from bot.adapters.slack.messenger import SlackMessenger
from bot.core.replies import FileOut, Reply, message
from storage.models import ContactRow, User
from tests.fakes import slack_requests as sr
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack, iter_texts
from tests.support import SlackClient

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


async def users(engine: AsyncEngine) -> list[tuple[str, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(User.workspace_id, User.external_id))
        return sorted((r.workspace_id, r.external_id) for r in rows)


async def settled(engine: AsyncEngine, expected: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The users once they are ``expected`` (events are handled after Slack's ack), or as
    they are after 5 s."""
    deadline = time.monotonic() + 5
    found = await users(engine)
    for _ in range(250):
        if found == expected or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
        found = await users(engine)
    return found


async def contact_names(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return sorted((await connection.scalars(select(ContactRow.name))).all())


def event_body(event: dict, *, team: str = sr.TEAM) -> str:
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": team,
            "api_app_id": "A1",
            "event": {**event, "event_ts": f"{time.time():.6f}"},
            "type": "event_callback",
            "event_id": f"Ev{time.time_ns()}",
            "event_time": int(time.time()),
        }
    )


async def seed(slack: SlackClient) -> None:
    await slack.command("add Dana Whitfield every 2 months -- loves sailing, =cmd|calc")
    await slack.command("log Dana -- coffee at the marina")
    await slack.command("add Priya Raman -- met at PyCon", user="U2")
    await slack.command("add Other Team Person", user="U7", team="T2")


async def test_export_uploads_three_files_to_the_dm(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    await seed(slack)
    response = await slack.command("export")
    assert response.status == 200
    assert files.IN_YOUR_DMS in response.texts()
    assert "1 contact and 1 logged conversation" in response.texts()
    complete = await fake_slack.async_wait_for("files.completeUploadExternal")
    assert complete[0].params["channel_id"] == "DU1"
    assert fake_slack.calls_to("conversations.open")[-1].params["users"] == "U1"
    shared = fake_slack.shared_files
    assert [f["filename"] for f in shared] == [
        "reconnect-contacts-2026-11-25.csv",
        "reconnect-data-2026-11-25.json",
        "reconnect-contacts-2026-11-25.vcf",
    ]
    assert all(f["channel"] == "DU1" for f in shared)
    rows = list(csv.reader(io.StringIO(shared[0]["content"].decode("utf-8-sig"))))
    assert rows[1][0] == "Dana Whitfield" and rows[1][3] == "loves sailing, =cmd|calc"
    data = json.loads(shared[1]["content"])
    assert [c["name"] for c in data["contacts"]] == ["Dana Whitfield"]
    everything = b"".join(f["content"] for f in shared)
    assert b"Priya" not in everything and b"Other Team" not in everything


async def test_a_failed_upload_is_said_and_changes_nothing(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    await seed(slack)
    fake_slack.fail("files.completeUploadExternal", status=200, error="missing_scope")
    await slack.command("export csv")
    said = await fake_slack.async_wait_for("response_url")
    assert files.UPLOAD_FAILED in said[-1].params["text"]
    assert fake_slack.shared_files == []
    assert "Dana Whitfield" in await contact_names(engine)


async def test_delete_my_data_over_http(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    await seed(slack)
    question = await slack.command("delete my data")
    shown = question.texts()
    assert "1 contact, with everything you noted" in shown and "1 logged conversation" in shown
    confirm = next(
        e
        for b in question.json["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == "Delete everything"
    )
    # U2 replays U1's button: nothing of either goes.
    await slack.click(confirm["action_id"], confirm["value"], user="U2")
    said = await fake_slack.async_wait_for("response_url")
    assert "nothing was deleted" in said[-1].params["text"] + json.dumps(said[-1].params)
    assert await contact_names(engine) == ["Dana Whitfield", "Other Team Person", "Priya Raman"]

    await slack.click(confirm["action_id"], confirm["value"])
    said = await fake_slack.async_wait_for("response_url", 2)
    assert "I deleted everything" in json.dumps(said[-1].params)
    assert await contact_names(engine) == ["Other Team Person", "Priya Raman"]
    assert ("T1", "U1") not in await users(engine)
    # Using Reconnect again starts afresh.
    again = await slack.command("due")
    assert again.status == 200 and "You haven't added anyone yet" in again.texts()


async def test_app_uninstalled_deletes_the_workspace(
    slack: SlackClient, engine: AsyncEngine
) -> None:
    await seed(slack)
    forged = await slack.post(
        event_body({"type": "app_uninstalled"}), content_type="application/json", secret="x"
    )
    assert forged.status == 401
    assert len(await users(engine)) == 3
    response = await slack.event(event_body({"type": "app_uninstalled"}))
    assert response.status == 200
    assert await settled(engine, [("T2", "U7")]) == [("T2", "U7")]
    assert await contact_names(engine) == ["Other Team Person"]


async def test_tokens_revoked_for_users_deletes_those_users(
    slack: SlackClient, engine: AsyncEngine
) -> None:
    await seed(slack)
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": ["U2"], "bot": []}}
    assert (await slack.event(event_body(revoked))).status == 200
    left = [("T1", "U1"), ("T2", "U7")]
    assert await settled(engine, left) == left
    assert await contact_names(engine) == ["Dana Whitfield", "Other Team Person"]
    bot_revoked = {"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}}
    assert (await slack.event(event_body(bot_revoked))).status == 200
    assert await settled(engine, [("T2", "U7")]) == [("T2", "U7")]
    # Nonsense in a signed event changes nothing and is still acknowledged.
    odd = {"type": "tokens_revoked", "tokens": "nope"}
    assert (await slack.event(event_body(odd, team="T2"))).status == 200
    await asyncio.sleep(0.2)  # time enough to do damage, had it been acted on
    assert await users(engine) == [("T2", "U7")]


async def test_a_nudge_with_a_file_uploads_it_next_to_the_message(fake_slack: FakeSlack) -> None:
    messenger = SlackMessenger(
        AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.api_url, retry_handlers=[])
    )
    try:
        chart = FileOut("streak.png", "image/png", PNG, "Your week", alt_text="3 of 5 days")
        reply = Reply(summary="Your week", blocks=message("Your week").blocks, files=(chart,))
        sent = await messenger.post("U1", reply, "key-1")
        assert sent.channel == "DU1"
        (shared,) = fake_slack.shared_files
        assert shared["content"] == PNG and shared["channel"] == "DU1"
        assert shared["alt_txt"] == "3 of 5 days" and shared["title"] == "Your week"
        # A failed upload does not fail the send (the message is out; no second copy).
        fake_slack.fail("files.getUploadURLExternal", status=200, error="missing_scope")
        again = await messenger.post("U1", reply, "key-2")
        assert again.channel == "DU1" and len(fake_slack.messages_to("DU1")) == 2
        assert len(fake_slack.shared_files) == 1
        texts = [t for m in fake_slack.messages_to("DU1") for t in iter_texts(m["blocks"])]
        assert "Your week" in texts
    finally:
        await messenger.close()
