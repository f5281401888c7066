"""Files on Teams through the fake connector: exports offered with file-consent cards and
uploaded on accept, charts shown inside the card, and uninstalling (nudges stop at once; the
data goes 30 days later unless the app is installed again)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.teams import cards, files
from bot.adapters.teams.hosting import build_hosting
from bot.adapters.teams.messenger import TeamsMessenger
from bot.core.model import UserRef
from bot.core.replies import FileOut, Reply, message
from bot.settings import service_url_origins
from jobs.purge import Purger
from jobs.runner import NudgeRunner
from storage.held_files import HeldFiles
from storage.models import ContactRow, HeldFile, User
from storage.repository import SqlStore
from tests.adapters.teams.conftest import ANONYMOUS, BOT, TENANT, TeamsClient
from tests.adapters.teams.test_teams_http import card_text
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.jobs.conftest import at

SMALL_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000
BIG_PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 120  # ~30 KB: over the card budget


def consent_cards(connector: FakeTeamsConnector) -> list[dict[str, Any]]:
    return [
        a
        for call in connector.calls
        for a in call.attachments
        if a.get("contentType") == files.CONSENT
    ]


def answer(
    teams: TeamsClient, connector: FakeTeamsConnector, consent: dict[str, Any], action: str,
    user: str = "ada",
) -> dict[str, Any]:  # fmt: skip
    name = consent["name"]
    return teams.activity(
        user,
        type="invoke",
        name="fileConsent/invoke",
        value={
            "type": "fileUpload",
            "action": action,
            "context": consent["content"]["acceptContext"],
            "uploadInfo": {
                "name": name,
                "uploadUrl": connector.upload_url(name),
                "contentUrl": f"https://contoso.sharepoint.com/personal/ada/{name}",
                "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C8C",
                "fileType": name.rpartition(".")[2],
            },
        },
    )


async def held_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return len((await connection.execute(select(HeldFile.token))).all())


async def test_export_is_offered_and_uploaded_on_accept(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await teams.say("add Dana Whitfield -- loves sailing")
    await teams.say("add Bo Brandt", user="bob")
    await teams.say("export")
    await connector.async_wait_for("reply", 5)
    offered = consent_cards(connector)
    assert [c["name"] for c in offered] == [
        "reconnect-contacts-2026-11-25.csv",
        "reconnect-data-2026-11-25.json",
        "reconnect-contacts-2026-11-25.vcf",
    ]
    assert offered[0]["content"]["sizeInBytes"] > 0
    assert await held_count(engine) == 3

    # Bob answers with Ada's card: nothing is uploaded, and Ada's file stays hers.
    status = await teams.post(answer(teams, connector, offered[0], "accept", user="bob"))
    assert status == 200
    assert connector.uploads == {}
    assert "no longer waiting" in card_text(connector.calls[-1].card)
    assert await held_count(engine) == 3

    status = await teams.post(answer(teams, connector, offered[1], "accept"))
    assert status == 200
    content, content_range = connector.uploads["reconnect-data-2026-11-25.json"]
    data = json.loads(content)
    assert [c["name"] for c in data["contacts"]] == ["Dana Whitfield"]
    assert content_range == f"bytes 0-{len(content) - 1}/{len(content)}"
    info = connector.calls[-1].attachments[0]
    assert info["contentType"] == files.FILE_INFO
    assert info["contentUrl"].endswith("reconnect-data-2026-11-25.json")
    assert info["content"]["fileType"] == "json"

    # Accepting again (a double click) finds nothing left to upload.
    await teams.post(answer(teams, connector, offered[1], "accept"))
    assert "no longer waiting" in card_text(connector.calls[-1].card)
    # Declining drops the file.
    await teams.post(answer(teams, connector, offered[2], "decline"))
    assert "didn't send the file" in card_text(connector.calls[-1].card)
    assert await held_count(engine) == 1
    assert sorted(connector.uploads) == ["reconnect-data-2026-11-25.json"]


async def test_a_failed_upload_is_said(teams: TeamsClient, connector: FakeTeamsConnector) -> None:
    await teams.say("export csv")
    await connector.async_wait_for("reply", 2)
    (offered,) = consent_cards(connector)
    connector.fail(500, kind="upload")
    await teams.post(answer(teams, connector, offered, "accept"))
    assert "couldn't save the file" in card_text(connector.calls[-1].card)


def test_images_go_inside_the_card_unless_too_big() -> None:
    chart = FileOut("week.png", "image/png", SMALL_PNG, "Your week", alt_text="3 of 5 days")
    content, offered = files.card(Reply("Your week", message("Your week").blocks, (chart,)))
    (image,) = [e for e in content["body"] if e["type"] == "Image"]
    assert image["url"].startswith("data:image/png;base64,") and image["altText"] == "3 of 5 days"
    assert offered == []
    big = FileOut("year.png", "image/png", BIG_PNG, "Your year")
    content, offered = files.card(Reply("Your year", message("Your year").blocks, (big,)))
    assert offered == [big]
    assert not [e for e in content["body"] if e["type"] == "Image"]
    assert "too big to show here" in json.dumps(content)
    assert cards.size(content) <= cards.CARD_BUDGET


async def test_a_nudge_with_a_chart_and_a_file(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await teams.say("help")
    await connector.async_wait_for("reply")
    store = SqlStore(engine)
    messenger = TeamsMessenger(
        build_hosting(ANONYMOUS, allowed_service_urls=service_url_origins(connector.base_url)),
        store,
        held=HeldFiles(engine),
    )
    chart = FileOut("week.png", "image/png", SMALL_PNG, "Your week", alt_text="3 of 5 days")
    notes = FileOut("notes.txt", "text/plain", b"hello", "Notes")
    reply = Reply("Your week", message("Your week").blocks, (chart, notes))
    channel = await messenger.open_channel(UserRef("teams", TENANT, "aad-ada"))
    await messenger.post(channel, reply, "key-1")
    sent = [c for c in connector.calls if c.conversation_id == channel and c.kind == "send"]
    assert len(sent) == 2
    assert any(e["type"] == "Image" for e in sent[-2].card["body"])
    assert sent[-1].attachments[0]["contentType"] == files.CONSENT
    assert sent[-1].attachments[0]["name"] == "notes.txt"


async def test_uninstall_stops_nudges_and_the_data_goes_after_30_days(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine, runner: NudgeRunner
) -> None:
    await teams.say("add Dana Whitfield")
    await teams.say("add Bo Brandt", user="bob")
    await connector.async_wait_for("reply", 2)
    await teams.post(teams.activity("ada", type="installationUpdate", action="remove"))
    async with engine.connect() as connection:
        ada = (await connection.execute(select(User).where(User.external_id == "aad-ada"))).one()
    assert ada.undeliverable == "app_uninstalled" and ada.uninstalled_at is not None
    summary = await runner.run_once(at(2026, 12, 1, 7, 30))  # 08:30 in Berlin
    assert summary.sent == 1  # Bob only
    assert [c.conversation_id for c in connector.calls_of("send")] == ["a:personal-bob"]

    # Bob removes the app by removing the bot from the chat; Ada reinstalls within 30 days.
    removed = teams.activity("bob", type="conversationUpdate", membersRemoved=[BOT])
    await teams.post(removed)
    await teams.post(teams.activity("ada", type="installationUpdate", action="add"))
    async with engine.connect() as connection:
        rows = (await connection.execute(select(User.external_id, User.uninstalled_at))).all()
    state = {r.external_id: r.uninstalled_at for r in rows}
    assert state["aad-ada"] is None and state["aad-bob"] is not None

    purger = Purger(engine)
    now = datetime.now(UTC)
    assert (await purger.run_once(now + timedelta(days=29))).users == 0
    assert (await purger.run_once(now + timedelta(days=31))).users == 1
    async with engine.connect() as connection:
        users = sorted((await connection.scalars(select(User.external_id))).all())
        names = sorted((await connection.scalars(select(ContactRow.name))).all())
    assert users == ["aad-ada"] and names == ["Dana Whitfield"]


async def test_unaccepted_files_expire_after_a_day(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await teams.say("export")
    await connector.async_wait_for("reply", 4)
    assert await held_count(engine) == 3
    now = datetime.now(UTC)
    assert (await Purger(engine).run_once(now + timedelta(hours=23))).files == 0
    assert (await Purger(engine).run_once(now + timedelta(hours=25))).files == 3
    assert await held_count(engine) == 0


def test_the_card_says_how_to_save_the_files() -> None:
    one = FileOut("a.csv", "text/csv", b"x")
    two = FileOut("b.json", "application/json", b"{}")
    content, _ = files.card(Reply("Export", message("Export").blocks, (one,)))
    assert files.SAVE_HINT_ONE in card_text(content)
    content, _ = files.card(Reply("Export", message("Export").blocks, (one, two)))
    assert files.SAVE_HINT in card_text(content)
    content, offered = files.card(message("No files"))
    assert offered == [] and "OneDrive" not in card_text(content)


async def test_a_malformed_consent_answer_changes_nothing(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await teams.say("export csv")
    await connector.async_wait_for("reply", 2)
    (offered,) = consent_cards(connector)
    for junk in ("maybe", None):
        activity = answer(teams, connector, offered, "accept")
        activity["value"]["action"] = junk
        assert await teams.post(activity) == 200
    bad_value = answer(teams, connector, offered, "accept")
    bad_value["value"] = "not an object"
    assert await teams.post(bad_value) == 200
    assert await held_count(engine) == 1 and connector.uploads == {}
    # An upload URL that is not http(s) is refused; the file is spent, and the user told.
    activity = answer(teams, connector, offered, "accept")
    activity["value"]["uploadInfo"]["uploadUrl"] = "file:///etc/passwd"
    await teams.post(activity)
    assert "couldn't save the file" in card_text(connector.calls[-1].card)
    assert connector.uploads == {}
