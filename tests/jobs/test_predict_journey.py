"""Predict, then find out — over real HTTP on both databases: a morning card's "Reached out",
the one-tap prediction, ``reached <name>``, the follow-up, the log form with a response,
outcomes and a next step, the evidence numbers, and the next step's reminder on the right
local morning."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from jobs.runner import NudgeRunner
from storage.models import ContactRow, NextStepRow, OutreachRow
from tests.fakes import slack_requests as sr
from tests.fakes.slack_api import FakeSlack
from tests.jobs.conftest import at
from tests.jobs.test_nudge_buttons import button, nudge_for, text_of
from tests.support import Clock, SlackClient

NY = "America/New_York"
#: 08:30 in New York (UTC-5 in December).
TUESDAY = at(2026, 12, 1, 13, 30)
FRIDAY = at(2026, 12, 4, 13, 30)


def response_button(blocks: list[dict], label: str) -> dict:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("type") == "button" and element["text"]["text"] == label:
                return element
    raise AssertionError(f"no button {label!r}")


async def outreach(engine: AsyncEngine) -> dict[str, OutreachRow]:
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(ContactRow.name, OutreachRow).join(
                    ContactRow, ContactRow.id == OutreachRow.contact_id
                )
            )
        ).all()
    return {row[0]: row for row in rows}


async def test_predict_follow_up_log_and_evidence(
    slack: SlackClient,
    runner: NudgeRunner,
    user,
    fake_slack: FakeSlack,
    engine: AsyncEngine,
    clock: Clock,
) -> None:
    clock.now = TUESDAY
    await user("U1", "Dana Whitfield", "Bo Li", tz=NY)
    message = await nudge_for(runner, fake_slack, "U1", TUESDAY)

    # Reached out on the card: the card asks for a guess, one tap, then moves on.
    reached = button(message, "Reached out", "Dana Whitfield")
    await slack.click(reached["action_id"], reached["value"])
    await fake_slack.async_wait_for("chat.update")
    card = fake_slack.messages_to("DU1")[-1]
    assert "how do you expect Dana to respond?" in text_of(card)
    guess = button(card, "No reply", "Dana Whitfield")
    await slack.click(guess["action_id"], guess["value"])
    await fake_slack.async_wait_for("chat.update", 2)
    after = text_of(fake_slack.messages_to("DU1")[-1])
    assert "I'll ask in 3 days how it went" in after and "how do you expect" not in after

    # `reached <name>` works too, with the same question in the reply.
    answer = await slack.command("reached bo")
    assert "Marked *Bo Li* as reached out" in answer.texts()
    brush = response_button(answer.json["blocks"], "Polite brush-off")
    await slack.click(brush["action_id"], brush["value"])
    posted = (await fake_slack.async_wait_for("response_url"))[-1]
    assert "you expect a polite brush-off from Bo" in json.dumps(posted.params)

    rows = await outreach(engine)
    assert (rows["Dana Whitfield"].expected, rows["Bo Li"].expected) == ("no_reply", "brush_off")
    assert all(r.reached_on == date(2026, 12, 1) for r in rows.values())

    # Friday: "Did you hear back?" — Dana did; the log form takes what happened.
    clock.now = FRIDAY
    friday = await nudge_for(runner, fake_slack, "U1", FRIDAY)
    assert "Did you hear back from *Dana Whitfield*?" in text_of(friday)
    yes = button(friday, "Yes — log it", "Dana Whitfield")
    await slack.click(yes["action_id"], yes["value"])
    view = (await fake_slack.async_wait_for("views.open"))[-1].params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert {"response", "outcomes", "next_step", "next_step_due"} <= {
        b.get("block_id") for b in view["blocks"]
    }
    dana_id = rows["Dana Whitfield"].contact_id
    bad = await slack.submit(
        "rc_form:log_conversation",
        {"contact": sr.select(str(dana_id)), "occurred_on": sr.date_picked("2026-12-04"),
         "response": sr.select("glad"), "next_step": "intro to the CFO",
         "next_step_due": sr.date_picked("2026-11-30")},
        metadata=view["private_metadata"],
    )  # fmt: skip
    assert bad.json["response_action"] == "errors" and "next_step_due" in bad.json["errors"]
    good = await slack.submit(
        "rc_form:log_conversation",
        {"contact": sr.select(str(dana_id)), "occurred_on": sr.date_picked("2026-12-04"),
         "note": "coffee", "response": sr.select("glad"),
         "outcomes": {"type": "checkboxes", "selected_options": [
             {"value": "referral"}, {"value": "advice"}]},
         "next_step": "intro to the CFO", "next_step_due": sr.date_picked("2026-12-08")},
        metadata=view["private_metadata"],
    )  # fmt: skip
    assert good.status == 200 and good.body == ""
    await fake_slack.async_wait_for("chat.update", 3)
    # Bo: let it go — no reply.
    drop = button(friday, "Let it go", "Bo Li")
    await slack.click(drop["action_id"], drop["value"])
    await fake_slack.async_wait_for("chat.update", 4)

    rows = await outreach(engine)
    dana, bo = rows["Dana Whitfield"], rows["Bo Li"]
    assert (dana.actual, dana.replied_on) == ("glad", date(2026, 12, 4))
    assert (bo.actual, bo.replied_on) == ("no_reply", None)

    # The evidence, exactly.
    evidence = (await slack.command("stats")).texts()
    assert "You reached out twice and heard back once (50%)." in evidence
    assert "Median time to a reply: 3 days." in evidence
    assert "You expected a cold reception twice; 1 of those people replied warmly." in evidence
    assert "Of 2 settled predictions: 1 better than you expected, 1 worse." in evidence
    assert (
        "People: reached out 2 → replied 1 → talked 1 → advice, intro or referral 1 → "
        "interview 0 → offer 0"
    ) in evidence

    # The Home tab has a short "Fears vs facts" section.
    await slack.event(sr.app_home_opened())
    home = (await fake_slack.async_wait_for("views.publish"))[-1].params["view"]
    home = json.loads(home) if isinstance(home, str) else home
    shown = text_of(home)
    assert "Fears vs facts" in shown
    assert "You expected a cold reception twice; 1 of those people replied warmly." in shown

    # The next step comes up on the morning it is due in New York, not before.
    monday_at = at(2026, 12, 7, 13, 30)
    clock.now = monday_at
    monday = text_of(await nudge_for(runner, fake_slack, "U1", monday_at))
    assert "Next step with" not in monday
    late_monday_utc = at(2026, 12, 8, 4, 0)  # Tuesday in London, still Monday in New York
    await runner.run_once(late_monday_utc)
    assert "Next step with" not in text_of(fake_slack.messages_to("DU1")[-1])
    tuesday_at = at(2026, 12, 8, 13, 30)
    clock.now = tuesday_at
    tuesday = await nudge_for(runner, fake_slack, "U1", tuesday_at)
    assert "Next step with *Dana Whitfield* (due today): “intro to the CFO”" in text_of(tuesday)
    done = button(tuesday, "Done", "Dana Whitfield")
    await slack.click(done["action_id"], done["value"])
    await fake_slack.async_wait_for("chat.update", 5)
    assert "✓ Done: *Dana Whitfield* — intro to the CFO" in text_of(
        fake_slack.messages_to("DU1")[-1]
    )
    async with engine.connect() as connection:
        step = (await connection.execute(select(NextStepRow))).one()
    assert (step.status, step.due_on) == ("done", date(2026, 12, 8))


async def test_forged_predictions_change_nothing(
    slack: SlackClient,
    runner: NudgeRunner,
    user,
    fake_slack: FakeSlack,
    engine: AsyncEngine,
    clock: Clock,
) -> None:
    clock.now = TUESDAY
    await user("U1", "Dana Whitfield", tz=NY)
    await user("U2", "Bo Li", tz=NY)
    answer = await slack.command("reached dana")
    glad = response_button(answer.json["blocks"], "Glad to hear from me")
    outreach_id = glad["value"].split(":")[0]
    # Another user's outreach, an answer off the scale, a value that is no id at all.
    await slack.click(glad["action_id"], glad["value"], user="U2")
    await slack.click(glad["action_id"], f"{outreach_id}:ecstatic")
    await slack.click(glad["action_id"], "x:glad")
    posted = await fake_slack.async_wait_for("response_url", 3)
    texts = [json.dumps(p.params) for p in posted]  # answered after the ack: in any order
    assert sum("expired" in t for t in texts) == 2
    assert sum("isn't one of the choices" in t for t in texts) == 1
    rows = await outreach(engine)
    assert rows["Dana Whitfield"].expected is None
