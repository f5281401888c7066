"""`python -m jobs`: what `run-once` prints (dry runs in full; why nobody is due)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import time as clock_time
from pathlib import Path

from jobs.__main__ import report
from jobs.runner import NudgeRunner
from tests.jobs.conftest import at

ROOT = Path(__file__).resolve().parents[2]


async def test_dry_run_prints_the_full_text_of_each_nudge(runner: NudgeRunner, user) -> None:
    await user("U1", "Dana Whitfield every 2 months -- former CFO at Brightline, loves sailing")
    now = at(2026, 12, 1, 8, 30)
    summary = await runner.run_once(now, dry_run=True)
    text = "\n".join(await report(runner, summary, now, dry_run=True))
    assert text.startswith("dry run: due 1 · sent 0")
    assert "--- would send to slack:T1:U1 ---" in text
    assert "Good morning — Tuesday" in text  # the header, the prompt, the card…
    assert "Dana Whitfield" in text and "former CFO at Brightline, loves sailing" in text
    assert "[1] Reached out" in text  # …and its buttons
    assert "nobody is due" not in text


async def test_nobody_due_says_there_are_no_users(runner: NudgeRunner) -> None:
    now = at(2026, 12, 1, 8, 30)
    summary = await runner.run_once(now, dry_run=True)
    text = "\n".join(await report(runner, summary, now, dry_run=True))
    assert "due 0" in text
    assert "nobody is due: there are no users on slack yet" in text


async def test_nobody_due_says_when_the_next_nudge_is(runner: NudgeRunner, user) -> None:
    await user("U1", "Dana Whitfield", tz="Europe/Berlin", nudge_at=clock_time(9, 0))
    now = at(2026, 12, 1, 4, 0)  # Tuesday 05:00 in Berlin; the nudge is at 09:00 (08:00 UTC)
    summary = await runner.run_once(now, dry_run=True)
    text = "\n".join(await report(runner, summary, now, dry_run=True))
    assert "1 user on slack, but nobody's local nudge time on a nudge day falls between" in text
    assert "the next is at 2026-12-01 08:00 UTC — try --at 2026-12-01T08:00:00+00:00" in text


async def test_nobody_due_says_no_platform_is_configured(runner: NudgeRunner) -> None:
    bare = NudgeRunner(runner.store, {}, clock=runner.clock)
    now = at(2026, 12, 1, 8, 30)
    summary = await bare.run_once(now, dry_run=True)
    text = "\n".join(await report(bare, summary, now, dry_run=True))
    assert "nobody is due: no chat platform is configured" in text


def test_the_clock_logs_one_line_at_start_and_at_stop(tmp_path: Path) -> None:
    """`python -m jobs` with only the bot token: it starts, says so (no secrets), and says
    so again when stopped."""
    token = "xoxb-secret-token-123"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    env.update(
        PYTHONPATH=str(ROOT), SLACK_BOT_TOKEN=token, LOG_LEVEL="INFO",
        DATABASE_URL=f"sqlite:///{tmp_path / 'clock.sqlite3'}",
    )  # fmt: skip
    log_path = tmp_path / "stderr.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "jobs"], cwd=tmp_path, env=env, stderr=log_file,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while "clock.started" not in log_path.read_text() and time.monotonic() < deadline:
                assert process.poll() is None, log_path.read_text()
                time.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    lines = log_path.read_text().splitlines()
    (started,) = [line for line in lines if "event='clock.started'" in line]
    assert "worker=" in started and "platforms='slack'" in started
    assert "schedule=\"cron[second='0'] UTC\"" in started
    assert [line for line in lines if "event='clock.stopped'" in line]
    assert token not in log_path.read_text()
