"""``kill -9`` between "One moment…" and the commit (issue 13): a web process started next
takes the command over, runs it once and answers through the stored response URL.

Real ``python -m bot`` processes on the test database (SQLite and PostgreSQL) and the fake
Slack. The command is held up before its commit either on Slack's side (the name of a
mentioned user is looked up, and the fake holds that answer back) or, on PostgreSQL, inside
its open transaction, which has already recorded its replay key and waits for a row lock.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import ConversationRow
from storage.pending_work import PendingWork
from tests.fakes import slack_requests as sr
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack, iter_texts
from tests.jobs.process_helpers import PYCACHE
from tests.support import SlackClient
from tests.test_process import ROOT, start_bot

USERS = {"UDANA": {"real_name": "Dana Whitfield", "profile": {"real_name": "Dana Whitfield"}}}
#: Waiting for a process to start, or for the command to be finished by the second one.
PATIENCE = 90.0


def bot_env(database_url: URL, fake: FakeSlack) -> dict[str, str]:
    """A web process (no scheduler) on the test database and the fake Slack."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_", "CONNECTIONS__", "RUN_SCHEDULER"))
        and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        PYTHONPATH=str(ROOT),
        PYTHONPYCACHEPREFIX=str(PYCACHE),
        PYTHONUNBUFFERED="1",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=sr.SIGNING_SECRET,
        SLACK_API_URL=fake.api_url,
        DATABASE_URL=database_url.render_as_string(hide_password=False),
        RUN_SCHEDULER="false",
        LOG_LEVEL="INFO",
    )
    return env


@contextmanager
def killed_at_exit(process: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    try:
        yield process
    finally:
        kill_9(process)


def kill_9(process: subprocess.Popen[str]) -> str:
    """SIGKILL, reaped (a zombie would still look alive to the next process); its output."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    output, _ = process.communicate(timeout=15)
    return output or ""


@asynccontextmanager
async def signed_client(port: int, response_url: str) -> AsyncIterator[SlackClient]:
    async with aiohttp.ClientSession() as http:
        yield SlackClient(http, f"http://127.0.0.1:{port}/slack/events", response_url)


async def conversations(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        count = await connection.scalar(select(func.count()).select_from(ConversationRow))
    return int(count or 0)


async def answered(fake: FakeSlack, key: str) -> list[str]:
    """What reached the response URL ``key``, once something did (waits up to PATIENCE)."""
    for _ in range(int(PATIENCE * 10)):
        calls = [c for c in fake.calls_to("response_url") if c.params["_key"] == key]
        if calls:
            return [
                " ".join([c.params.get("text", ""), *iter_texts(c.params.get("blocks") or [])])
                for c in calls
            ]
        await asyncio.sleep(0.1)
    raise AssertionError(f"nothing reached the response URL {key!r} in {PATIENCE} s")


async def finish_elsewhere(
    engine: AsyncEngine, env: dict[str, str], tmp_path: Path, fake: FakeSlack, key: str
) -> str:
    """Start a second web process; wait until it answered the command through ``key``;
    return the answer (the process is stopped with SIGTERM, and must exit cleanly)."""
    second, _port = await asyncio.to_thread(start_bot, tmp_path, env)
    try:
        (answer,) = await answered(fake, key)
        for _ in range(int(PATIENCE * 10)):  # the record goes with the work or just after
            if await PendingWork(engine).count() == 0:
                break
            await asyncio.sleep(0.1)
    finally:
        second.terminate()
        output, _ = await asyncio.to_thread(second.communicate, timeout=30)
    assert second.returncode == 0, output
    assert "slack.pending_taken_over" in output and "slack.pending_recovered" in output
    assert "her new role" not in output  # what the user typed is never logged
    return answer


async def test_kill_9_while_slack_holds_the_command_up(
    engine: AsyncEngine, database_url: URL, tmp_path: Path
) -> None:
    with FakeSlack(users=USERS) as fake:
        env = bot_env(database_url, fake)
        first, port = await asyncio.to_thread(start_bot, tmp_path, env)
        with killed_at_exit(first):
            async with signed_client(port, fake.response_url("late")) as slack:
                added = await slack.command("add Dana Whitfield")
                assert "Added *Dana Whitfield*" in added.texts()
                fake.hold_answers("users.info", len(fake.calls_to("users.info")) + 1)
                response = await slack.command("log <@UDANA> -- talked about her new role")
                assert "One moment" in response.texts()
                # The record was committed before the ack went out.
                assert await PendingWork(engine).count() == 1
            kill_9(first)
        fake.release_answers()
        assert await conversations(engine) == 0  # the work died with its process
        answer = await finish_elsewhere(engine, env, tmp_path, fake, "late")
    assert "Dana Whitfield" in answer
    assert await conversations(engine) == 1
    assert await PendingWork(engine).count() == 0


async def test_kill_9_inside_the_commands_open_transaction(
    engine: AsyncEngine, database_url: URL, tmp_path: Path
) -> None:
    """The command's transaction had recorded its replay key and waits for a row lock when
    its process is killed; the database rolls it back, and the second process runs it once."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one write lock: a command waiting for it cannot be recorded")
    with FakeSlack(users=USERS) as fake:
        env = bot_env(database_url, fake)
        first, port = await asyncio.to_thread(start_bot, tmp_path, env)
        with killed_at_exit(first):
            async with signed_client(port, fake.response_url("late")) as slack:
                added = await slack.command("add Dana Whitfield")
                assert "Added *Dana Whitfield*" in added.texts()
                async with engine.connect() as blocker:
                    # The new conversation's foreign key check waits for this lock.
                    await blocker.execute(text("SELECT id FROM contacts FOR UPDATE"))
                    response = await slack.command("log Dana Whitfield -- about her new role")
                    assert "One moment" in response.texts()
                    assert await PendingWork(engine).count() == 1
                    async with engine.connect() as probe:  # the command's key, not committed
                        waiting = await probe.scalar(
                            text(
                                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a"
                                " ON a.pid = l.pid WHERE NOT l.granted"
                                " AND a.query LIKE 'INSERT INTO conversations%'"
                            )
                        )
                    assert waiting == 1, "the command should be waiting inside its transaction"
                    kill_9(first)
                    await blocker.rollback()
        assert await conversations(engine) == 0
        answer = await finish_elsewhere(engine, env, tmp_path, fake, "late")
    assert "Dana Whitfield" in answer
    assert await conversations(engine) == 1
    assert await PendingWork(engine).count() == 0
