"""``python -m jobs run-once --kind buddies`` as real processes on both databases: the dry run
prints every pair with its intro's full text; a pass killed with SIGKILL mid-send, then two
clocks at once, introduce every pair exactly once."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.groups.levels import SharingLevel
from bot.core.model import UserRef
from storage.buddy_runs import BUDDIES
from storage.groups import SqlGroups
from storage.models import GroupPost
from tests.fakes.slack_api import FakeSlack, iter_texts
from tests.jobs.process_helpers import RUN_TIMEOUT, Job, job_env, kill_all, release, wait_until

AT = "2026-11-30T09:10:00+00:00"  # Monday, the default theme time 09:00 UTC (+10 min)
PEOPLE = [f"U{n}" for n in range(1, 7)]  # six opted in: three pairs
LINE = re.compile(r"groups due (\d+) · intros sent (\d+)")


async def cohort(engine: AsyncEngine, fake: FakeSlack) -> None:
    groups = SqlGroups(engine)
    group, _ = await groups.create("C1", "Spring cohort", UserRef("slack", "T1", "UCOACH"))
    for n, user_id in enumerate(PEOPLE, start=1):
        fake.users[user_id] = {"real_name": f"Member {n}", "profile": {}}
        user = UserRef("slack", "T1", user_id)
        await groups.join(group.id, user, SharingLevel.NUMBERS)
        await groups.set_buddies(group.id, user, True)


def buddies(database_url: URL, fake: FakeSlack, *extra: str, gate: Path | None = None) -> Job:
    args = ["run-once", "--kind", "buddies", "--at", AT, *extra]
    return Job(args, job_env(database_url, fake), gate=gate)


def output(job: Job) -> str:
    job.stdout, job.stderr = job.process.communicate(timeout=RUN_TIMEOUT)
    assert job.process.returncode == 0, f"{job.stdout}\n{job.stderr}"
    return job.stdout


def intros_by_dm(fake: FakeSlack) -> dict[str, int]:
    return {channel: len(fake.messages_to(channel)) for channel in fake.group_dms}


async def test_the_dry_run_prints_each_pair_with_its_full_intro(
    database_url: URL, engine: AsyncEngine, fake_slack: FakeSlack
) -> None:
    await cohort(engine, fake_slack)
    printed = output(buddies(database_url, fake_slack, "--dry-run"))
    assert "dry run: groups due 1 · intros sent 0" in printed
    assert printed.count("--- would introduce: slack group") == 3
    assert printed.count("you're practice buddies this week in Spring cohort.") == 3
    assert printed.count("One thing to try together this week") == 3
    assert "group buddies off" in printed
    assert not fake_slack.calls_to("chat.postMessage") and not fake_slack.group_dms
    async with engine.connect() as connection:
        assert (await connection.execute(select(GroupPost))).first() is None


async def test_killed_mid_send_then_two_clocks_introduce_each_pair_exactly_once(
    database_url: URL, engine: AsyncEngine, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    await cohort(engine, fake_slack)
    # The second intro reaches Slack, but its answer never comes back: kill -9 then.
    fake_slack.hold_answers("chat.postMessage", from_call=2)
    first = buddies(database_url, fake_slack)
    jobs = [first]
    try:
        wait_until(
            lambda: len(fake_slack.calls_to("chat.postMessage")) >= 2 or not first.alive(),
            RUN_TIMEOUT,
            "the second intro",
        )
        assert first.alive(), first.process.communicate()
        first.kill()
        fake_slack.release_answers()
        assert sorted(intros_by_dm(fake_slack).values()) == [1, 1]  # the third not yet opened
        gate = tmp_path / "gate"
        jobs = [buddies(database_url, fake_slack, gate=gate) for _ in range(2)]
        release(jobs, gate)
        printed = [output(job) for job in jobs]
    finally:
        kill_all(jobs)
    sent = sum(int(m.group(2)) for text in printed if (m := LINE.search(text)))
    assert sent == 1, printed  # only the third; the second was found in its group DM
    assert sorted(intros_by_dm(fake_slack).values()) == [1, 1, 1]
    for channel in fake_slack.group_dms:
        [intro] = fake_slack.messages_to(channel)
        assert "practice buddies this week" in "\n".join(iter_texts(intro["blocks"]))
    async with engine.connect() as connection:
        [status] = (
            await connection.execute(select(GroupPost.status).where(GroupPost.kind == BUDDIES))
        ).scalars()
    assert status == "sent"
