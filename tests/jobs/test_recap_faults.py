"""The weekly recap pass as real processes (``python -m jobs run-once --kind recap``): killed
mid-run and restarted, and two at the same instant — each user gets exactly one recap, on
SQLite and PostgreSQL. The same machinery as the morning nudge (tests/jobs/test_faults.py,
whose helpers these tests reuse), for nudges of kind "recap"."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Nudge
from tests.fakes.slack_api import FakeSlack, iter_texts
from tests.jobs.process_helpers import Job, job_env, kill_all, release, statuses
from tests.jobs.test_faults import (
    USERS,
    MakeUser,
    consistent,
    each_got_exactly_one,
    in_doubt_and_delivered,
    kill_after_posts,
    posts,
    seed,
)

#: Friday 4 Dec 2026, 16:00 UTC: every seeded user (UTC, default recap settings) is due.
AT = "2026-12-04T16:00:00+00:00"
LATER = "2026-12-04T16:07:00+00:00"


def recap_job(database_url: URL, fake: FakeSlack, at: str, gate: Path | None = None) -> Job:
    """``python -m jobs run-once --at <at> --kind recap`` (held at ``gate``, if given)."""
    args = ["run-once", "--at", at, "--kind", "recap"]
    return Job(args, job_env(database_url, fake), gate=gate)


async def kinds(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set((await connection.execute(select(Nudge.kind))).scalars())


async def test_kill_9_mid_recap_pass_then_two_clocks_send_each_recap_exactly_once(
    database_url: URL, engine: AsyncEngine, user: MakeUser, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    users = await seed(user)
    fake_slack.latency = 0.05  # a send takes a while, so some are in flight when we kill
    gate = tmp_path / "final"
    jobs: list[Job] = []
    try:
        first = recap_job(database_url, fake_slack, AT)
        jobs.append(first)
        finals = [recap_job(database_url, fake_slack, LATER, gate) for _ in range(2)]
        jobs += finals
        kill_after_posts(first, fake_slack, 7)
        assert await in_doubt_and_delivered(engine, fake_slack, first), (
            "no send was in doubt: the kill missed the window"
        )
        after_kill = await statuses(engine)
        assert sum(after_kill.values()) == USERS
        release(finals, gate)  # two clocks take the dead worker's claims over together
        summaries = [job.finish()[1] for job in finals]
    finally:
        kill_all(jobs)

    await each_got_exactly_one(engine, fake_slack, users)
    assert posts(fake_slack) == USERS
    assert await statuses(engine) == {"sent": USERS}
    assert await kinds(engine) == {"recap"}
    for summary in summaries:
        consistent(summary)
        assert summary.due == USERS
        assert (summary.failed, summary.undeliverable) == (0, 0)
    assert sum(s.sent for s in summaries) == USERS - after_kill.get("sent", 0)
    [one] = fake_slack.messages_to("DU0")
    assert "A quiet week" in "\n".join(iter_texts(one["blocks"]))


async def test_a_dry_run_process_prints_the_recaps_full_text(
    database_url: URL, user: MakeUser, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    await seed(user, 2)
    args = ["run-once", "--at", AT, "--kind", "recap", "--dry-run"]
    job = Job(args, job_env(database_url, fake_slack))
    try:
        _, summary = job.finish()
    finally:
        kill_all([job])
    assert (summary.due, summary.sent) == (2, 0)
    assert "--- would send to slack:T1:U0 ---" in job.stdout
    assert "Your week, 30 Nov – 4 Dec" in job.stdout
    assert "A quiet week — that happens." in job.stdout
    assert "Set a goal of 3 a week" in job.stdout
    assert posts(fake_slack) == 0
    assert await statuses(engine) == {}
