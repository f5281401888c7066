"""Shared test helpers: a controllable clock, database set-up, a Slack client over HTTP."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import db
from tests.fakes import slack_requests as sr

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
PG_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
TABLES = (
    "buddy_matches",
    "group_checkins",
    "group_wins",
    "group_posts",
    "group_members",
    "group_coaches",
    "groups",
    "held_files",
    "pending_work",
    "slack_seen_requests",
    "conversation_refs",
    "delivery_attempts",
    "nudges",
    "prompt_views",
    "workers",
    "outreach",
    "next_steps",
    "weekly_goals",
    "recap_settings",
    "conversations",
    "contacts",
    "users",
)


class Clock:
    """A clock the test moves by hand; timezone-aware UTC."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 11, 25, 14, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        """Move forward, e.g. ``clock.advance(days=3)``."""
        self.now += timedelta(**kwargs)


def postgres_url() -> str:
    """The PostgreSQL server tests use (``TEST_DATABASE_URL`` overrides)."""
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)


def require_postgres() -> bool:
    """CI sets ``RECONNECT_REQUIRE_POSTGRES=1`` so a missing server fails instead of skipping."""
    return os.environ.get("RECONNECT_REQUIRE_POSTGRES", "") not in ("", "0", "false")


@contextmanager
def postgres_schema() -> Iterator[URL]:
    """A fresh schema on the test server, migrated to head; dropped afterwards. Its name is
    unique, and says which xdist worker made it (``rc_test_gw0_…``)."""
    base = db.normalise_url(postgres_url())
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    schema = f"rc_test_{worker}_{uuid.uuid4().hex[:10]}"
    admin = create_sync_engine(db.sync_url(base), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        admin.dispose()
        message = (
            f"PostgreSQL is not reachable at {base.render_as_string(hide_password=True)} "
            f"({type(exc).__name__}); start it with: {PG_START}"
        )
        if require_postgres():
            pytest.fail(message)
        pytest.skip(message)
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        db.upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


async def empty_tables(engine: AsyncEngine) -> None:
    """Delete every row, so each test starts from an empty, migrated database."""
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                await connection.execute(text(f"DELETE FROM {table}"))


@dataclass
class SlackResponse:
    """What the app answered to a signed request."""

    status: int
    body: str

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def texts(self) -> str:
        """Every text in the answer's blocks (plus its fallback text), joined."""
        from tests.fakes.slack_api import iter_texts

        data = self.json or {}
        return "\n".join([data.get("text", ""), *iter_texts(data.get("blocks", []))])


class SlackClient:
    """Sends signed requests, exactly as Slack does, to the running app over HTTP."""

    def __init__(self, http: aiohttp.ClientSession, url: str, response_url: str) -> None:
        self.http = http
        self.url = url
        self.response_url = response_url

    async def post(
        self, body: str, content_type: str = "application/x-www-form-urlencoded", **sign: Any
    ) -> SlackResponse:
        """POST ``body`` signed (override ``secret=`` or ``timestamp=`` to forge one)."""
        headers = sr.signed_headers(body, content_type=content_type, **sign)
        async with self.http.post(self.url, data=body.encode(), headers=headers) as response:
            return SlackResponse(response.status, await response.text())

    async def command(self, text: str, *, user: str = "U1", team: str = sr.TEAM) -> SlackResponse:
        """``/reconnect <text>``."""
        return await self.post(
            sr.slash_command(text, user=user, team=team, response_url=self.response_url)
        )

    async def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str = "U1",
        container: str = "message",
        ephemeral: bool = True,
    ) -> SlackResponse:
        """Press a button (on an ephemeral message unless ``ephemeral=False``)."""
        body = sr.block_action(
            action_id,
            value,
            user=user,
            response_url=self.response_url,
            container=container,
            ephemeral=ephemeral,
        )
        return await self.post(body)

    async def submit(
        self, callback_id: str, values: dict[str, Any], *, metadata: str = "", user: str = "U1"
    ) -> SlackResponse:
        """Submit a modal."""
        return await self.post(
            sr.view_submission(callback_id, values, private_metadata=metadata, user=user)
        )

    async def event(self, body: str) -> SlackResponse:
        """Deliver an Events API callback."""
        return await self.post(body, content_type="application/json")


@asynccontextmanager
async def contacts_table_gone(engine: AsyncEngine) -> AsyncIterator[None]:
    """The database breaks under the app: its contacts table is renamed away, then back."""
    async with engine.begin() as connection:
        await connection.execute(text("ALTER TABLE contacts RENAME TO contacts_away"))
    try:
        yield
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("ALTER TABLE contacts_away RENAME TO contacts"))
