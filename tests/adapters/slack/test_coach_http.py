"""The coach features on Slack over real HTTP (signed requests, the fake Web API), on SQLite
and PostgreSQL: the coach's view at every sharing level, the Home section, kind check-ins,
*Share with my group* into the week's wins thread, ``group prompt``, and every refusal
(non-coaches, coaches of another group, members who left, another workspace, forged values)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.groups.coaching import NOT_A_COACH, NOT_A_MEMBER, NOT_YOURS
from bot.core.model import UserRef
from storage.models import GroupCheckin, GroupMember, GroupPost, GroupWin
from tests.adapters.slack.test_http import button
from tests.fakes import slack_requests as sr
from tests.fakes.slack_api import FakeSlack, iter_texts
from tests.groups_rows import make_group, user_id
from tests.support import SlackClient, SlackResponse

T = "T1"
COACH = UserRef("slack", T, "U9")
OTHER_COACH = UserRef("slack", T, "U8")
ADA, BEN, CY, DI, ED = (UserRef("slack", T, f"U{i}") for i in range(1, 6))
PRIVATE = ("SECRET-CONTACT-NOTE", "PRIVATE-NOTE", "they hire in Q1")
LOG = "log Dana went well -- PRIVATE-NOTE about an interview learned: they hire in Q1 next: send CV by friday"


async def group_a(engine: AsyncEngine) -> int:
    return await make_group(
        engine,
        "Spring cohort",
        "CGRPA",
        COACH,
        [
            (ADA, "membership", "Ada One"),
            (BEN, "numbers", "Ben Two"),
            (CY, "names", "Cy Three"),
            (DI, "outcomes", "Di Four"),
            (ED, "numbers", "Ed Five"),
        ],
    )


async def activity(slack: SlackClient, users: tuple[UserRef, ...] = (ADA, BEN, CY, DI)) -> None:
    for user in users:
        await slack.command("add Dana Whitfield -- SECRET-CONTACT-NOTE", user=user.user_id)
        await slack.command("reached Dana", user=user.user_id)
        await slack.command(LOG, user=user.user_id)
    await slack.command("goal 1", user=BEN.user_id)


def line_of(text: str, name: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"• {name}"))


async def test_the_coach_view_shows_each_member_at_the_level_they_chose(
    slack: SlackClient, engine: AsyncEngine
) -> None:
    await group_a(engine)
    await activity(slack)
    view = await slack.command("coach", user="U9")
    text = view.texts()
    assert view.json["response_type"] == "ephemeral"
    assert "Spring cohort" in text
    assert "in the group (shares membership only)" in line_of(text, "Ada One")
    ben = line_of(text, "Ben Two")
    assert "this week: 1 outreach, 1 reply, 1 conversation, goal met (1 of 1)" in ben
    assert "Dana" not in ben and "interview" not in ben
    cy = line_of(text, "Cy Three")
    assert "Reached this week: Dana Whitfield." in cy and "interview" not in cy
    di = line_of(text, "Di Four")
    assert "Outcomes: an interview (Dana Whitfield)" in di
    assert "Next steps: “send CV” with Dana Whitfield" in di
    # The trend counts members who share numbers (Ada's activity is hers alone).
    assert "This week: 3 outreach, 3 replies, 3 conversations, 1 goal met" in text
    # Ed has done nothing since joining: quiet, with a check-in button; Ada is never "quiet".
    assert "Gone quiet:* Ed Five (nothing logged in the 23 days since joining)" in text
    button(view.json["blocks"], "Send a kind check-in to Ed Five")
    for secret in PRIVATE:
        assert secret not in text


async def test_only_coaches_see_the_view_and_a_coach_sees_only_their_groups(
    slack: SlackClient, engine: AsyncEngine
) -> None:
    await group_a(engine)
    await make_group(engine, "Autumn cohort", "CGRPB", OTHER_COACH, [(ED, "outcomes", "Ed Five")])
    await activity(slack)
    for member in ("U1", "U2", "U7"):
        assert NOT_A_COACH in (await slack.command("coach", user=member)).texts()
    other = (await slack.command("coach", user="U8")).texts()
    assert "Autumn cohort" in other
    for name in ("Spring cohort", "Ada One", "Ben Two", "Di Four", "Dana"):
        assert name not in other
    # The same user id in another workspace is someone else.
    assert NOT_A_COACH in (await slack.command("coach", user="U9", team="T2")).texts()


async def test_a_kind_check_in_is_edited_sent_signed_and_only_once_a_week(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    fake_slack.users["U9"] = {"real_name": "Cora Coach", "profile": {"real_name": "Cora Coach"}}
    group = await group_a(engine)
    ed = await user_id(engine, ED)
    view = await slack.command("coach", user="U9")
    check = button(view.json["blocks"], "Send a kind check-in to Ed Five")
    assert check["value"] == f"{group}:{ed}"
    await slack.click(check["action_id"], check["value"], user="U9")
    modal = _view((await fake_slack.async_wait_for("views.open"))[0].params["view"])
    assert modal["callback_id"] == "rc_form:coach_checkin"
    field = next(b for b in modal["blocks"] if b.get("block_id") == "message")
    assert field["element"]["initial_value"].startswith("Hi Ed, I noticed things have been quiet")
    response = await slack.submit(
        "rc_form:coach_checkin",
        {"message": "Hi Ed — thinking of you. Coffee next week?"},
        metadata=modal["private_metadata"],
        user="U9",
    )
    assert response.status == 200
    [sent] = await fake_slack.async_wait_for("chat.postMessage")
    assert sent.params["channel"] == "DU5"
    texts = list(iter_texts(sent.params["blocks"]))
    assert "Hi Ed — thinking of you. Coffee next week?" in texts
    assert "— Cora Coach, your coach in Spring cohort" in texts
    # Never public: nothing went to the group's channel.
    assert fake_slack.messages_to("CGRPA") == []
    # Once a week: the button is gone, and a second submission (or a replayed one) sends nothing.
    again = await slack.command("coach", user="U9")
    assert "Check-in sent this week: Ed Five." in again.texts()
    assert "Send a kind check-in to Ed Five" not in again.texts()
    await slack.submit(
        "rc_form:coach_checkin",
        {"message": "Again!"},
        metadata=modal["private_metadata"],
        user="U9",
    )
    await fake_slack.async_wait_for("response_url", 2)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    async with engine.connect() as connection:
        rows = (await connection.execute(select(GroupCheckin.sent_at))).all()
    assert len(rows) == 1 and rows[0].sent_at is not None


async def test_forged_check_ins_are_refused_kindly(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    group = await group_a(engine)
    await make_group(engine, "Autumn cohort", "CGRPB", OTHER_COACH, [])
    ed = await user_id(engine, ED)
    metadata = json.dumps({"ctx": f"{group}:{ed}", "url": slack.response_url})
    forgers = [("U8", T), ("U1", T), ("U5", T), ("U9", "T2")]
    for user, team in forgers:
        await slack.post(
            sr.block_action(
                "rc:coach.checkin:1.0",
                f"{group}:{ed}",
                user=user,
                team=team,
                response_url=slack.response_url,
            )
        )
        await slack.post(
            sr.view_submission(
                "rc_form:coach_checkin",
                {"message": "Hello"},
                private_metadata=metadata,
                user=user,
                team=team,
            )
        )
    for value in ("garbage", f"{group}:", f"{group}:{ed}:9", "-1:5", "99999999999999999999:1"):
        await slack.click("rc:coach.checkin:1.0", value, user="U9")
    answers = await fake_slack.async_wait_for("response_url", 2 * len(forgers) + 5)
    assert all(NOT_YOURS in a.params["text"] for a in answers)
    assert fake_slack.calls_to("views.open") == []
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_a_member_who_left_is_gone_from_every_view_at_once(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    group = await group_a(engine)
    await activity(slack)
    ed, di = await user_id(engine, ED), await user_id(engine, DI)
    assert "Di Four" in (await slack.command("coach", user="U9")).texts()
    async with engine.begin() as connection:
        for member in (di, ed):
            await connection.execute(
                delete(GroupMember).where(
                    GroupMember.group_id == group, GroupMember.user_id == member
                )
            )
    text = (await slack.command("coach", user="U9")).texts()
    assert "Di Four" not in text and "Ed Five" not in text and "Dana" in text  # Cy still shares
    assert "This week: 2 outreach" in text
    await slack.click("rc:coach.checkin:1.0", f"{group}:{ed}", user="U9")
    [answer] = await fake_slack.async_wait_for("response_url")
    assert "isn't in the group any more" in answer.params["text"]
    assert fake_slack.calls_to("views.open") == []


async def test_the_home_tab_has_a_coach_section_for_coaches_only(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    group = await group_a(engine)
    await slack.event(sr.app_home_opened(user="U9"))
    await slack.event(sr.app_home_opened(user="U2"))
    published = await fake_slack.async_wait_for("views.publish", 2)
    by_user = {p.params["user_id"]: list(iter_texts(p.params["view"]["blocks"])) for p in published}
    assert "Your groups (coach)" in by_user["U9"]
    assert any("5 members, 4 quiet" in t for t in by_user["U9"])
    assert "Your groups (coach)" not in by_user["U2"]
    blocks = next(p for p in published if p.params["user_id"] == "U9").params["view"]["blocks"]
    opener = button(blocks, "Open coach view")
    assert opener["value"] == str(group)
    await slack.click(opener["action_id"], opener["value"], user="U9", container="view")
    home = (await fake_slack.async_wait_for("views.publish", 3))[-1]
    assert any("Ed Five (nothing logged" in t for t in iter_texts(home.params["view"]["blocks"]))
    # A member forging the same button sees nothing of the group.
    await slack.click(opener["action_id"], opener["value"], user="U2")
    answer = (await fake_slack.async_wait_for("response_url"))[0]
    assert NOT_A_COACH in answer.params["text"]


async def test_share_with_my_group_posts_in_the_weeks_wins_thread(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    group = await group_a(engine)
    for user in (BEN, CY):
        await slack.command("add Dana Whitfield", user=user.user_id)
    logged = await slack.command(
        "log Dana went well -- an interview learned: Dana says they hire in Q1", user="U2"
    )
    assert (
        "They would read: “Got an interview. What I learned: My contact says they hire in Q1.”"
        in (logged.texts())
    )
    share = button(logged.json["blocks"], "Share with my group")
    # Nothing is posted until the member clicks.
    assert fake_slack.calls_to("chat.postMessage") == []
    await slack.click(share["action_id"], share["value"], user="U2")
    parent, win = await fake_slack.async_wait_for("chat.postMessage", 2)
    assert parent.params["channel"] == win.params["channel"] == "CGRPA"
    assert "thread_ts" not in parent.params
    assert "Wins for the week of 23 Nov" in " ".join(iter_texts(parent.params["blocks"]))
    parent_ts = fake_slack.messages_to("CGRPA")[0]["ts"]
    assert win.params["thread_ts"] == parent_ts
    posted = " ".join(iter_texts(win.params["blocks"]))
    assert "Ben Two" in posted and "they hire in Q1" in posted and "Dana" not in posted
    done = (await fake_slack.async_wait_for("response_url"))[0]
    assert "Shared with Spring cohort" in done.params["text"]
    # A second member's win goes in the same thread; no second parent.
    cy = await slack.command("log Dana went great -- got a referral", user="U3")
    cy_share = button(cy.json["blocks"], "Share with my group")
    await slack.click(cy_share["action_id"], cy_share["value"], user="U3")
    calls = await fake_slack.async_wait_for("chat.postMessage", 3)
    assert calls[2].params["thread_ts"] == parent_ts
    # The same click again (a double click) shares nothing twice.
    await slack.click(cy_share["action_id"], cy_share["value"], user="U3")
    answers = await fake_slack.async_wait_for("response_url", 3)
    assert "already shared" in answers[-1].params["text"]
    async with engine.connect() as connection:
        wins = (
            await connection.execute(select(GroupWin.text, GroupWin.kind, GroupWin.message_id))
        ).all()
        posts = (
            await connection.execute(select(GroupPost.kind, GroupPost.status, GroupPost.message_id))
        ).all()
    assert sorted(w.kind for w in wins) == ["interview", "referral"]
    assert all(w.message_id for w in wins) and all("Dana" not in w.text for w in wins)
    assert [(p.kind, p.status, p.message_id) for p in posts] == [("wins", "sent", parent_ts)]
    assert group


async def test_share_is_offered_only_for_wins_of_members_and_forgeries_are_refused(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    group = await group_a(engine)
    await slack.command("add Dana Whitfield", user="U2")
    await slack.command("add Dana Whitfield", user="U7")
    plain = await slack.command("log Dana -- coffee", user="U2")
    assert "Share with my group" not in plain.texts()
    outsider = await slack.command("log Dana went well -- an interview", user="U7")
    assert "Share with my group" not in outsider.texts()
    win = await slack.command("log Dana went well -- an interview", user="U2")
    value = button(win.json["blocks"], "Share with my group")["value"]
    # Someone else clicking Ben's button, a member of another workspace, garbage values.
    await slack.click("rc:group.share:1.0", value, user="U7")
    await slack.post(
        sr.block_action(
            "rc:group.share:1.0", value, user="U2", team="T2", response_url=slack.response_url
        )
    )
    for forged in ("x", f"{group}:1", f"{group}:1:notadate", f"{group + 1}:1:2026-11-25"):
        await slack.click("rc:group.share:1.0", forged, user="U2")
    # Ben leaves; his own button no longer shares anything.
    ben = await user_id(engine, BEN)
    async with engine.begin() as connection:
        await connection.execute(delete(GroupMember).where(GroupMember.user_id == ben))
    await slack.click("rc:group.share:1.0", value, user="U2")
    answers = await fake_slack.async_wait_for("response_url", 7)
    assert all(
        any(reply in a.params["text"] for reply in (NOT_A_MEMBER, NOT_YOURS, "couldn't find"))
        for a in answers
    ), [a.params["text"] for a in answers]
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_group_prompt_posts_the_coaches_prompt_in_the_channel(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    await group_a(engine)
    posted = await _in_channel(slack, "group prompt What's one small win from this week?", "U9")
    assert "Posted your prompt in Spring cohort" in posted.texts()
    [call] = await fake_slack.async_wait_for("chat.postMessage")
    assert call.params["channel"] == "CGRPA"
    assert "What's one small win from this week?" in " ".join(iter_texts(call.params["blocks"]))
    # From the DM it goes to the coach's only group, as another prompt (its own key).
    await _in_channel(slack, "group prompt Who can you thank this week?", "U9", channel="DU9")
    await fake_slack.async_wait_for("chat.postMessage", 2)
    async with engine.connect() as connection:
        rows = (
            await connection.execute(select(GroupPost.kind, GroupPost.key, GroupPost.status))
        ).all()
    assert [r.kind for r in rows] == ["prompt", "prompt"] and rows[0].key != rows[1].key
    assert {r.status for r in rows} == {"sent"}
    refused = await _in_channel(slack, "group prompt Hello all", "U2")
    assert "Only this group's coaches" in refused.texts()
    empty = await _in_channel(slack, "group prompt", "U9")
    assert "What should the prompt say?" in empty.texts()
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


async def test_a_channel_the_bot_was_removed_from_gets_a_clear_answer(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    await group_a(engine)
    fake_slack.fail("chat.postMessage", status=200, error="not_in_channel")
    answer = await _in_channel(slack, "group prompt Hello", "U9")
    assert "couldn't post in Spring cohort's channel" in answer.texts()
    async with engine.connect() as connection:
        [row] = (await connection.execute(select(GroupPost.status, GroupPost.error))).all()
    assert (row.status, row.error) == ("failed", "not_in_channel")


async def _in_channel(
    slack: SlackClient, text: str, user: str, *, channel: str = "CGRPA"
) -> SlackResponse:
    body: dict[str, Any] = dict(
        token="legacy-verification-token",
        team_id=T,
        team_domain="test",
        channel_id=channel,
        channel_name="directmessage" if channel.startswith("D") else "spring-cohort",
        user_id=user,
        user_name=user.lower(),
        command="/reconnect",
        text=text,
        api_app_id="A1",
        is_enterprise_install="false",
        response_url=slack.response_url,
        trigger_id=sr.new_trigger_id(),
    )
    return await slack.post(urlencode(body))


def _view(raw: Any) -> dict[str, Any]:
    return json.loads(raw) if isinstance(raw, str) else raw


async def test_edit_then_share_posts_the_members_own_words(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    await group_a(engine)
    await slack.command("add Dana Whitfield", user="U2")
    logged = await slack.command("log Dana went well -- an interview", user="U2")
    edit = button(logged.json["blocks"], "Edit, then share")
    await slack.click(edit["action_id"], edit["value"], user="U2")
    modal = _view((await fake_slack.async_wait_for("views.open"))[0].params["view"])
    assert modal["callback_id"] == "rc_form:share_win"
    field = next(b for b in modal["blocks"] if b.get("block_id") == "text")
    assert field["element"]["initial_value"] == "Got an interview."
    # Empty: a field error, nothing posted.
    empty = await slack.submit(
        "rc_form:share_win", {"text": "  "}, metadata=modal["private_metadata"], user="U2"
    )
    assert empty.json["response_action"] == "errors"
    assert fake_slack.calls_to("chat.postMessage") == []
    # The member chooses to name Dana (she'd be glad): their words, as typed.
    await slack.submit(
        "rc_form:share_win",
        {"text": "Interview at Acme thanks to Dana Whitfield!"},
        metadata=modal["private_metadata"],
        user="U2",
    )
    _, win = await fake_slack.async_wait_for("chat.postMessage", 2)
    assert "Interview at Acme thanks to Dana Whitfield!" in " ".join(
        iter_texts(win.params["blocks"])
    )
    # Someone else submitting the same form (context and all) shares nothing.
    await slack.submit(
        "rc_form:share_win", {"text": "Forged"}, metadata=modal["private_metadata"], user="U7"
    )
    await slack.click(edit["action_id"], edit["value"], user="U7")
    answers = await fake_slack.async_wait_for("response_url", 3)
    assert sum(NOT_A_MEMBER in a.params["text"] for a in answers) == 2
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
