"""The nudge scheduler as real processes: killed mid-run, run twice at once, and against a
Slack that rate-limits and fails — on SQLite and PostgreSQL.

Each test seeds users through the real service, starts ``python -m jobs run-once`` with the
database and the fake Slack in its environment, and checks what reached Slack (the fake records
a message when the request *arrives*, as Slack does, even if the sender dies before the answer)
and what the processes left in the database. Helpers: ``tests/jobs/process_helpers.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.slack.messenger import SlackMessenger
from bot.core.model import UserRef
from bot.core.replies import message
from storage.models import User
from storage.nudges import AttemptOutcome, AttemptStart, NudgeStore
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack
from tests.jobs.process_helpers import (
    START_TIMEOUT,
    Job,
    Summary,
    attempt_outcomes,
    kill_all,
    nudges_by_user,
    open_attempts,
    prestart,
    release,
    run_once,
    run_together,
    statuses,
    wait_until,
)

USERS = 60
#: 08:30 UTC on Tuesday 2026-12-01: every seeded user (UTC, 08:30, weekdays) is due.
AT = "2026-12-01T08:30:00+00:00"
#: A few minutes later, well within the 3 h grace: a restarted scheduler's next tick.
LATER = "2026-12-01T08:37:00+00:00"

NAMES = ("Dana Whitfield", "Priya Raman", "Marcus Chen", "Bo Li", "Cy Park", "Di Ross")

MakeUser = Callable[..., Awaitable[object]]


async def seed(user: MakeUser, count: int = USERS, **kwargs: object) -> list[str]:
    """Users ``U0`` … with one to three contacts each, all due at :data:`AT`."""
    ids = []
    for i in range(count):
        contacts = [NAMES[(i + k) % len(NAMES)] for k in range(1 + i % 3)]
        await user(f"U{i}", *contacts, **kwargs)
        ids.append(f"U{i}")
    return ids


def posts(fake: FakeSlack) -> int:
    return len(fake.calls_to("chat.postMessage"))


def consistent(summary: Summary) -> None:
    """The summary's numbers add up."""
    assert summary.skipped == summary.already + summary.busy
    assert summary.due == (
        summary.sent + summary.skipped + summary.failed + summary.undeliverable
    ), summary


async def each_got_exactly_one(engine: AsyncEngine, fake: FakeSlack, users: list[str]) -> None:
    """Every user has exactly one message in Slack, and their nudge is recorded as sent with
    that very message's id."""
    counts = {uid: len(fake.messages_to(f"D{uid}")) for uid in users}
    assert {uid: n for uid, n in counts.items() if n != 1} == {}, "missing or duplicate nudges"
    recorded = await nudges_by_user(engine)
    for uid in users:
        [posted] = fake.messages_to(f"D{uid}")
        assert recorded.get(uid) == ("sent", posted["ts"]), uid


# --- 1. kill -9 in the middle of a pass, twice ----------------------------------------------


def kill_after_posts(job: Job, fake: FakeSlack, more: int) -> int:
    """SIGKILL ``job`` as soon as the fake has received ``more`` posts beyond those it has now;
    the fake holds back the answer to the last of them (and to any later one), so they are
    still waiting for it when the process dies, however slow the machine. Returns the posts
    seen by then."""
    target = posts(fake) + more
    fake.hold_answers("chat.postMessage", from_call=target)
    try:
        wait_until(
            lambda: posts(fake) >= target or not job.alive(),
            START_TIMEOUT,
            f"{target} posts",
        )
        assert job.alive(), (
            f"run-once ended before it could be killed:\n{job.process.communicate()}"
        )
        job.kill()
    finally:
        fake.release_answers()
    # The process is gone; wait until the fake has read (and recorded) whatever it had sent.
    fake.wait_until_idle()
    seen = posts(fake)
    assert target <= seen < USERS, "the kill did not land mid-pass"
    return seen


async def in_doubt_and_delivered(engine: AsyncEngine, fake: FakeSlack, job: Job) -> set[str]:
    """Users whose nudge the killed ``job`` left with an open attempt although Slack has the
    message: exactly the sends the next scheduler must not repeat."""
    delivered = {f"U{i}" for i in range(USERS) if fake.messages_to(f"DU{i}")}
    return await open_attempts(engine, job.pid) & delivered


async def test_kill_9_mid_pass_then_restart_sends_each_nudge_exactly_once(
    database_url: URL, engine: AsyncEngine, user: MakeUser, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """First pass killed after 5 posts; the pass that takes over killed after 15 more; then two
    schedulers at once finish the job. Every user ends with exactly one message."""
    users = await seed(user)
    fake_slack.latency = 0.05  # a send takes a while, so some are in flight when we kill
    gate, final_gate = tmp_path / "restart", tmp_path / "final"
    jobs: list[Job] = []
    try:
        first = run_once(database_url, fake_slack, AT)
        jobs.append(first)
        # Start the later schedulers now (they wait at a gate), to overlap their start-up.
        [restart] = prestart(database_url, fake_slack, LATER, 1, gate)
        jobs.append(restart)
        finals = prestart(database_url, fake_slack, LATER, 2, final_gate)
        jobs += finals

        kill_after_posts(first, fake_slack, 5)
        assert await in_doubt_and_delivered(engine, fake_slack, first), (
            "no send was in doubt: the kill missed the window"
        )
        after_first = await statuses(engine)
        assert sum(after_first.values()) == USERS  # everyone was claimed before the kill
        assert after_first.get("sent", 0) < USERS

        release([restart], gate)  # takes the dead worker's claims over
        kill_after_posts(restart, fake_slack, 15)
        assert await in_doubt_and_delivered(engine, fake_slack, restart)
        after_restart = await statuses(engine)
        assert after_restart.get("sent", 0) < USERS

        release(finals, final_gate)
        summaries = [job.finish()[1] for job in finals]
    finally:
        kill_all(jobs)

    await each_got_exactly_one(engine, fake_slack, users)
    assert posts(fake_slack) == USERS  # not one message posted twice
    assert await statuses(engine) == {"sent": USERS}
    for summary in summaries:
        consistent(summary)
        assert summary.due == USERS
        assert (summary.failed, summary.undeliverable) == (0, 0)
        assert summary.already >= after_restart.get("sent", 0)
    assert sum(s.sent for s in summaries) == USERS - after_restart.get("sent", 0)


# --- 2. two schedulers at the same instant ---------------------------------------------------


async def test_two_run_once_processes_at_the_same_time_send_each_nudge_once(
    database_url: URL, engine: AsyncEngine, user: MakeUser, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    users = await seed(user)
    fake_slack.latency = 0.02
    jobs: list[Job] = []
    try:
        jobs = run_together(database_url, fake_slack, AT, 2, tmp_path / "gate")
        summaries = [job.finish()[1] for job in jobs]
    finally:
        kill_all(jobs)

    await each_got_exactly_one(engine, fake_slack, users)
    assert posts(fake_slack) == USERS
    assert await statuses(engine) == {"sent": USERS}
    assert sum(s.sent for s in summaries) == USERS
    for summary in summaries:
        consistent(summary)
        assert summary.due == USERS
        assert summary.sent + summary.skipped == USERS
        assert (summary.failed, summary.undeliverable) == (0, 0)


# --- 3 and 4. rate limits, server errors, refusals; exit code and summary ----------------------


async def test_429s_500s_and_refusals_and_the_summary_matches_the_database(
    database_url: URL, engine: AsyncEngine, user: MakeUser, fake_slack: FakeSlack
) -> None:
    users = await seed(user)
    for i in range(USERS, USERS + 5):  # 08:30 in New York is 13:30 UTC: not due at AT
        await user(f"U{i}", "Dana Whitfield", tz="America/New_York")
    # Slack refuses two users for good (planned first, so these always win)…
    # (A first nudge is posted to the user id: Slack opens the DM itself.)
    fake_slack.fail("chat.postMessage", error="user_not_found", status=200,
                    match={"channel": "U3"}, times=99)  # fmt: skip
    fake_slack.fail("chat.postMessage", error="cannot_dm_bot", status=200,
                    match={"channel": "U4"}, times=99)  # fmt: skip
    # …rate-limits three posts, then fails the next ten.
    fake_slack.fail("chat.postMessage", status=429, retry_after=1, times=3)
    fake_slack.fail("chat.postMessage", status=500, times=10)

    job = run_once(database_url, fake_slack, AT, NUDGE_CONCURRENCY="20")
    try:
        code, summary = job.finish()
    finally:
        kill_all([job])

    assert code == 0
    assert job.stdout.count("\n") == 1  # the summary line, and nothing else, on stdout
    db = await statuses(engine)
    assert db == {"sent": USERS - 2, "undeliverable": 2}
    assert summary == Summary(
        due=USERS, sent=db["sent"], skipped=0, already=0, busy=0, failed=0,
        undeliverable=db["undeliverable"],
    )  # fmt: skip
    async with engine.connect() as connection:
        rows = await connection.execute(select(User.external_id, User.undeliverable))
        marked = {uid: why for uid, why in rows if why}
    assert marked == {"U3": "user_not_found", "U4": "cannot_dm_bot"}

    reachable = [u for u in users if u not in marked]
    await each_got_exactly_one(engine, fake_slack, reachable)
    assert await attempt_outcomes(engine) == {
        "ratelimited": 3,
        "transient": 10,
        "permanent": 2,
        "sent": USERS - 2,
    }
    calls = fake_slack.calls_to("chat.postMessage")
    assert len(calls) == (USERS - 2) + 13 + 2  # no retry of a refusal
    # Retry-After was honoured: each rate-limited channel was tried again a second later.
    limited = [c for c in calls if c.params["channel"] not in ("U3", "U4")][:3]
    for call in limited:
        channel = call.params["channel"]
        retry = next(c for c in calls if c.at > call.at and c.params["channel"] == channel)
        assert retry.at - call.at >= 0.95, channel
    # After each 500 the runner looked for the message before posting it again.
    assert len(fake_slack.calls_to("conversations.history")) >= 10


# --- 5. a crash after a transient error whose request did reach Slack ------------------------


async def test_a_crash_after_a_timed_out_post_does_not_send_it_again(
    database_url: URL, engine: AsyncEngine, user: MakeUser, fake_slack: FakeSlack
) -> None:
    """A worker's post reached Slack but the answer never came (a timeout: "transient"); the
    worker recorded that attempt, then died in its back-off before looking for the message.
    Whoever takes the nudge over must look before posting again."""
    await seed(user, 1)
    async with engine.connect() as connection:
        uid = (await connection.execute(select(User.id))).scalar_one()
    store = NudgeStore(engine)
    dead = "elsewhere:99999:dead"
    claimed = datetime.now(UTC) - timedelta(minutes=2)
    [nudge_id] = (await store.claim([(uid, date(2026, 12, 1))], dead, claimed)).values()
    await store.start_attempts([AttemptStart(nudge_id, 1, dead, claimed, "")])
    messenger = SlackMessenger(
        AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.api_url, retry_handlers=[])
    )
    channel = await messenger.open_channel(UserRef("slack", "T1", "U0"))
    await messenger.post(channel, message("the nudge"), f"reconnect-nudge-{nudge_id}")
    await messenger.close()
    await store.record_outcomes([AttemptOutcome(nudge_id, uid, 1, "transient", "TimeoutError")])
    await store.heartbeat(dead, "elsewhere", 99999, claimed - timedelta(hours=1))

    job = run_once(database_url, fake_slack, LATER)
    try:
        _, summary = job.finish()
    finally:
        kill_all([job])
    assert summary.sent == 1
    assert len(fake_slack.messages_to("DU0")) == 1
