"""Fixtures: every database test runs on SQLite and on PostgreSQL."""

# ruff: noqa: E402 (the byte-code cache is set up before the heavy imports below)
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

#: Byte-code cache for the test run and every Python process it starts (the bot, ``run-once``,
#: the console, xdist workers): where PYTHONDONTWRITEBYTECODE is set (as on the development
#: machine), nothing is cached, and every process compiles SQLAlchemy, slack_sdk, Alembic and
#: the Agents SDK from source again (~2 s of CPU each). Kept outside the checkout and the
#: virtualenv; Python revalidates it against the sources. The place
#: ``tests/jobs/process_helpers.py`` uses too.
PYCACHE = Path(tempfile.gettempdir()) / "reconnect-test-pycache"
if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get("PYTHONPYCACHEPREFIX"):
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    os.environ["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    sys.dont_write_bytecode = False
    sys.pycache_prefix = str(PYCACHE)

from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app
from bot.core.service import Reconnect
from bot.settings import Settings
from storage import db
from storage.repository import SqlStore
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack
from tests.fakes.slack_requests import SIGNING_SECRET
from tests.support import Clock, SlackClient, empty_tables, postgres_schema


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[URL]:
    """A migrated database of each kind, shared by the session (emptied before every test)."""
    if request.param == "sqlite":
        url = db.normalise_url(f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}")
        db.upgrade(url)
        yield url
    else:
        with postgres_schema() as url:
            yield url


@pytest.fixture
async def engine(database_url: URL) -> AsyncIterator[AsyncEngine]:
    """An async engine on an empty database."""
    engine = db.create_engine(database_url)
    await empty_tables(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> Clock:
    """A clock set to 2026-11-25 14:00 UTC, moved by hand."""
    return Clock()


@pytest.fixture
def store(engine: AsyncEngine) -> SqlStore:
    """The SQL store."""
    return SqlStore(engine)


@pytest.fixture
def service(store: SqlStore, clock: Clock) -> Reconnect:
    """The core service on the real store and the test clock."""
    return Reconnect(store, clock=clock)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A fake Slack Web API on a free port."""
    users = {
        "U1": {"real_name": "Ada One", "tz": "Europe/London", "profile": {"real_name": "Ada One"}},
        "UDANA": {
            "real_name": "Dana Whitfield",
            "tz": "America/New_York",
            "profile": {"real_name": "Dana Whitfield"},
        },
    }
    with FakeSlack(users=users) as fake:
        yield fake


def slack_settings(database_url: URL, api_url: str) -> Settings:
    """Settings for an HTTP-mode Slack app against the fake API."""
    return Settings(
        database_url=database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=api_url,
    )


@pytest.fixture
async def slack(
    engine: AsyncEngine, database_url: URL, fake_slack: FakeSlack, clock: Clock
) -> AsyncIterator[SlackClient]:
    """The whole app serving HTTP on a free port, and a client that signs requests like Slack."""
    app = build_app(slack_settings(database_url, fake_slack.api_url), clock=clock, engine=engine)
    runner = web.AppRunner(app.web, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as http:
        yield SlackClient(http, f"http://127.0.0.1:{port}/slack/events", fake_slack.response_url())
    await runner.cleanup()
