"""Replay protection in Socket Mode: an envelope delivered twice has one effect.

Over HTTP a request is known by its signature (``bot/web.py``). Socket Mode envelopes are not
signed; Slack redelivers an envelope that was not acknowledged (its ``envelope_id`` again, with
``retry_attempt``), and retries an Events API event under a new envelope (its ``event_id``
again). Both are recorded in the same table as signed requests (``slack_seen_requests``,
shared by every process holding a socket), so a redelivery to any process is acknowledged and
dropped. As over HTTP, only envelopes that may write are recorded, and by their own first write
transaction, together with their writes: an envelope whose process died before committing
leaves no record, and its redelivery runs.

That table is keyed by ``(timestamp, key)`` and pruned by timestamp after six minutes. An event
carries its own ``event_time``; other envelopes carry no time of Slack's, so the time they
arrived is bucketed into :data:`BUCKET_SECONDS` windows, and the envelope is recorded in its
bucket *and the next*: a redelivery within the window, even one that crosses a bucket boundary,
hits one of the two rows, and the later row outlives the window before it is pruned.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.replay_scope import may_write
from storage.replays import KEEP_SECONDS, PENDING, SeenRequests

log = structlog.get_logger(__name__)

#: Width of the arrival-time buckets, longer than the redelivery window kept for.
BUCKET_SECONDS = 600
assert BUCKET_SECONDS >= KEEP_SECONDS
#: The key column is 100 characters wide; Slack's ids are far shorter.
_MAX_ID = 80


def envelope_keys(request: SocketModeRequest, now: float) -> list[tuple[int, str]]:
    """The ``(timestamp, key)`` rows that mark ``request`` as taken in (empty: not trackable)."""
    payload: Any = request.payload
    if request.type == "events_api" and isinstance(payload, dict):
        event_id = payload.get("event_id")
        event_time = payload.get("event_time")
        if _usable(event_id) and isinstance(event_time, int) and event_time > 0:
            return [(event_time, f"event:{event_id}")]
    envelope_id = request.envelope_id
    if not _usable(envelope_id):
        return []
    bucket = int(now) // BUCKET_SECONDS * BUCKET_SECONDS
    key = f"envelope:{envelope_id}"
    return [(bucket, key), (bucket + BUCKET_SECONDS, key)]


def _usable(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= _MAX_ID


class DedupingSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's Socket Mode handler; envelopes taken in before are acknowledged and dropped."""

    def __init__(
        self,
        app: AsyncApp,
        app_token: str | None,
        *,
        web_client: AsyncWebClient,
        replays: SeenRequests | None,
        now: Callable[[], float] = time.time,
    ) -> None:
        """``replays``: where envelopes are recorded (``None``: no replay protection)."""
        super().__init__(app, app_token, web_client=web_client)
        self._replays = replays
        self._now = now

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        """Dispatch ``req`` to Bolt. An envelope that may write is recorded by its own first
        write transaction, together with its writes (``storage/replays.py``): a redelivery of
        one that took effect makes the store raise ``Replayed``, which is acknowledged and
        dropped; a redelivery of one that never committed (its process died) runs."""
        payload = req.payload if isinstance(req.payload, dict) else {}
        keys = envelope_keys(req, self._now()) if self._replays is not None else []
        if not keys or not may_write(payload):
            await super().handle(client, req)
            return
        token = PENDING.set(tuple(keys))
        try:
            await self._prune()
            await super().handle(client, req)
        finally:
            PENDING.reset(token)

    async def _prune(self) -> None:
        if self._replays is None:
            return
        try:
            await self._replays.prune_if_due()
        except Exception as exc:
            log.warning("slack.replay_prune_failed", error=type(exc).__name__)
