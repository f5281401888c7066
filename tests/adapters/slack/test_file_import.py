"""Uploading a contacts file in the bot's DM, over real HTTP: signed events in, ``files.info``
and the download from the fake Slack, the report posted back; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.slack import file_import as slack_files
from bot.core.imports.people import MAX_BYTES
from bot.core.model import UserRef
from storage.repository import SqlStore
from tests.fakes import slack_requests as sr
from tests.fakes.slack_api import FakeSlack, iter_texts
from tests.support import SlackClient

DATA = Path(__file__).resolve().parents[2] / "data"
ADA = UserRef("slack", sr.TEAM, "U1")


def posted(fake: FakeSlack, channel: str = "DU1") -> str:
    """Every text of every message posted to ``channel``."""
    texts = []
    for call in fake.calls_to("chat.postMessage"):
        if call.params.get("channel") == channel:
            texts.append(str(call.params.get("text")))
            texts.extend(iter_texts(call.params.get("blocks") or []))
    return "\n".join(texts)


async def pool_names(engine: AsyncEngine, user: UserRef = ADA) -> list[str]:
    async with SqlStore(engine).book(user, write=False) as book:
        return sorted(c.name for c in await book.pool())


async def test_upload_in_the_dm_is_imported_once_and_reported(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    fake_slack.add_file("F1", (DATA / "linkedin_connections.csv").read_bytes())
    # Hold the download: the events are acknowledged while the import waits for it.
    fake_slack.hold_answers("files.download", 1)
    started = time.monotonic()
    first = await slack.event(sr.dm_file_share("F1"))
    second = await slack.event(sr.file_shared("F1"))  # the same upload, Slack's other event
    assert first.status == second.status == 200
    assert time.monotonic() - started < 2.0
    await fake_slack.async_wait_for("files.download")
    assert not fake_slack.calls_to("chat.postMessage")  # nothing reported before the import
    fake_slack.release_answers()
    await fake_slack.async_wait_for("chat.postMessage")
    report = posted(fake_slack)
    assert "Imported 8 people from your LinkedIn connections into your pool." in report
    assert "You imported 8 connections — pick who matters." in report
    assert len(fake_slack.calls_to("files.info")) == 1  # one import for the two events
    download = fake_slack.calls_to("files.download")[0]
    assert download.token == "xoxb-test-token"
    assert len(await pool_names(engine)) == 8


async def test_uploads_that_are_not_imported(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    data = (DATA / "contacts.vcf").read_bytes()
    # Too big (as files.info says): refused before downloading.
    fake_slack.add_file("FBIG", data, size=MAX_BYTES + 1)
    await slack.event(sr.dm_file_share("FBIG"))
    # Served from a host that is not Slack's: never downloaded.
    fake_slack.add_file("FEVIL", data, url="http://203.0.113.9/steal")
    await slack.event(sr.file_shared("FEVIL"))
    # Another user's file, named in Ada's event.
    fake_slack.add_file("FBOB", data, user="U2")
    await slack.event(sr.file_shared("FBOB"))
    # Shared in a channel, and uploaded by the bot itself (an export): ignored silently.
    fake_slack.add_file("FCHAN", data)
    await slack.event(sr.file_shared("FCHAN", channel="C1"))
    fake_slack.add_file("FBOT", data, user="UBOT")
    await slack.event(sr.file_shared("FBOT", user="UBOT", channel="DUBOT"))
    await fake_slack.async_wait_for("chat.postMessage", 3)
    report = posted(fake_slack)
    assert "more than the 5 MB I import at once" in report
    assert "couldn't download that file" in report
    assert "I only import files you upload in our direct message" in report
    assert not fake_slack.calls_to("files.download")
    assert {c.params.get("file") for c in fake_slack.calls_to("files.info")} == {
        "FBIG",
        "FEVIL",
        "FBOB",
    }
    assert await pool_names(engine) == []


async def test_a_malformed_file_gets_a_clear_answer(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    fake_slack.add_file("FX", b"PK\x03\x04\x00\x00binary spreadsheet")
    await slack.event(sr.dm_file_share("FX"))
    await fake_slack.async_wait_for("chat.postMessage")
    assert "isn't text I can read" in posted(fake_slack)
    assert await pool_names(engine) == []


async def test_import_command_explains_how(slack: SlackClient) -> None:
    response = await slack.command("import")
    assert "Upload the file here, in this direct message with me" in response.texts()


async def test_shutdown_waits_for_an_import_under_way(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    fake_slack.add_file("F2", (DATA / "google_contacts.csv").read_bytes())
    fake_slack.hold_answers("files.download", 1)
    await slack.event(sr.file_shared("F2"))
    await fake_slack.async_wait_for("files.download")
    drained = asyncio.create_task(slack_files.drain())
    await asyncio.sleep(0.2)
    assert not drained.done()  # the import waits for its download
    fake_slack.release_answers()
    await asyncio.wait_for(drained, 10)
    assert "Imported 3 people from your Google contacts" in posted(fake_slack)
    assert len(await pool_names(engine)) == 3


async def test_pick_who_matters_in_a_slack_modal(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    fake_slack.add_file("F3", (DATA / "linkedin_connections.csv").read_bytes())
    await slack.event(sr.dm_file_share("F3"))
    [report] = await fake_slack.async_wait_for("chat.postMessage")
    blocks = report.params["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    pick = next(
        element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["text"]["text"] == "Pick who matters"
    )
    await slack.click(pick["action_id"], pick["value"])
    [opened] = await fake_slack.async_wait_for("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    [field] = [b for b in view["blocks"] if b["type"] == "input"]
    options = field["element"]["options"]
    assert field["element"]["type"] == "checkboxes" and len(options) == 8
    assert options[0]["text"]["text"].startswith("Priya Raman — Chief Operating Officer")
    ticked = {"type": "checkboxes", "selected_options": options[:2]}
    response = await slack.submit(
        view["callback_id"], {field["block_id"]: ticked}, metadata=view["private_metadata"]
    )
    assert response.status == 200
    async with SqlStore(engine).book(ADA, write=False) as book:
        assert sorted(n for _, n in await book.names()) == ["Chen Wei", "Priya Raman"]
    assert len(await pool_names(engine)) == 6
    # Bob submitting Ada's modal (same ids) moves nothing of hers.
    await slack.submit(
        view["callback_id"],
        {field["block_id"]: {"type": "checkboxes", "selected_options": options[2:4]}},
        metadata=view["private_metadata"],
        user="U2",
    )
    assert len(await pool_names(engine)) == 6


async def test_text_typed_in_the_dm_gets_a_hint(slack: SlackClient, fake_slack: FakeSlack) -> None:
    response = await slack.event(sr.dm_message("help"))
    assert response.status == 200
    await fake_slack.async_wait_for("chat.postMessage")
    assert "try `/reconnect help`" in posted(fake_slack)
    # The bot's own message in the DM is not answered (no loop).
    await slack.event(sr.dm_message("hello from the bot", user="UBOT"))
    await asyncio.sleep(0.3)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
