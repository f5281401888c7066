"""Install and uninstall: the conversation reference is captured, refreshed and forgotten."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from jobs.runner import NudgeRunner
from storage.models import ConversationRef, User
from tests.adapters.teams.conftest import BOT, TeamsClient
from tests.adapters.teams.test_teams_http import card_text
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.jobs.conftest import at


async def references(engine: AsyncEngine) -> list[tuple[str, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(User.external_id, ConversationRef.conversation_id).join(
                ConversationRef, ConversationRef.user_id == User.id
            )
        )
        return sorted((r.external_id, r.conversation_id) for r in rows)


async def test_install_stores_the_reference_and_says_hello(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    added = teams.activity("ada", type="conversationUpdate", membersAdded=[BOT])
    assert await teams.post(added) in (200, 202)
    [hello] = await connector.async_wait_for("reply")
    assert "Reconnect" in card_text(hello.card) and "add" in card_text(hello.card)
    assert await references(engine) == [("aad-ada", "a:personal-ada")]
    install = teams.activity("bob", type="installationUpdate", action="add")
    await teams.post(install)
    assert await references(engine) == [
        ("aad-ada", "a:personal-ada"),
        ("aad-bob", "a:personal-bob"),
    ]


async def test_a_changed_conversation_is_refreshed_and_uninstall_forgets(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await teams.say("due")
    moved = teams.activity("ada", text="due")
    moved["conversation"] = {**moved["conversation"], "id": "a:personal-ada-new"}
    await teams.post(moved)
    assert await references(engine) == [("aad-ada", "a:personal-ada-new")]
    await teams.post(teams.activity("ada", type="installationUpdate", action="remove"))
    assert await references(engine) == []


async def test_channel_mentions_answer_in_the_channel_but_are_not_the_dm(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    mention = teams.activity("ada", text="<at>Reconnect</at> help")
    mention["conversation"] = {
        "isGroup": True,
        "conversationType": "channel",
        "tenantId": mention["conversation"]["tenantId"],
        "id": "19:abc@thread.tacv2;messageid=1",
    }
    mention["entities"] = [{"type": "mention", "text": "<at>Reconnect</at>", "mentioned": BOT}]
    await teams.post(mention)
    [reply] = await connector.async_wait_for("reply")
    assert reply.conversation_id == "19:abc@thread.tacv2;messageid=1"
    assert "settings" in card_text(reply.card)
    assert await references(engine) == []
    await teams.say("add Dana Whitfield -- private notes")  # in her personal chat
    await connector.async_wait_for("reply", 2)
    mention["text"], mention["id"] = "<at>Reconnect</at> due", "9999"
    await teams.post(mention)
    replies = await connector.async_wait_for("reply", 3)
    shown = card_text(replies[-1].card)
    assert "private" in shown and "Dana" not in shown


async def test_412_502_504_and_429_are_retried(
    teams: TeamsClient,
    connector: FakeTeamsConnector,
    runner: NudgeRunner,
) -> None:
    await teams.say("add Dana")
    await connector.async_wait_for("reply")
    for status in (412, 502, 504):
        connector.fail(status, kind="send")
    connector.fail(429, kind="send", retry_after=0)  # a wait of 1 s would test nothing more
    summary = await runner.run_once(at(2026, 12, 1, 7, 30))
    assert summary.sent == 1
    sends = [c for c in connector.calls_of("send")]
    assert [c.status for c in sends] == [412, 502, 504, 429, 201]


async def test_a_personal_conversation_is_never_rebound_to_another_user(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await teams.say("add Dana Whitfield -- her private notes", user="ada")
    await connector.async_wait_for("reply")
    async with engine.connect() as connection:
        before = (await connection.execute(select(ConversationRef.reference))).scalar_one()
    for kind in ("message", "conversationUpdate", "installationUpdate"):
        # Bob (anonymous mode lets anyone post anything) names Ada's personal conversation.
        fields: dict[str, object] = {"type": kind, "text": "due", "membersAdded": [BOT]}
        if kind == "installationUpdate":
            fields["action"] = "add"
        hijack = teams.activity("bob", **fields)
        hijack["conversation"] = {**hijack["conversation"], "id": "a:personal-ada"}
        assert await teams.post(hijack) in (200, 202)
    assert await references(engine) == [("aad-ada", "a:personal-ada")]
    async with engine.connect() as connection:
        assert (await connection.execute(select(ConversationRef.reference))).scalar_one() == before
    # Nothing was answered into Ada's chat for Bob: the one reply is Ada's "Added Dana".
    [reply] = connector.calls_of("reply")
    assert "Added **Dana Whitfield**" in card_text(reply.card)


async def test_a_nudge_teams_refuses_as_too_large_is_not_retried(
    teams: TeamsClient,
    connector: FakeTeamsConnector,
    runner: NudgeRunner,
) -> None:
    await teams.say("add Dana")
    await connector.async_wait_for("reply")
    connector.fail(413, kind="send", times=None)
    summary = await runner.run_once(at(2026, 12, 1, 7, 30))
    assert (summary.sent, summary.undeliverable) == (0, 1)
    assert [c.status for c in connector.calls_of("send")] == [413]
