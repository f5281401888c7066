"""Running ``python -m jobs run-once`` as a real process against a test database and the fake
Slack, and reading back what it printed and what it left in the database."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import DeliveryAttempt, Nudge, User
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack

ROOT = Path(__file__).resolve().parents[2]

#: Starting a process (imports, settings, the migration check) takes a few seconds here, many
#: more on a machine busy with parallel test workers: the deadlines are generous.
START_TIMEOUT = 60.0
RUN_TIMEOUT = 120.0

#: Byte-code cache for the processes (this environment sets PYTHONDONTWRITEBYTECODE, and
#: compiling SQLAlchemy, slack_sdk and Alembic from source costs each process ~3 s of CPU).
#: Kept outside the checkout and the virtualenv; Python revalidates it against the sources.
#: (tests/conftest.py sets the same cache up for the whole test run.)
PYCACHE = Path(tempfile.gettempdir()) / "reconnect-test-pycache"

SUMMARY = re.compile(
    r"due (?P<due>\d+) · sent (?P<sent>\d+) · skipped (?P<skipped>\d+) "
    r"\(already sent (?P<already>\d+), in progress elsewhere (?P<busy>\d+)\) · "
    r"failed (?P<failed>\d+) · undeliverable (?P<undeliverable>\d+)"
)

# The CLI's own entry point, held at a gate once it has done its slow start-up (imports,
# settings, the migration check) until the test creates the gate file: several processes can
# then be released into the pass at the same instant.
_GATED = """
import asyncio, os, sys
import bot.app
from jobs.__main__ import main

gate = sys.argv[1]
prepare = bot.app.prepare_database

async def prepare_then_wait(settings):
    await prepare(settings)
    open(gate + "." + str(os.getpid()), "w").close()
    for _ in range(30000):
        if os.path.exists(gate):
            return
        await asyncio.sleep(0.002)
    raise SystemExit("never released")

bot.app.prepare_database = prepare_then_wait
sys.exit(main(sys.argv[2:]))
"""


@dataclass(frozen=True)
class Summary:
    """The numbers of the line ``run-once`` prints."""

    due: int
    sent: int
    skipped: int
    already: int
    busy: int
    failed: int
    undeliverable: int


def parse_summary(stdout: str) -> Summary:
    """The summary line of ``run-once``'s output (fails the test if there is none)."""
    found = SUMMARY.search(stdout)
    assert found is not None, f"no summary line in run-once's output:\n{stdout}"
    return Summary(**{k: int(v) for k, v in found.groupdict().items()})


def job_env(database_url: URL, fake: FakeSlack, **extra: str) -> dict[str, str]:
    """The environment of a scheduler process on this database and the fake Slack."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "NUDGE_", "DATABASE_URL", "RUN_SCHEDULER"))
        and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        PYTHONPYCACHEPREFIX=str(PYCACHE),
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET="not-checked-by-run-once",
        SLACK_API_URL=fake.api_url,
        DATABASE_URL=database_url.render_as_string(hide_password=False),
        PYTHONPATH=str(ROOT),
        PYTHONIOENCODING="utf-8",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
        NUDGE_CONCURRENCY="4",
        NUDGE_GRACE_HOURS="3",
    )
    env.update(extra)
    return env


class Job:
    """One ``run-once`` process."""

    def __init__(self, args: list[str], env: dict[str, str], *, gate: Path | None = None) -> None:
        if gate is None:
            command = [sys.executable, "-m", "jobs", *args]
        else:
            command = [sys.executable, "-c", _GATED, str(gate), *args]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.stdout = ""
        self.stderr = ""

    @property
    def pid(self) -> int:
        return self.process.pid

    def finish(self, timeout: float = RUN_TIMEOUT) -> tuple[int, Summary]:
        """Wait for the process; returns its exit code and summary. Fails the test if it hangs
        or crashes."""
        try:
            self.stdout, self.stderr = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"run-once did not finish within {timeout} s") from None
        code = self.process.returncode
        assert code == 0, f"run-once exited with {code}\n{self.stdout}\n{self.stderr}"
        return code, parse_summary(self.stdout)

    def kill(self) -> None:
        """SIGKILL, and reap it: an unreaped zombie still 'exists' for ``kill(pid, 0)``, and the
        next scheduler on this host would (rightly) think its claims are still being worked."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        try:
            self.stdout, self.stderr = self.process.communicate(timeout=10)
        except (subprocess.TimeoutExpired, ValueError):
            self.process.wait(10)

    def alive(self) -> bool:
        return self.process.poll() is None


def run_once(database_url: URL, fake: FakeSlack, at: str, **env: str) -> Job:
    """Start ``python -m jobs run-once --at <at>``."""
    return Job(["run-once", "--at", at], job_env(database_url, fake, **env))


def prestart(
    database_url: URL, fake: FakeSlack, at: str, count: int, gate: Path, **env: str
) -> list[Job]:
    """Start ``count`` run-once processes that wait at ``gate`` (see :func:`release`) once
    their slow start-up is done."""
    return [
        Job(["run-once", "--at", at], job_env(database_url, fake, **env), gate=gate)
        for _ in range(count)
    ]


def release(jobs: list[Job], gate: Path) -> None:
    """Wait until every process waits at ``gate``, then let them all go at the same instant."""
    wait_until(
        lambda: (
            all(Path(f"{gate}.{job.pid}").exists() for job in jobs)
            or any(not job.alive() for job in jobs)
        ),
        START_TIMEOUT,
        "the processes to start",
    )
    for job in jobs:
        assert job.alive(), f"run-once died while starting: {job.process.communicate()}"
    gate.touch()


def run_together(
    database_url: URL, fake: FakeSlack, at: str, count: int, gate: Path, **env: str
) -> list[Job]:
    """Start ``count`` run-once processes and release them together."""
    jobs = prestart(database_url, fake, at, count, gate, **env)
    try:
        release(jobs, gate)
    except BaseException:
        kill_all(jobs)
        raise
    return jobs


def kill_all(jobs: Iterable[Job]) -> None:
    """Kill whatever is still running (for ``finally``)."""
    for job in jobs:
        if job.alive():
            job.kill()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` every few milliseconds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.002)


# --- the database, as the processes left it ------------------------------------------------


async def statuses(engine: AsyncEngine) -> dict[str, int]:
    """``{status: count}`` of nudges."""
    async with engine.connect() as connection:
        rows = await connection.execute(select(Nudge.status, func.count()).group_by(Nudge.status))
        return {status: n for status, n in rows}


async def nudges_by_user(engine: AsyncEngine) -> dict[str, tuple[str, str | None]]:
    """``{external user id: (status, message id)}``."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(User.external_id, Nudge.status, Nudge.message_id).join(
                Nudge, Nudge.user_id == User.id
            )
        )
        return {r.external_id: (r.status, r.message_id) for r in rows}


async def open_attempts(engine: AsyncEngine, pid: int) -> set[str]:
    """External ids of users whose nudge has an attempt, by the process ``pid``, that started
    and never finished."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(User.external_id)
            .join(Nudge, Nudge.user_id == User.id)
            .join(DeliveryAttempt, DeliveryAttempt.nudge_id == Nudge.id)
            .where(DeliveryAttempt.outcome.is_(None))
            .where(DeliveryAttempt.worker.like(f"%:{pid}:%"))
        )
        return {r.external_id for r in rows}


async def attempt_outcomes(engine: AsyncEngine) -> dict[str | None, int]:
    """``{outcome: count}`` over every delivery attempt."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(DeliveryAttempt.outcome, func.count()).group_by(DeliveryAttempt.outcome)
        )
        return {outcome: n for outcome, n in rows}
