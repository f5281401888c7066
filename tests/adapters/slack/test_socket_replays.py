"""Socket Mode: an envelope delivered twice (to one process or two) has one effect."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.slack.app import build_web_client
from bot.adapters.slack.socket_replays import (
    BUCKET_SECONDS,
    DedupingSocketModeHandler,
    envelope_keys,
)
from bot.app import ReconnectApp, build_app
from storage.replays import KEEP_SECONDS, SeenRequests
from tests.conftest import slack_settings
from tests.fakes import slack_requests as sr
from tests.fakes.slack_api import FakeSlack


class Socket:
    """Records the acknowledgements a handler sends back over the socket."""

    def __init__(self) -> None:
        self.acks: list[SocketModeResponse] = []
        self.logger = logging.getLogger("tests.socket")

    async def send_socket_mode_response(self, response: SocketModeResponse) -> None:
        self.acks.append(response)


async def rows(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


def command_envelope(envelope_id: str, words: str, retry: int | None = None) -> SocketModeRequest:
    payload: dict[str, Any] = dict(parse_qsl(sr.slash_command(words)))
    return SocketModeRequest("slash_commands", envelope_id, payload, retry_attempt=retry)


#: The apps the test built, drained when it ends (see :func:`drained`).
_BUILT: list[ReconnectApp] = []


@pytest.fixture
async def drained(engine: AsyncEngine) -> AsyncIterator[None]:
    """After each test, what its apps' listeners still do in the background (a time zone
    refresh after a command, writing the user's row) finishes, as at a shutdown, before the
    database goes (``engine``) and the next test empties the tables: cut off when the test's
    event loop closes, it could leave SQLite locked for the next test."""
    yield
    while _BUILT:
        app = _BUILT.pop()
        for cleanup in app.web.on_cleanup:
            await cleanup(app.web)


def handler_for(
    engine: AsyncEngine, database_url: URL, fake_slack: FakeSlack, now: list[float]
) -> DedupingSocketModeHandler:
    settings = dataclasses.replace(
        slack_settings(database_url, fake_slack.api_url), slack_app_token="xapp-test"
    )
    app = build_app(settings, engine=engine)
    _BUILT.append(app)
    assert app.slack is not None
    return DedupingSocketModeHandler(
        app.slack,
        "xapp-test",
        web_client=build_web_client(settings),
        replays=SeenRequests(engine, now=lambda: now[0]),
        now=lambda: now[0],
    )


@pytest.mark.usefixtures("drained")
async def test_a_redelivered_envelope_has_no_second_effect(
    engine: AsyncEngine, database_url: URL, fake_slack: FakeSlack
) -> None:
    now = [1_800_000_000.0 + BUCKET_SECONDS - 2]  # two seconds before a bucket ends
    one = handler_for(engine, database_url, fake_slack, now)
    two = handler_for(engine, database_url, fake_slack, now)  # another process, same database
    socket = Socket()
    await one.handle(socket, command_envelope("env-0", "add Dana Whitfield"))  # type: ignore[arg-type]
    assert await rows(engine, "contacts") == 1
    await one.handle(socket, command_envelope("env-1", "log Dana Whitfield"))  # type: ignore[arg-type]
    assert await rows(engine, "conversations") == 1
    await one.handle(socket, command_envelope("env-1", "log Dana Whitfield", retry=1))  # type: ignore[arg-type]
    now[0] += 5  # the next bucket: still recognised
    await two.handle(socket, command_envelope("env-1", "log Dana Whitfield", retry=2))  # type: ignore[arg-type]
    assert await rows(engine, "conversations") == 1
    assert [ack.envelope_id for ack in socket.acks] == ["env-0"] + ["env-1"] * 3  # all acked
    # A different envelope with the same words is a new command.
    await two.handle(socket, command_envelope("env-2", "log Dana Whitfield"))  # type: ignore[arg-type]
    assert await rows(engine, "conversations") == 2
    for handler in (one, two):
        await handler.client.close()


def test_envelope_keys_outlive_the_window_across_a_bucket_boundary() -> None:
    start = 1_800_000_000.0
    first = envelope_keys(SocketModeRequest("interactive", "e", {}), start + BUCKET_SECONDS - 1)
    for later in (1, KEEP_SECONDS - 1):
        again = envelope_keys(
            SocketModeRequest("interactive", "e", {}), start + BUCKET_SECONDS - 1 + later
        )
        shared = set(first) & set(again)
        assert shared
        # The shared row is not pruned before the redelivery arrives.
        assert max(t for t, _ in shared) >= start + BUCKET_SECONDS - 1 + later - KEEP_SECONDS
    event = SocketModeRequest("events_api", "e1", {"event_id": "Ev1", "event_time": 1_800_000_000})
    retried = SocketModeRequest(
        "events_api", "e2", {"event_id": "Ev1", "event_time": 1_800_000_000}
    )
    assert envelope_keys(event, start) == envelope_keys(retried, start + 60)
    assert envelope_keys(SocketModeRequest("interactive", "x" * 500, {}), start) == []


async def test_bolt_does_not_verify_the_signature_a_second_time(
    engine: AsyncEngine, database_url: URL, fake_slack: FakeSlack
) -> None:
    """bot/web.py checks the signature (unsigned requests: test_hardening.py); Bolt no longer
    hashes the body a second time."""
    from slack_bolt.middleware.request_verification.async_request_verification import (
        AsyncRequestVerification,
    )

    app = build_app(slack_settings(database_url, fake_slack.api_url), engine=engine)
    assert app.slack is not None
    assert not any(
        isinstance(m, AsyncRequestVerification) for m in app.slack._async_middleware_list
    )


@pytest.mark.usefixtures("drained")
async def test_a_redelivery_of_an_envelope_that_never_committed_runs(
    engine: AsyncEngine, database_url: URL, fake_slack: FakeSlack
) -> None:
    """The envelope is recorded with its writes: when they never commit (the database fails
    here; a killed process is the same), the redelivery takes effect, once."""
    from tests.support import contacts_table_gone

    now = [1_800_000_000.0]
    handler = handler_for(engine, database_url, fake_slack, now)
    socket = Socket()
    await handler.handle(socket, command_envelope("env-0", "add Dana Whitfield"))  # type: ignore[arg-type]
    async with contacts_table_gone(engine):
        await handler.handle(socket, command_envelope("env-1", "log Dana Whitfield"))  # type: ignore[arg-type]
    assert await rows(engine, "conversations") == 0
    await handler.handle(socket, command_envelope("env-1", "log Dana Whitfield", retry=1))  # type: ignore[arg-type]
    await handler.handle(socket, command_envelope("env-1", "log Dana Whitfield", retry=2))  # type: ignore[arg-type]
    assert await rows(engine, "conversations") == 1
    assert [ack.envelope_id for ack in socket.acks] == ["env-0"] + ["env-1"] * 3
    await handler.client.close()
