"""The group pass as real processes (``python -m jobs run-once --kind group``): killed with
SIGKILL mid-pass, then two clocks at the same instant — each group gets exactly one theme,
on SQLite and PostgreSQL; and a dry run prints every post with its full text."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.model import UserRef
from storage.models import GroupPost
from tests.fakes.slack_api import FakeSlack
from tests.jobs.group_helpers import make_group
from tests.jobs.process_helpers import Job, job_env, kill_all, release, wait_until
from tests.jobs.test_faults import consistent

#: Monday 30 Nov 2026, 09:05 UTC: every seeded group's theme (UTC, Mondays 09:00) is due.
AT = "2026-11-30T09:05:00+00:00"
LATER = "2026-11-30T09:12:00+00:00"
GROUPS = 80  # more than the pass posts at once (50): some are never tried before the kill
COACH = UserRef("slack", "T1", "UCOACH")


def group_job(
    database_url: URL, fake: FakeSlack, at: str, *more: str, gate: Path | None = None
) -> Job:
    args = ["run-once", "--at", at, "--kind", "group", *more]
    return Job(args, job_env(database_url, fake), gate=gate)


def channel_posts(fake: FakeSlack) -> int:
    return sum(len(fake.messages_to(f"CG{i}")) for i in range(GROUPS))


async def post_rows(engine: AsyncEngine) -> list[tuple[str, str | None, str | None]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(GroupPost.status, GroupPost.error, GroupPost.message_id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_kill_9_mid_group_pass_then_two_clocks_post_each_theme_exactly_once(
    database_url: URL, engine: AsyncEngine, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    for i in range(GROUPS):
        await make_group(engine, f"CG{i}", coach=COACH)
    fake_slack.latency = 0.05
    gate = tmp_path / "final"
    jobs: list[Job] = []
    try:
        first = group_job(database_url, fake_slack, AT)
        jobs.append(first)
        finals = [group_job(database_url, fake_slack, LATER, gate=gate) for _ in range(2)]
        jobs += finals
        # Kill once 7 posts went out; the fake holds back the answers from then on, so posts
        # are in flight (sent, never recorded) when the process dies.
        fake_slack.hold_answers("chat.postMessage", from_call=7)
        try:
            wait_until(
                lambda: len(fake_slack.calls_to("chat.postMessage")) >= 7 or not first.alive(),
                60,
                "7 posts",
            )
            assert first.alive(), first.process.communicate()
            first.kill()
        finally:
            fake_slack.release_answers()
        fake_slack.wait_until_idle()
        after_kill = await post_rows(engine)
        in_doubt = [r for r in after_kill if r[1] == "in flight"]
        assert in_doubt, "no post was in doubt: the kill missed the window"
        assert channel_posts(fake_slack) < GROUPS
        release(finals, gate)
        summaries = [job.finish()[1] for job in finals]
    finally:
        kill_all(jobs)
    counts = [len(fake_slack.messages_to(f"CG{i}")) for i in range(GROUPS)]
    assert counts == [1] * GROUPS, "missing or duplicate theme posts"
    rows = await post_rows(engine)
    assert len(rows) == GROUPS and {r[0] for r in rows} == {"sent"}
    assert all(r[2] for r in rows)  # each with its message id
    for summary in summaries:
        consistent(summary)
        assert summary.due == GROUPS and summary.failed == 0


async def test_a_dry_run_process_prints_every_post_in_full(
    database_url: URL, engine: AsyncEngine, fake_slack: FakeSlack
) -> None:
    for i in range(3):
        await make_group(engine, f"CG{i}", coach=COACH)
    job = group_job(database_url, fake_slack, AT, "--dry-run")
    try:
        _, summary = job.finish()
    finally:
        kill_all([job])
    assert (summary.due, summary.sent) == (3, 0)
    for i in range(3):
        assert f"--- would post the theme in slack:T1:CG{i} ---" in job.stdout
    assert job.stdout.count("This week I'll reach out to …") == 3
    assert fake_slack.calls_to("chat.postMessage") == []
    assert await post_rows(engine) == []
