"""The nudge runner end to end on SQLite and PostgreSQL, against the fake Slack over HTTP."""

from __future__ import annotations

import asyncio
from datetime import date, time, timedelta

from sqlalchemy import select

from bot.core.nudges import NudgeContent
from jobs.runner import NudgeConfig, NudgeRunner
from storage.models import DeliveryAttempt, Nudge, PromptView, User
from storage.nudges import AttemptStart, NudgeStore
from tests.fakes.slack_api import FakeSlack, iter_texts
from tests.jobs.conftest import FAST, at

# 2026-12-01 is a Tuesday.


def texts(message: dict) -> str:
    return "\n".join([message.get("text") or "", *iter_texts(message.get("blocks") or [])])


async def rows(engine, model, *where):
    async with engine.connect() as connection:
        return (await connection.execute(select(model).where(*where))).all()


async def test_each_user_gets_their_nudge_at_their_local_time(
    runner: NudgeRunner, user, fake_slack: FakeSlack
) -> None:
    await user("ULON", "Dana Whitfield -- loves sailing", tz="Europe/London")
    await user("UKOL", "Priya Raman", tz="Asia/Kolkata")
    await user("UNYC", "Marcus Chen", tz="America/New_York")
    first = await runner.run_once(at(2026, 12, 1, 3, 0))  # 08:30 in Kolkata
    assert (first.due, first.sent) == (1, 1)
    assert fake_slack.messages_to("DUKOL") and not fake_slack.messages_to("DULON")
    second = await runner.run_once(at(2026, 12, 1, 8, 30))  # 08:30 in London (GMT)
    assert (second.due, second.sent) == (1, 1)  # Kolkata is past its 3 h grace by now
    third = await runner.run_once(at(2026, 12, 1, 13, 31))  # 08:31 in New York (EST)
    assert (third.due, third.sent) == (1, 1)
    for channel in ("DULON", "DUKOL", "DUNYC"):
        assert len(fake_slack.messages_to(channel)) == 1


async def test_the_summary_times_each_phase_of_a_pass(runner: NudgeRunner, user) -> None:
    await user("U1", "Dana Whitfield")
    summary = await runner.run_once(at(2026, 12, 1, 8, 30))
    assert list(summary.phases) == ["plan", "compose", "deliver"]
    plan, compose, deliver = summary.phases.values()
    # The pass streams: a page is planned, then composed, then sent while the next page is
    # planned; sending ends last.
    assert plan.started <= compose.started <= deliver.started
    assert max(plan.ended, compose.ended) <= deliver.ended
    assert all(p.wall_s >= 0 and p.cpu_s >= 0 and p.peak_rss_mb > 0 for p in (plan, deliver))
    idle = await runner.run_once(at(2026, 12, 1, 8, 30))  # already sent: nothing to compose
    assert list(idle.phases) == ["plan"]


async def test_the_nudge_has_a_prompt_and_ranked_cards_with_reasons(
    runner: NudgeRunner, user, fake_slack: FakeSlack
) -> None:
    await user("U1", "Dana Whitfield -- just promoted to COO; loves sailing", "Bo Li", "Cy Park",
               "Di Ross", cards=3)  # fmt: skip
    await runner.run_once(at(2026, 12, 1, 8, 30))
    [message] = fake_slack.messages_to("DU1")
    body = texts(message)
    assert "Good morning — Tuesday" in body
    assert "💡" in body  # the hurdle the prompt addresses
    buttons = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    labels = {e["text"]["text"] for e in buttons}
    assert {"Reached out", "Log conversation", "Draft an opener", "Snooze a week",
            "Snooze a month", "Not this one"} <= labels  # fmt: skip
    assert sum(1 for e in buttons if e["text"]["text"] == "Reached out") == 3
    assert "Dana Whitfield" in body  # what we know makes her the best first card
    assert "just promoted to COO" in body
    assert message["metadata"]["event_type"] == "reconnect_nudge"


async def test_exactly_once_per_day_however_often_the_pass_runs(
    runner: NudgeRunner, user, fake_slack: FakeSlack, nudge_store: NudgeStore
) -> None:
    await user("U1", "Dana")
    for minute in range(0, 180, 20):
        await runner.run_once(at(2026, 12, 1, 8, 30) + timedelta(minutes=minute))
    assert len(fake_slack.messages_to("DU1")) == 1
    assert await nudge_store.counts_by_status() == {"sent": 1}
    await runner.run_once(at(2026, 12, 2, 8, 30))  # the next day: a new nudge
    assert len(fake_slack.messages_to("DU1")) == 2


async def test_catch_up_within_grace_but_never_a_stale_day(
    runner: NudgeRunner, user, fake_slack: FakeSlack
) -> None:
    await user("U1", "Dana")
    late = await runner.run_once(at(2026, 12, 1, 11, 29))  # 2 h 59 after 08:30
    assert late.sent == 1
    await user("U2", "Bo")
    too_late = await runner.run_once(at(2026, 12, 1, 11, 31))
    assert too_late.due == 0 and not fake_slack.messages_to("DU2")
    next_day_early = await runner.run_once(at(2026, 12, 2, 8, 0))  # yesterday's is not sent now
    assert next_day_early.due == 0 and not fake_slack.messages_to("DU2")


async def test_grace_is_configurable(make_runner, user, fake_slack: FakeSlack) -> None:
    await user("U1", "Dana")
    runner = make_runner(config=NudgeConfig(grace=timedelta(hours=6), backoff_base=0.01))
    assert (await runner.run_once(at(2026, 12, 1, 14, 0))).sent == 1


async def test_weekends_and_pauses_are_respected(
    runner: NudgeRunner, user, service, fake_slack: FakeSlack
) -> None:
    caller = await user("U1", "Dana")
    assert (await runner.run_once(at(2026, 12, 5, 8, 30))).due == 0  # Saturday
    await service.command(caller, "pause until 2026-12-03")
    assert (await runner.run_once(at(2026, 12, 2, 8, 30))).due == 0
    assert (await runner.run_once(at(2026, 12, 3, 8, 30))).sent == 1  # back that morning
    await service.command(caller, "pause")
    assert (await runner.run_once(at(2026, 12, 4, 8, 30))).due == 0
    await service.command(caller, "resume")
    assert (await runner.run_once(at(2026, 12, 7, 8, 30))).sent == 1


async def test_dst_change_keeps_the_local_time(
    runner: NudgeRunner, user, fake_slack: FakeSlack
) -> None:
    """New York leaves EDT on 1 Nov 2026: 08:30 is 12:30 UTC on Friday, 13:30 on Monday."""
    await user("U1", "Dana", tz="America/New_York")
    assert (await runner.run_once(at(2026, 10, 30, 12, 30))).sent == 1
    assert (await runner.run_once(at(2026, 11, 2, 12, 30))).due == 0  # 07:30 local now
    assert (await runner.run_once(at(2026, 11, 2, 13, 30))).sent == 1


async def test_a_user_with_no_contacts_gets_the_welcome(
    runner: NudgeRunner, user, fake_slack: FakeSlack
) -> None:
    await user("U1")
    await runner.run_once(at(2026, 12, 1, 8, 30))
    [message] = fake_slack.messages_to("DU1")
    assert "three people" in texts(message) and "Add a contact" in texts(message)


async def test_rate_limits_are_waited_out_and_every_attempt_is_recorded(
    runner: NudgeRunner, user, fake_slack: FakeSlack, engine
) -> None:
    await user("U1", "Dana")
    fake_slack.fail("chat.postMessage", status=429, retry_after=1, times=2)
    summary = await runner.run_once(at(2026, 12, 1, 8, 30))
    assert summary.sent == 1
    posts = fake_slack.calls_to("chat.postMessage")
    assert len(posts) == 3 and posts[1].at - posts[0].at >= 0.95
    assert len(fake_slack.messages_to("DU1")) == 1
    outcomes = [r.outcome for r in await rows(engine, DeliveryAttempt)]
    assert sorted(outcomes) == ["ratelimited", "ratelimited", "sent"]


async def test_server_errors_are_retried_without_duplicates(
    runner: NudgeRunner, user, fake_slack: FakeSlack
) -> None:
    for uid in ("U1", "U2", "U3"):
        await user(uid, "Dana")
    fake_slack.fail("chat.postMessage", status=500, times=4)
    fake_slack.fail("conversations.open", status=503, times=2)
    summary = await runner.run_once(at(2026, 12, 1, 8, 30))
    assert summary.sent == 3
    for uid in ("U1", "U2", "U3"):
        assert len(fake_slack.messages_to(f"D{uid}")) == 1


async def test_permanent_errors_mark_the_user_and_do_not_hold_up_others(
    runner: NudgeRunner, user, fake_slack: FakeSlack, engine
) -> None:
    await user("UGONE", "Dana")
    await user("UBOT", "Bo")
    await user("U1", "Cy")
    fake_slack.fail("chat.postMessage", error="user_not_found", status=200,
                    match={"channel": "UGONE"}, times=99)  # fmt: skip
    fake_slack.fail("chat.postMessage", error="cannot_dm_bot", status=200,
                    match={"channel": "UBOT"}, times=99)  # fmt: skip
    summary = await runner.run_once(at(2026, 12, 1, 8, 30))
    assert (summary.sent, summary.undeliverable) == (1, 2)
    marked = {r.external_id: r.undeliverable for r in await rows(engine, User)}
    assert marked == {"UGONE": "user_not_found", "UBOT": "cannot_dm_bot", "U1": None}
    # One post each: a permanent error is not retried.
    assert len(fake_slack.calls_to("chat.postMessage")) == 3
    again = await runner.run_once(at(2026, 12, 2, 8, 30))
    assert again.due == 1  # the marked users are not tried again


async def test_dm_channels_are_cached(runner: NudgeRunner, user, fake_slack: FakeSlack) -> None:
    await user("U1", "Dana")
    await runner.run_once(at(2026, 12, 1, 8, 30))
    await runner.run_once(at(2026, 12, 2, 8, 30))
    # The first nudge went to the user id (no conversations.open, a Tier 3 method); Slack's
    # answer named the DM, which the second one used.
    assert fake_slack.calls_to("conversations.open") == []
    assert [c.params["channel"] for c in fake_slack.calls_to("chat.postMessage")] == ["U1", "DU1"]
    assert len(fake_slack.messages_to("DU1")) == 2


async def test_a_cached_dm_channel_that_went_away_is_replaced(
    runner: NudgeRunner, user, fake_slack: FakeSlack, nudge_store: NudgeStore, engine
) -> None:
    await user("U1", "Dana")
    [me] = await rows(engine, User)
    await nudge_store.set_dm_channels({me.id: "DGONE"})
    fake_slack.fail("chat.postMessage", error="channel_not_found", status=200,
                    match={"channel": "DGONE"}, times=99)  # fmt: skip
    summary = await runner.run_once(at(2026, 12, 1, 8, 30))
    assert summary.sent == 1
    assert [c.params["channel"] for c in fake_slack.calls_to("chat.postMessage")] == ["DGONE", "U1"]
    assert len(fake_slack.messages_to("DU1")) == 1
    [me] = await rows(engine, User)
    assert me.dm_channel == "DU1" and me.undeliverable is None


async def test_two_runners_at_once_send_each_nudge_once(
    make_runner, user, fake_slack: FakeSlack, nudge_store: NudgeStore
) -> None:
    for i in range(12):
        await user(f"U{i}", "Dana", "Bo")
    fake_slack.latency = 0.02
    one, two = make_runner(), make_runner()
    first, second = await asyncio.gather(
        one.run_once(at(2026, 12, 1, 8, 30)), two.run_once(at(2026, 12, 1, 8, 30))
    )
    assert first.sent + second.sent == 12
    for i in range(12):
        assert len(fake_slack.messages_to(f"DU{i}")) == 1
    assert await nudge_store.counts_by_status() == {"sent": 12}


async def test_an_in_doubt_send_is_found_not_repeated(
    runner: NudgeRunner, user, fake_slack: FakeSlack, nudge_store: NudgeStore, engine
) -> None:
    """A worker died after Slack took the message but before recording it."""
    await user("U1", "Dana")
    dead = "elsewhere:99999:dead"
    claimed = runner.wall() - timedelta(minutes=5)
    won = await nudge_store.claim([(1, date(2026, 12, 1))], dead, claimed)
    [(uid, nudge_id)] = won.items()
    await nudge_store.start_attempts([AttemptStart(nudge_id, 1, dead, claimed, "")])
    posted = await runner.messengers["slack"].post(
        await runner.messengers["slack"].open_channel(await _user_ref(engine, uid)),
        _reply("the message the dead worker sent"), f"reconnect-nudge-{nudge_id}",
    )  # fmt: skip
    # The dead worker's heartbeat is long stale.
    await nudge_store.heartbeat(dead, "elsewhere", 99999, claimed - timedelta(hours=1))
    summary = await runner.run_once(at(2026, 12, 1, 8, 35))
    assert summary.sent == 1
    assert len(fake_slack.messages_to("DU1")) == 1
    [nudge] = await rows(engine, Nudge)
    assert (nudge.status, nudge.message_id) == ("sent", posted.message_id)


async def test_a_live_workers_claim_is_left_alone(
    runner: NudgeRunner, user, fake_slack: FakeSlack, nudge_store: NudgeStore
) -> None:
    await user("U1", "Dana")
    other = "elsewhere:1:alive"
    now = at(2026, 12, 1, 8, 30)
    await nudge_store.heartbeat(other, "elsewhere", 1, runner.wall())
    await nudge_store.claim([(1, date(2026, 12, 1))], other, runner.wall())
    summary = await runner.run_once(now)
    assert (summary.due, summary.busy, summary.sent) == (1, 1, 0)
    assert fake_slack.messages_to("DU1") == []


async def test_prompts_rotate_and_are_counted(
    runner: NudgeRunner, user, fake_slack: FakeSlack, engine
) -> None:
    await user("U1", "Dana", days=0b1111111)
    seen = []
    for day in range(1, 15):
        await runner.run_once(at(2026, 12, day, 8, 30))
    for row in sorted(await rows(engine, Nudge), key=lambda r: r.local_date):
        seen.append(NudgeContent.from_json(row.content).prompt_id)
    assert len(seen) == 14
    views = {r.prompt_id: r.count for r in await rows(engine, PromptView)}
    assert sum(views.values()) == 14
    # Never the same prompt again before the rest of its hurdle was shown (7 per hurdle).
    by_hurdle: dict[str, list[str]] = {}
    for prompt_id in seen:
        by_hurdle.setdefault(prompt_id.rsplit("-", 1)[0], []).append(prompt_id)
    for shown in by_hurdle.values():
        assert len(set(shown[:7])) == len(shown[:7])


async def test_dry_run_sends_nothing_and_claims_nothing(
    runner: NudgeRunner, user, fake_slack: FakeSlack, nudge_store: NudgeStore
) -> None:
    await user("U1", "Dana Whitfield")
    summary = await runner.run_once(at(2026, 12, 1, 8, 30), dry_run=True)
    assert summary.due == 1 and summary.sent == 0
    assert "Dana Whitfield" in summary.previews[0]
    assert fake_slack.calls_to("chat.postMessage") == []
    assert await nudge_store.counts_by_status() == {}


async def _user_ref(engine, uid: int):
    from bot.core.model import UserRef

    [row] = await rows(engine, User, User.id == uid)
    return UserRef(row.platform, row.workspace_id, row.external_id)


def _reply(text: str):
    from bot.core.replies import message

    return message(text)


_ = time


async def test_a_long_run_of_429s_is_waited_out_not_given_up(
    runner: NudgeRunner, user, fake_slack: FakeSlack, nudge_store: NudgeStore
) -> None:
    """429s are waits, not failures: more of them than max_attempts still ends in one send."""
    await user("U1", "Dana")
    fake_slack.fail("chat.postMessage", status=429, retry_after=0, times=FAST.max_attempts + 1)
    summary = await runner.run_once(at(2026, 12, 1, 8, 30))
    assert summary.sent == 1
    assert len(fake_slack.messages_to("DU1")) == 1
    assert await nudge_store.counts_by_status() == {"sent": 1}


async def test_the_pass_reads_without_holding_up_writers(
    nudge_store: NudgeStore, user, engine
) -> None:
    """A button click must not wait for the morning pass's reads (on SQLite they used to take
    the write lock; the timeout there is 30 s, so a writer held up by the reads would wait at
    least that long: the bound below is far from it, and generous for a busy machine)."""
    await user("U1", "Dana")
    async with nudge_store._reading() as reading:
        await reading.execute(select(User.id))
        await asyncio.wait_for(user("U2", "Bo"), timeout=20)
    assert len(await rows(engine, User)) == 2
