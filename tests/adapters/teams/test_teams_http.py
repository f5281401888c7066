"""Teams over real HTTP: activities in at /api/messages, cards out at the fake connector."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import ContactRow, ConversationRef, User
from tests.adapters.teams.conftest import TeamsClient
from tests.fakes.teams_connector import FakeTeamsConnector


def card_text(card: dict | None) -> str:
    out: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key in ("text", "title", "label"):
                if isinstance(node.get(key), str):
                    out.append(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(out)


async def test_a_typed_command_gets_a_card_reply(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    status = await teams.say("add Dana Whitfield every 2 months -- former CFO, loves sailing")
    assert status in (200, 202)
    [reply] = await connector.async_wait_for("reply")
    assert reply.authorization is None  # anonymous local mode: nothing is signed
    assert "Added **Dana Whitfield**" in card_text(reply.card)
    async with engine.connect() as connection:
        user = (await connection.execute(select(User))).one()
        ref = (await connection.execute(select(ConversationRef))).one()
    assert (user.platform, user.workspace_id, user.external_id) == (
        "teams",
        "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "aad-ada",
    )
    assert user.timezone == "Europe/Berlin"
    assert ref.conversation_id == "a:personal-ada"
    assert json.loads(ref.reference)["serviceUrl"] == connector.service_url


async def test_reconnect_prefix_is_optional(
    teams: TeamsClient, connector: FakeTeamsConnector
) -> None:
    await teams.say("/reconnect help")
    await teams.say("reconnect due")
    await teams.say("due")
    replies = await connector.async_wait_for("reply", 3)
    texts = [card_text(r.card) for r in replies]
    assert "settings" in texts[0]
    assert all("haven't added anyone" in t for t in texts[1:])


async def test_the_add_form_and_its_errors_stay_on_the_card(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await teams.say("add")
    [form] = await connector.async_wait_for("reply")
    inputs = {b["id"]: b["type"] for b in form.card["body"] if b["type"].startswith("Input.")}
    assert inputs == {
        "name": "Input.Text",
        "preferred_name": "Input.Text",
        "company_role": "Input.Text",
        "how_known": "Input.Text",
        "relationship": "Input.ChoiceSet",
        "last_in_touch": "Input.Text",
        "notes": "Input.Text",
        "win": "Input.Text",
        "cadence": "Input.ChoiceSet",
    }
    submit = form.card["actions"][0]["data"]
    await teams.submit({**submit, "name": "", "cadence": "6 weeks"}, reply_to="form-1")
    [update] = await connector.async_wait_for("update")
    assert "Please enter their name." in card_text(update.card)
    await teams.submit({**submit, "name": "Zoë Ó Briain", "cadence": "2 months"}, reply_to="form-1")
    updates = await connector.async_wait_for("update", 2)
    assert "Added **Zoë Ó Briain**" in card_text(updates[1].card)
    async with engine.connect() as connection:
        assert [r.name for r in (await connection.execute(select(ContactRow))).all()] == [
            "Zoë Ó Briain"
        ]


async def test_buttons_cannot_touch_another_users_contacts(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await teams.say("add Secret Person", user="bob")
    await connector.async_wait_for("reply")
    async with engine.connect() as connection:
        secret = (await connection.execute(select(ContactRow))).one()
    await teams.submit(
        {"rc": "action", "action": "remove.confirm", "value": str(secret.id)},
        reply_to="card-9",
        user="ada",
    )
    [update] = await connector.async_wait_for("update")
    assert "isn't in your list" in card_text(update.card)
    async with engine.connect() as connection:
        assert len((await connection.execute(select(ContactRow))).all()) == 1


async def test_eight_matches_are_offered_in_action_sets_of_at_most_six(
    teams: TeamsClient, connector: FakeTeamsConnector
) -> None:
    surnames = ("Abbot", "Baker", "Cole", "Drake", "Evans", "Frost", "Grant", "Hale")
    for surname in surnames:
        await teams.say(f"add Dana {surname}")
    await connector.async_wait_for("reply", len(surnames))
    await teams.say("snooze Dana 2 weeks")
    replies = await connector.async_wait_for("reply", len(surnames) + 1)
    card = replies[-1].card
    assert card is not None and "Which one did you mean?" in card_text(card)
    sets = [e["actions"] for e in card["body"] if e["type"] == "ActionSet"]
    assert [len(s) for s in sets] == [6, 2]
    assert sorted(a["title"] for s in sets for a in s) == [f"Dana {s}" for s in surnames]


async def test_a_reply_teams_refuses_as_too_large_still_gets_an_answer(
    teams: TeamsClient, connector: FakeTeamsConnector
) -> None:
    connector.fail(413, kind="reply", code="MessageSizeTooBig", message="Message too large")
    assert await teams.say("help") in (200, 202)
    replies = await connector.async_wait_for("reply", 2)
    assert [r.status for r in replies] == [413, 201]
    assert "too long for Teams" in card_text(replies[1].card)
    await teams.say("add Dana")
    await connector.async_wait_for("reply", 3)
    connector.fail(413, kind="update", code="MessageSizeTooBig", message="Message too large")
    await teams.submit({"rc": "action", "action": "nonsense", "value": ""}, reply_to="card-1")
    updates = await connector.async_wait_for("update", 2)
    assert [u.status for u in updates] == [413, 200]
    assert "too long for Teams" in card_text(updates[1].card)


async def test_a_due_list_of_long_non_english_contacts_fits_in_one_teams_message(
    teams: TeamsClient, connector: FakeTeamsConnector
) -> None:
    # The SDK escapes non-ASCII as \uXXXX: ten Cyrillic contacts at the field limits came to
    # 77 KB as sent, far over Teams' ~28 KB per message.
    from bot.core.forms import NAME_MAX, NOTES_MAX

    for i in range(10):
        name = ("Дмитрий Александрович Соколовский " * 10)[: NAME_MAX - 3].strip() + f" {i}"
        notes = ("бывший финансовый директор, любит парусный спорт; " * 60)[:NOTES_MAX]
        await teams.say(f"add {name} -- {notes}")
    await connector.async_wait_for("reply", 10)
    for command in ("due", "list"):
        await teams.say(command)
    replies = await connector.async_wait_for("reply", 12)
    for reply in replies[10:]:
        assert reply.status == 201
        assert reply.card is not None and "Дмитрий" in card_text(reply.card)
        assert int(reply.headers["Content-Length"]) <= 28 * 1024
