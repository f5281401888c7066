"""The coach features on Teams against the fake connector over HTTP, on SQLite and
PostgreSQL: the coach card in the personal chat at every level, a kind check-in through the
card's text input (signed with the coach's Teams name), *Share with my group* as a reply to
the week's wins thread in the channel, ``@Reconnect group prompt`` in the channel, and the
refusals (non-coaches, other tenants, forged values)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.groups.coaching import NOT_A_COACH, NOT_A_MEMBER, NOT_YOURS
from bot.core.model import UserRef
from storage.models import GroupPost, GroupWin
from tests.adapters.teams.conftest import BOT, TENANT, TeamsClient
from tests.adapters.teams.test_teams_http import card_text as escaped_text
from tests.adapters.teams.test_teams_weekly import actions
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.groups_rows import make_group, user_id

CHANNEL = "19:spring-cohort@thread.tacv2"
CORA, ADA, BEN, CY, ED = (
    UserRef("teams", TENANT, f"aad-{n}") for n in ("cora", "ada", "ben", "cy", "ed")
)


def card_text(card: dict[str, Any] | None) -> str:
    """A card's texts without markdown escapes."""
    return escaped_text(card).replace("\\", "")


def reference(service_url: str) -> str:
    return json.dumps(
        {
            "serviceUrl": service_url,
            "channelId": "msteams",
            "bot": BOT,
            "conversation": {"id": CHANNEL, "conversationType": "channel", "tenantId": TENANT},
        }
    )


async def group(engine: AsyncEngine, teams: TeamsClient) -> int:
    return await make_group(
        engine,
        "Spring cohort",
        CHANNEL,
        CORA,
        [
            (ADA, "numbers", "Ada"),
            (BEN, "outcomes", "Ben"),
            (CY, "membership", "Cy"),
            (ED, "names", "Ed"),
        ],
        post_reference=reference(teams.service_url),
    )


async def replies(connector: FakeTeamsConnector, user: str, count: int) -> list[Any]:
    return await connector.async_wait_for("reply", count, conversation_id=f"a:personal-{user}")


async def test_the_coach_card_shows_each_member_at_their_level(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await group(engine, teams)
    for user in ("ada", "ben", "cy"):
        await teams.say("add Dana Whitfield -- SECRET-CONTACT-NOTE", user)
        await teams.say(
            "log Dana went well -- PRIVATE-NOTE an interview next: send CV by friday", user
        )
    await teams.say("coach", "cora")
    card = (await replies(connector, "cora", 1))[0].card
    text = card_text(card)
    assert "Spring cohort" in text
    assert "Cy — in the group (shares membership only)." in text
    assert "Ada — this week: 0 outreach, 0 replies, 1 conversation, no goal set." in text
    assert "Outcomes: an interview (Dana Whitfield)" in text
    assert "Next steps: “send CV” with Dana Whitfield" in text
    assert "Ed (nothing logged in the 23 days since joining)" in text
    assert "SECRET-CONTACT-NOTE" not in text and "PRIVATE-NOTE" not in text
    ada_line = next(line for line in text.splitlines() if line.startswith("• Ada"))
    assert "Dana" not in ada_line
    # Members and people from another tenant see no coach view.
    await teams.say("coach", "ada")
    assert NOT_A_COACH in card_text((await replies(connector, "ada", 3))[2].card)
    other = teams.activity("cora", text="coach")
    other["conversation"] = {
        "conversationType": "personal",
        "tenantId": "other-tenant",
        "id": "a:elsewhere",
    }
    other["channelData"] = {"tenant": {"id": "other-tenant"}}
    await teams.post(other)
    [elsewhere] = await connector.async_wait_for("reply", 1, conversation_id="a:elsewhere")
    assert NOT_A_COACH in card_text(elsewhere.card)


async def test_a_kind_check_in_from_the_card_reaches_only_the_member(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    group_id = await group(engine, teams)
    await teams.say("help", "ed")  # Ed's personal chat is known (where check-ins go)
    await replies(connector, "ed", 1)
    ed = await user_id(engine, ED)
    await teams.say("coach", "cora")
    card = (await replies(connector, "cora", 1))[0].card
    check = next(a for a in actions(card) if a["title"] == "Send a kind check-in to Ed")
    assert check["data"]["value"] == f"{group_id}:{ed}"
    await teams.submit(check["data"], reply_to=None, user="cora")
    form = (await replies(connector, "cora", 2))[1].card
    assert "Hi Ed, I noticed things have been quiet" in json.dumps(form, ensure_ascii=False)
    submit = next(a for a in actions(form))
    data = {**submit["data"], "message": "Hi Ed — coffee next week? No agenda."}
    await teams.submit(data, reply_to=None, user="cora")
    [dm] = await connector.async_wait_for("send", 1, conversation_id="a:personal-ed")
    text = card_text(dm.card)
    assert "Hi Ed — coffee next week? No agenda." in text
    assert "— Cora, your coach in Spring cohort" in text
    done = (await replies(connector, "cora", 3))[2].card
    assert "Sent your check-in to Ed" in card_text(done)
    assert connector.sent(CHANNEL) == []
    # Forged by a member, and a second one this week: nothing more is sent.
    await teams.submit(data, reply_to=None, user="ben")
    await teams.submit(check["data"], reply_to=None, user="ben")
    await teams.submit(data, reply_to=None, user="cora")
    ben = await replies(connector, "ben", 2)
    assert all(NOT_YOURS in card_text(r.card) for r in ben), [card_text(r.card) for r in ben]
    again = (await replies(connector, "cora", 4))[3].card
    assert "already had a check-in" in card_text(again)
    assert len([c for c in connector.sent("a:personal-ed") if c.kind == "send"]) == 1


async def test_a_shared_win_is_a_reply_in_the_weeks_wins_thread(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await group(engine, teams)
    await teams.say("add Dana Whitfield", "ben")
    await teams.say(
        "log Dana went great -- an interview learned: Dana Whitfield says they hire in Q1", "ben"
    )
    card = (await replies(connector, "ben", 2))[1].card
    share = next(a for a in actions(card) if a["title"] == "Share with my group")
    assert connector.sent(CHANNEL) == []
    await teams.submit(share["data"], reply_to=None, user="ben")
    [parent] = await connector.async_wait_for("send", 1, conversation_id=CHANNEL)
    assert "Wins for the week of" in card_text(parent.card)
    thread = f"{CHANNEL};messageid={parent.response_id}"
    [win] = await connector.async_wait_for("send", 1, conversation_id=thread)
    posted = card_text(win.card)
    assert "Ben" in posted and "My contact says they hire in Q1" in posted and "Dana" not in posted
    done = (await replies(connector, "ben", 3))[2].card
    assert "Shared with Spring cohort" in card_text(done)
    async with engine.connect() as connection:
        [row] = (await connection.execute(select(GroupWin.message_id))).all()
        [post] = (await connection.execute(select(GroupPost.message_id))).all()
    assert (row.message_id, post.message_id) == (win.response_id, parent.response_id)
    # Someone outside the group clicking Ben's button shares nothing.
    await teams.submit(share["data"], reply_to=None, user="zed")
    [refused] = await replies(connector, "zed", 1)
    assert NOT_A_MEMBER in card_text(refused.card)
    assert len(connector.sent(thread)) == 1


async def test_group_prompt_in_the_channel_is_posted_there_for_coaches_only(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await group(engine, teams)

    def in_channel(user: str, text: str) -> dict[str, Any]:
        activity = teams.activity(user, text=text)
        activity["conversation"] = {
            "conversationType": "channel",
            "tenantId": TENANT,
            "id": f"{CHANNEL};messageid=1700000000000",
        }
        return activity

    await teams.post(
        in_channel("cora", "<at>Reconnect</at> group prompt Who will you thank this week?")
    )
    [post] = await connector.async_wait_for("send", 1, conversation_id=CHANNEL)
    assert "From your coach: Who will you thank this week?" in card_text(post.card).replace(
        "**", ""
    )
    await teams.post(in_channel("ada", "<at>Reconnect</at> group prompt Hi all"))
    await teams.post(in_channel("cora", "<at>Reconnect</at> coach"))
    answers = await connector.async_wait_for("reply", 3)
    texts = [card_text(a.card) for a in answers]
    assert any("Posted your prompt in Spring cohort" in t for t in texts)
    assert any("Only this group's coaches" in t for t in texts)
    # The coach view is never shown in a channel.
    assert any("The coach view is private" in t for t in texts)
    assert not any("Ada —" in t for t in texts)
    assert len(connector.sent(CHANNEL)) == 1


async def test_edit_then_share_on_teams_with_a_text_input(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await group(engine, teams)
    await teams.say("add Dana Whitfield", "ada")
    await teams.say("log Dana went well -- a referral", "ada")
    card = (await replies(connector, "ada", 2))[1].card
    edit = next(a for a in actions(card) if a["title"] == "Edit, then share")
    await teams.submit(edit["data"], reply_to=None, user="ada")
    form = (await replies(connector, "ada", 3))[2].card
    submit = next(a for a in actions(form))
    await teams.submit({**submit["data"], "text": ""}, reply_to=None, user="ada")
    again = (await replies(connector, "ada", 4))[3].card
    assert "Please write a few words about your win." in card_text(again)
    await teams.submit(
        {**submit["data"], "text": "A referral — so glad!"}, reply_to=None, user="ada"
    )
    [parent] = await connector.async_wait_for("send", 1, conversation_id=CHANNEL)
    thread = f"{CHANNEL};messageid={parent.response_id}"
    [win] = await connector.async_wait_for("send", 1, conversation_id=thread)
    assert "A referral — so glad!" in card_text(win.card)
