"""Slash commands acknowledged early ("One moment…"), kept until their work commits, and taken
over when the process doing them died (issue 13, "Scale-out under faults").

:class:`PendingCommands` is the listener's side: it records a slow command (committed) before
the early ack goes out, refreshes the record while the work runs, and deletes it once the user
has the answer (the work's own write transaction usually deleted it already:
``storage/pending_work.py``). :class:`PendingRecovery` runs in every web process: at start-up
and then every :data:`SWEEP_SECONDS` (sooner when a record is about to go stale) it takes over
the records whose owner is gone — a process on this host that no longer runs, or any process
silent for :data:`TAKEOVER_AFTER` — runs each command again under its replay key (work that
had committed is then not done twice) and answers through the stored response URL.

Log lines name records by id, never by what they contain.
"""

from __future__ import annotations

import asyncio
import socket
from asyncio import FIRST_COMPLETED
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import commands, groups, inflight
from bot.adapters.slack.inbound import clean_text, response_url_allowed
from bot.core.service import Caller, Reconnect
from bot.processes import pid_alive, worker_id
from storage.pending_work import (
    ANSWERABLE_FOR,
    CURRENT,
    RELEASED,
    PendingRecord,
    PendingWork,
    Slot,
    transient,
)
from storage.replays import PENDING, Replayed
from storage.repository import SqlStore

log = structlog.get_logger(__name__)

#: A record whose owner has not refreshed it for this long is taken over (its process is
#: presumed gone: killed, or on a machine that went away).
TAKEOVER_AFTER = timedelta(seconds=30)
#: How often the owner refreshes a record while its work runs (well within TAKEOVER_AFTER).
HEARTBEAT_SECONDS = 10.0
#: How often each web process looks for records to take over.
SWEEP_SECONDS = 30.0
#: A record released after a failure for want of the database is run again this much later.
RETRY_AFTER = timedelta(seconds=5)
#: Commands run again at once by one process, at most (a process that died under load may
#: leave many: they are taken over a few at a time, not all in one burst).
MAX_RERUNS = 8
#: Host name characters kept in a record's owner id (the column holds the rest of the id too).
HOST_MAX = 60
#: Never sweep more often than this (a record about to go stale wakes the sweeper early).
MIN_SWEEP_SECONDS = 1.0


class PendingCommands:
    """The records of the commands this process acknowledged early."""

    def __init__(self, store: SqlStore, *, worker: str | None = None) -> None:
        self.store = store
        self.table = PendingWork(store.engine, write_turn=store.write_turn)
        self.worker = worker or worker_id(host_max=HOST_MAX)
        #: Set when a record was released, to wake this process's sweeper.
        self.released = asyncio.Event()

    async def record(self, slot: Slot, caller: Caller, body: dict[str, Any]) -> None:
        """Record the command of ``body`` (committed), and put the record's id in ``slot``.

        Only what running it again needs: its text as Slack sent it, its channel, who typed
        it (the owner), where to answer, and the request's replay key (none for a command
        that only reads)."""
        owner_id = await self.store.owner_id(caller.user)
        keys = PENDING.get()
        url = body.get("response_url")
        slot.record_id = await self.table.record(
            owner_id,
            payload_of(caller, body),
            response_url=url if isinstance(url, str) and url else None,
            replay_key=keys[0] if keys else None,
            worker=self.worker,
        )

    async def finish(self, slot: Slot) -> None:
        """The user has the answer (or was told it failed): delete the record, unless the
        work's transaction did."""
        if slot.record_id is None or slot.settled:
            return
        try:
            await self.table.finish(slot.record_id)
        except Exception as exc:
            # Left behind, it is taken over later: a command that wrote finds its replay key.
            log.warning("slack.pending_finish_failed", error=type(exc).__name__)

    async def failed(self, slot: Slot, exc: BaseException) -> bool:
        """The work of a recorded command raised ``exc``. If the database was only unavailable
        or overloaded (:func:`~storage.pending_work.transient`), the record is released to be
        run again shortly, by any process, and ``True`` says the user need not be told
        anything yet; otherwise (or if releasing failed too) ``False``: tell them, and
        :meth:`finish`."""
        if slot.record_id is None or slot.settled or not transient(exc):
            return False
        try:
            released = await self.table.release(slot.record_id, self.worker)
        except Exception as error:
            log.warning("slack.pending_release_failed", error=type(error).__name__)
            return False
        if released:
            log.warning("slack.pending_released", record=slot.record_id, error=type(exc).__name__)
            self.released.set()
        return released

    @asynccontextmanager
    async def heartbeats(self, slot: Slot) -> AsyncIterator[None]:
        """Refresh the record every :data:`HEARTBEAT_SECONDS` while the block runs, so no
        other process takes it over from this live one."""
        if slot.record_id is None:
            yield
            return
        stop = asyncio.Event()
        beating = asyncio.ensure_future(self._beat(slot, stop))
        try:
            yield
        finally:
            # Let a heartbeat under way finish (cancelling it mid-statement would throw its
            # connection away).
            stop.set()
            await beating

    async def _beat(self, slot: Slot, stop: asyncio.Event) -> None:
        while True:
            try:
                await asyncio.wait_for(stop.wait(), HEARTBEAT_SECONDS)
                return
            except TimeoutError:
                pass
            if slot.record_id is None or slot.settled:
                return
            try:
                if not await self.table.heartbeat(slot.record_id, self.worker):
                    return  # finished by the work's transaction, or taken over
            except Exception as exc:
                log.warning("slack.pending_heartbeat_failed", error=type(exc).__name__)


def payload_of(caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """What a command needs to be run again (:func:`body_of` reads it back)."""
    channel = body.get("channel_id")
    return {
        "team_id": caller.user.workspace_id,
        "user_id": caller.user.user_id,
        "channel_id": channel if isinstance(channel, str) else None,
        "dm": body.get("channel_name") == "directmessage",
        "text": str(body.get("text") or ""),
    }


def body_of(payload: dict[str, Any], response_url: str | None) -> dict[str, Any]:
    """A slash command payload as the listener reads it, from what :func:`payload_of` kept."""
    body: dict[str, Any] = {
        "team_id": str(payload.get("team_id") or ""),
        "user_id": str(payload.get("user_id") or ""),
        "text": str(payload.get("text") or ""),
        "response_url": response_url or "",
    }
    if isinstance(payload.get("channel_id"), str):
        body["channel_id"] = payload["channel_id"]
    if payload.get("dm"):
        body["channel_name"] = "directmessage"
    return body


class PendingRecovery:
    """Takes over and finishes the commands of processes that died after an early ack."""

    def __init__(
        self,
        service: Reconnect,
        client: AsyncWebClient,
        pending: PendingCommands,
        *,
        api_url: str | None = None,
        takeover_after: timedelta = TAKEOVER_AFTER,
        alive: Callable[[str], bool | None] | None = None,
    ) -> None:
        """``api_url``: the Slack API origin response URLs may also point at (tests' fake).
        ``alive``: whether the process named by a ``claimed_by`` runs (``None``: cannot tell
        from here); by default, a process on this host is looked up by its pid."""
        self.service = service
        self.client = client
        self.pending = pending
        self.table = pending.table
        self.api_url = api_url
        self.takeover_after = takeover_after
        self.alive = alive or process_alive
        self._running: set[asyncio.Task[None]] = set()

    async def sweep(self) -> float:
        """Take over what is due; seconds until a record held now would go stale (at most
        :data:`SWEEP_SECONDS`). The commands taken over run in tasks of their own."""
        now = self.table.now()
        wake = SWEEP_SECONDS
        for claim in await self.table.claims():
            released = claim.claimed_by == RELEASED
            wait = RETRY_AFTER if released else self.takeover_after
            due_in = (claim.claimed_at + wait - now).total_seconds()
            # A released record waits a moment before it runs again; a held one until its
            # owner has been silent for takeover_after, unless the owner is a process of
            # this host that is gone (this process's own records are in the works).
            if due_in > 0 and (
                released
                or claim.claimed_by == self.pending.worker
                or self.alive(claim.claimed_by) is not False
            ):
                wake = min(wake, due_in)
                continue
            if now - claim.created_at > ANSWERABLE_FOR:
                if await self.table.give_up(claim):
                    log.warning(
                        "slack.pending_expired",
                        record=claim.id,
                        age_s=int((now - claim.created_at).total_seconds()),
                    )
                continue
            if len(self._running) >= MAX_RERUNS:
                wake = MIN_SWEEP_SECONDS  # more to take over once some of these are done
                continue
            record = await self.table.take_over(claim, self.pending.worker)
            if record is None:
                continue  # another process got there first, or its owner showed life
            # A warning: a process died (or stalled) with a command acknowledged early.
            log.warning("slack.pending_taken_over", record=record.id, owner=claim.claimed_by)
            task = asyncio.ensure_future(self.rerun(record))
            inflight.track(task)  # shutting down waits for it
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return max(wake, MIN_SWEEP_SECONDS)

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep at once and then periodically, until ``stop`` is set."""
        while not stop.is_set():
            self.pending.released.clear()
            try:
                wake = await self.sweep()
            except Exception as exc:
                log.warning("slack.pending_sweep_failed", error=type(exc).__name__)
                wake = SWEEP_SECONDS
            # Until the next sweep is due, ``stop``, or a record released in this process.
            waits = {
                asyncio.ensure_future(stop.wait()),
                asyncio.ensure_future(self.pending.released.wait()),
            }
            _, idle = await asyncio.wait(waits, timeout=wake, return_when=FIRST_COMPLETED)
            for waiting in idle:
                waiting.cancel()

    async def wait(self) -> None:
        """Wait for the commands taken over so far (for tests)."""
        if self._running:
            await asyncio.wait(set(self._running))

    async def rerun(self, record: PendingRecord) -> None:
        """Run a command taken over, answer it, and delete its record."""
        # This task's own context: the record (deleted by the work's transaction) and the
        # replay key (a second run of work that committed raises Replayed, with no effect).
        slot = Slot(record_id=record.id)
        CURRENT.set(slot)
        PENDING.set((record.replay_key,) if record.replay_key else None)
        url = record.response_url
        if url is not None and not response_url_allowed(url, api_url=self.api_url):
            log.warning("slack.response_url_refused", where="pending")
            url = None
        body = body_of(record.payload, url)
        raw = clean_text(body["text"])
        caller = replace(commands.caller_from(body), mentions=groups.mentions_in(raw))
        respond = AsyncRespond(response_url=url) if url else None
        try:
            async with self.pending.heartbeats(slot):
                outcome = await commands.run(self.service, self.client, caller, body, raw)
        except Replayed:
            # Its work had committed (the record outlived it by a moment): nothing to redo,
            # and the answer was sent by the process that did it, or was lost with it.
            log.info("slack.pending_done_before", record=record.id)
            await self.pending.finish(slot)
            return
        except Exception as exc:
            log.warning("slack.pending_rerun_failed", record=record.id, error=type(exc).__name__)
            if await self.pending.failed(slot, exc):
                return  # the database is still unavailable: again shortly
            if respond is not None:
                await commands.say_sorry(respond)
            await self.pending.finish(slot)
            return
        if respond is not None:
            try:
                await commands.answer_late(self.client, respond, caller, outcome)
            except Exception as exc:
                log.warning("slack.pending_answer_failed", error=type(exc).__name__)
        await self.pending.finish(slot)
        log.info(
            "slack.pending_recovered",
            record=record.id,
            late_s=int((datetime.now(UTC) - record.created_at).total_seconds()),
            answered=respond is not None,
        )


def process_alive(worker: str) -> bool | None:
    """Whether the process ``host:pid:random`` still runs; ``None`` when it is on another
    host (only its heartbeat can tell). A zombie (killed, not yet reaped) counts as gone."""
    host, _, rest = worker.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname()[:HOST_MAX] or not pid_text.isdigit():
        return None
    return pid_alive(int(pid_text))
