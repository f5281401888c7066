"""A fake Bot Connector service (what Teams answers at ``serviceUrl``): a real HTTP server on a
free port, in its own thread and event loop.

The Microsoft 365 Agents SDK's connector client talks to it exactly as it talks to Teams:

* ``POST   v3/conversations``                         create a conversation → ``{"id": <conversation id>}``
* ``POST   v3/conversations/{cid}/activities``        send                   → 201 ``{"id": <new id>}``
* ``POST   v3/conversations/{cid}/activities/{aid}``  reply (every reactive reply and typing
  activity, and proactive continuations, which reply to a random uuid) → 201 ``{"id": <new id>}``
* ``PUT    v3/conversations/{cid}/activities/{aid}``  update                 → 200 ``{"id": aid}`` (JSON: the SDK parses it)
* ``DELETE v3/conversations/{cid}/activities/{aid}``  delete                 → 200 ``{"id": aid}``

Conversation ids arrive unescaped (``19:abc@thread.tacv2;messageid=1``, ``a:1XyZ…``), so one
catch-all route parses the path itself. Every call is recorded; faults (429 with ``Retry-After``,
412, 403, 5xx) can be planned, a token-bucket rate limit can be switched on for benchmarks, and
``latency`` delays every answer. Point the inbound activity's ``serviceUrl`` at
:attr:`FakeTeamsConnector.service_url`.

The rate limiter and the latency run on a clock: the real one by default, or a
:class:`ManualClock` that only moves when the test calls :meth:`ManualClock.advance`, so a test
controls time instead of sleeping (``FakeTeamsConnector(clock=ManualClock())``).

    with FakeTeamsConnector() as teams:
        ...  # the app under test replies through teams.service_url
        teams.wait_for("reply")
        assert teams.texts() == ["Added Dana Whitfield."]

Works from sync tests and from async ones (its loop is not the test's loop):
``await teams.async_wait_for(...)``, or ``async with FakeTeamsConnector() as teams``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
KINDS = ("send", "reply", "update", "delete", "create", "upload", "other")
#: Where the fake's OneDrive stand-in takes file uploads (``PUT /upload/{name}``), as the
#: ``uploadUrl`` Teams hands out when a user accepts a file-consent card.
_UPLOADS = "/upload/"
_PREFIX = "/v3/conversations"
_ERROR_CODES = {
    400: "BadArgument",
    401: "Unauthorized",
    403: "BotNotInConversationRoster",
    404: "ConversationNotFound",
    412: "PreconditionFailed",
    429: "Throttled",
    500: "ServiceError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


class FakeClock(Protocol):
    """The time the fake's rate limiter and latency run on (seconds, monotonic)."""

    def monotonic(self) -> float: ...

    async def sleep_until(self, deadline: float) -> None:
        """Return once :meth:`monotonic` reaches ``deadline`` (awaited in the fake's loop)."""


class RealClock:
    """``time.monotonic`` and ``asyncio.sleep``: the default."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep_until(self, deadline: float) -> None:
        delay = deadline - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


class ManualClock:
    """A clock that stands still until the test moves it with :meth:`advance` (from any thread).

    Sleepers (the fake's latency) wake when the clock reaches their deadline, not before.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._sleepers: list[tuple[float, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has come."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += seconds
            due = [s for s in self._sleepers if s[0] <= self._now]
            self._sleepers = [s for s in self._sleepers if s[0] > self._now]
        for _, loop, future in due:
            loop.call_soon_threadsafe(_wake, future)

    @property
    def sleeping(self) -> int:
        """How many sleepers wait for the clock to move."""
        with self._lock:
            return len(self._sleepers)

    async def sleep_until(self, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (deadline, loop, future)
        with self._lock:
            if self._now >= deadline:
                return
            self._sleepers.append(entry)
        try:
            await future
        finally:
            with self._lock:
                if entry in self._sleepers:
                    self._sleepers.remove(entry)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


@dataclass
class Call:
    """One request the fake received.

    ``activity_id`` is the id in the path (the activity replied to, updated or deleted);
    ``response_id`` is the id the fake answered with (a new activity or conversation id).
    ``status`` is decided when the request arrives, before any latency.
    """

    method: str
    kind: str  # "send" | "reply" | "update" | "delete" | "create" | "other"
    path: str
    conversation_id: str | None
    activity_id: str | None
    headers: dict[str, str]
    body: Any  # the parsed JSON (nulls kept as None), raw text if not JSON, None if empty
    query: dict[str, str] = field(default_factory=dict)
    status: int = 0
    response_id: str | None = None
    throttled: bool = False  # answered 429 by the rate limiter (not by a planned fault)
    at: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        """Answered with a 2xx status."""
        return 200 <= self.status < 300

    @property
    def authorization(self) -> str | None:
        """The ``Authorization`` header (absent in anonymous mode)."""
        return self.headers.get("Authorization")

    @property
    def activity(self) -> dict[str, Any]:
        """The JSON body as a dict (``{}`` if it was not an object)."""
        return self.body if isinstance(self.body, dict) else {}

    @property
    def type(self) -> str | None:
        """The activity type (``message``, ``typing``, …)."""
        return self.activity.get("type")

    @property
    def is_typing(self) -> bool:
        return self.type == "typing"

    @property
    def text(self) -> str | None:
        return self.activity.get("text")

    @property
    def reply_to_id(self) -> str | None:
        return self.activity.get("replyToId")

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return [a for a in self.activity.get("attachments") or [] if isinstance(a, dict)]

    @property
    def cards(self) -> list[dict[str, Any]]:
        """The content of every Adaptive Card attached."""
        return [
            a.get("content") or {}
            for a in self.attachments
            if a.get("contentType") == ADAPTIVE_CARD
        ]

    @property
    def card(self) -> dict[str, Any] | None:
        """The first Adaptive Card's content, if any."""
        cards = self.cards
        return cards[0] if cards else None


@dataclass
class Fault:
    """A planned failure for the next ``times`` matching calls (``times=None``: until reset)."""

    status: int = 500
    times: int | None = 1
    retry_after: float | str | None = None
    kinds: frozenset[str] | None = None
    conversation_id: str | None = None
    typing: bool = False  # may a typing activity use up this fault?
    code: str | None = None
    message: str | None = None

    def applies(self, call: Call) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.kinds is not None and call.kind not in self.kinds:
            return False
        if self.conversation_id is not None and call.conversation_id != self.conversation_id:
            return False
        return self.typing or not call.is_typing


class _Bucket:
    """A token bucket: ``rate`` tokens a second, at most ``burst`` saved up."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, now

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def wait(self, now: float) -> float:
        """Seconds until a token is available (0 if one is available now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


@dataclass
class _RateLimit:
    per_second: float
    burst: float
    per_conversation: float | None
    per_conversation_burst: float
    retry_after: float | None  # None: the exact (fractional) wait
    kinds: frozenset[str] | None
    clock: FakeClock
    tenants: dict[str, _Bucket] = field(default_factory=dict)
    conversations: dict[str, _Bucket] = field(default_factory=dict)

    def check(self, call: Call, tenant: str) -> float | None:
        """Take a token for the call, or return the ``Retry-After`` seconds to answer with."""
        if self.kinds is not None and call.kind not in self.kinds:
            return None
        now = self.clock.monotonic()
        buckets = [self.tenants.setdefault(tenant, _Bucket(self.per_second, self.burst, now))]
        if self.per_conversation and call.conversation_id:
            buckets.append(
                self.conversations.setdefault(
                    call.conversation_id,
                    _Bucket(self.per_conversation, self.per_conversation_burst, now),
                )
            )
        wait = max(bucket.wait(now) for bucket in buckets)
        if wait > 0:
            return self.retry_after if self.retry_after is not None else wait
        for bucket in buckets:
            bucket.take()
        return None


CallFilter = str | Iterable[str] | Callable[[Call], bool] | None


class FakeTeamsConnector:
    """The fake server. Use as a (sync or async) context manager, or :meth:`start` / :meth:`stop`.

    ``strict=True`` answers 404 to updates and deletes of activities it never handed out
    (Teams does); by default they succeed, so a test may update a card sent by an earlier fake.
    ``clock`` drives the rate limiter and ``latency`` (the real clock by default; see
    :class:`ManualClock`).
    """

    def __init__(
        self, *, latency: float = 0.0, strict: bool = False, clock: FakeClock | None = None
    ) -> None:
        self.latency = latency
        self.strict = strict
        self.clock: FakeClock = clock if clock is not None else RealClock()
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.throttled = 0  # 429s issued by the rate limiter since the last reset
        self._limit: _RateLimit | None = None
        # What is "in Teams": conversation id → activities (with their ids), recorded when a
        # request arrives, as Teams would, even if the client never hears the answer.
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._created: dict[str, str] = {}  # create-conversation key → conversation id
        #: Files PUT to :meth:`upload_url`: name → (bytes, the request's Content-Range).
        self.uploads: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeTeamsConnector:
        """Start serving on 127.0.0.1 and a free port; returns once it accepts connections."""
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, args=(ready,), name="fake-teams", daemon=True
        )
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake Teams connector did not start")
        return self

    def stop(self) -> None:
        """Stop the server and its thread."""
        if self._loop is not None and self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> FakeTeamsConnector:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    async def __aenter__(self) -> FakeTeamsConnector:
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *_: object) -> None:
        await asyncio.to_thread(self.stop)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def service_url(self) -> str:
        """``http://127.0.0.1:<port>/``: the ``serviceUrl`` for inbound activities."""
        return f"{self.base_url}/"

    # --- faults, rate limit ------------------------------------------------------------------

    def fail(
        self,
        status: int = 500,
        times: int | None = 1,
        retry_after: float | str | None = None,
        kind: str | Iterable[str] | None = None,
        conversation_id: str | None = None,
        *,
        typing: bool = False,
        code: str | None = None,
        message: str | None = None,
    ) -> Fault:
        """Plan a failure: ``fail(429, retry_after=1, times=2, kind="reply")``.

        Matches calls of ``kind`` (one kind or several; any by default) in ``conversation_id``
        (any by default). Typing activities pass untouched unless ``typing=True``. The body is
        ``{"error": {"code": …, "message": …}}`` as the Bot Connector sends it.
        """
        kinds = None if kind is None else frozenset([kind] if isinstance(kind, str) else kind)
        fault = Fault(status, times, retry_after, kinds, conversation_id, typing, code, message)
        with self._lock:
            self.faults.append(fault)
        return fault

    def rate_limit(
        self,
        per_second: float | None = 30.0,
        burst: float | None = None,
        *,
        per_conversation: float | None = None,
        per_conversation_burst: float | None = None,
        retry_after: float | None = 1.0,
        kinds: Iterable[str] | None = None,
    ) -> None:
        """Throttle like Teams: a token bucket per tenant (all its conversations together).

        ``per_second`` tokens a second, ``burst`` (default ``per_second``) saved up at most;
        ``per_conversation`` adds a bucket per conversation (Teams allows about 7 messages a
        second in one conversation). Calls over the limit get 429 with ``Retry-After:
        <retry_after>``, or the exact fractional wait if ``retry_after=None``; they are recorded
        (``Call.throttled``) and counted in :attr:`throttled`, and use up no token.
        ``kinds`` limits which calls count (all by default, typing too).
        ``rate_limit(None)`` switches it off. The tenant is the activity's
        ``conversation.tenantId`` (or ``channelData.tenant.id``, or the create body's ``tenantId``).
        """
        with self._lock:
            if per_second is None:
                self._limit = None
                return
            self._limit = _RateLimit(
                per_second=per_second,
                burst=burst if burst is not None else max(per_second, 1.0),
                per_conversation=per_conversation,
                per_conversation_burst=(
                    per_conversation_burst
                    if per_conversation_burst is not None
                    else max(per_conversation or 1.0, 1.0)
                ),
                retry_after=retry_after,
                kinds=None if kinds is None else frozenset(kinds),
                clock=self.clock,
            )

    def reset(self) -> None:
        """Forget calls, messages, planned faults and the throttle count; refill the buckets."""
        with self._lock:
            self.calls.clear()
            self.faults.clear()
            self._messages.clear()
            self.throttled = 0
            if self._limit is not None:
                self._limit.tenants.clear()
                self._limit.conversations.clear()

    # --- inspection --------------------------------------------------------------------------

    def calls_of(self, kind: str, conversation_id: str | None = None) -> list[Call]:
        """Calls of one kind, oldest first, whatever they were answered."""
        with self._lock:
            return [
                c
                for c in self.calls
                if c.kind == kind and conversation_id in (None, c.conversation_id)
            ]

    def sent(self, conversation_id: str | None = None) -> list[Call]:
        """Activities that reached Teams by send or reply (answered 2xx), typing excluded."""
        with self._lock:
            return [
                c
                for c in self.calls
                if c.kind in ("send", "reply")
                and c.ok
                and not c.is_typing
                and conversation_id in (None, c.conversation_id)
            ]

    def texts(self, conversation_id: str | None = None) -> list[str | None]:
        """The ``text`` of every :meth:`sent` activity (None for a card without text)."""
        return [c.text for c in self.sent(conversation_id)]

    def typing_calls(self, conversation_id: str | None = None) -> list[Call]:
        """Typing activities posted (answered or not)."""
        with self._lock:
            return [
                c
                for c in self.calls
                if c.kind in ("send", "reply")
                and c.is_typing
                and conversation_id in (None, c.conversation_id)
            ]

    def updates(self, conversation_id: str | None = None) -> list[Call]:
        """Successful updates (PUT)."""
        return [c for c in self.calls_of("update", conversation_id) if c.ok]

    def deletes(self, conversation_id: str | None = None) -> list[Call]:
        """Successful deletes."""
        return [c for c in self.calls_of("delete", conversation_id) if c.ok]

    def rejected(self, status: int | None = None) -> list[Call]:
        """Calls answered with an error (of ``status``, if given): faults and throttling."""
        with self._lock:
            return [c for c in self.calls if not c.ok and (status is None or c.status == status)]

    def messages_in(self, conversation_id: str) -> list[dict[str, Any]]:
        """The conversation as Teams shows it now: sent activities (typing excluded) with
        updates applied and deleted ones gone; each has its ``id``."""
        with self._lock:
            return [dict(m) for m in self._messages.get(conversation_id, [])]

    def message(self, activity_id: str) -> dict[str, Any] | None:
        """One activity as Teams shows it now, by the id the fake handed out."""
        with self._lock:
            for messages in self._messages.values():
                for m in messages:
                    if m.get("id") == activity_id:
                        return dict(m)
        return None

    def wait_for(
        self,
        what: CallFilter = None,
        count: int = 1,
        timeout: float = 10.0,
        *,
        conversation_id: str | None = None,
    ) -> list[Call]:
        """Block until ``count`` matching calls arrived, and return all matching calls.

        ``what``: None for :meth:`sent` activities; a kind (``"reply"``) or several; a
        predicate on :class:`Call`. Raises ``TimeoutError`` saying what did arrive.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = self._matching(what, conversation_id)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_message(what, count, found))
            time.sleep(0.005)

    async def async_wait_for(
        self,
        what: CallFilter = None,
        count: int = 1,
        within: float = 10.0,
        *,
        conversation_id: str | None = None,
    ) -> list[Call]:
        """:meth:`wait_for` without blocking the caller's event loop (``within``: the timeout)."""
        deadline = time.monotonic() + within
        while True:
            found = self._matching(what, conversation_id)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_message(what, count, found))
            await asyncio.sleep(0.005)

    def _matching(self, what: CallFilter, conversation_id: str | None) -> list[Call]:
        if what is None:
            return self.sent(conversation_id)
        if callable(what):
            predicate = what
        else:
            kinds = {what} if isinstance(what, str) else set(what)
            unknown = kinds - set(KINDS)
            if unknown:
                raise ValueError(f"unknown kind(s) {sorted(unknown)}; use one of {KINDS}")

            def predicate(call: Call) -> bool:
                return call.kind in kinds

        with self._lock:
            calls = list(self.calls)
        return [c for c in calls if conversation_id in (None, c.conversation_id) and predicate(c)]

    def _timeout_message(self, what: CallFilter, count: int, found: list[Call]) -> str:
        with self._lock:
            seen = [f"{c.method} {c.kind} {c.type or '-'} → {c.status}" for c in self.calls]
        label = "sent messages" if what is None else getattr(what, "__name__", repr(what))
        return f"{label}: {len(found)} of {count} arrived; calls so far: {seen or 'none'}"

    # --- server ------------------------------------------------------------------------------

    def _serve(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # Answers still waiting (e.g. for a ManualClock nobody advances) hold up the shutdown
        # for at most this long.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        self.port = self._runner.addresses[0][1]
        self._loop = loop
        ready.set()
        loop.run_forever()
        loop.close()

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def upload_url(self, name: str) -> str:
        """An ``uploadUrl`` as Teams hands out with an accepted file consent."""
        return f"{self.base_url}{_UPLOADS}{name}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        kind, conversation_id, activity_id = _route(request.method, request.path)
        raw = await request.read()
        if request.path.startswith(_UPLOADS):
            return self._upload(request, raw)
        body: Any = None
        if raw:
            text = raw.decode("utf-8", errors="replace")
            try:
                body = json.loads(text)
            except ValueError:
                body = text
        call = Call(
            method=request.method,
            kind=kind,
            path=request.path,
            conversation_id=conversation_id,
            activity_id=activity_id,
            headers=dict(request.headers),
            body=body,
            query=dict(request.query),
        )
        arrived = self.clock.monotonic()
        response = self._decide(call)  # status and "in Teams" state are settled on arrival
        if self.latency > 0:
            await self.clock.sleep_until(arrived + self.latency)
        return response

    def _upload(self, request: web.Request, raw: bytes) -> web.Response:
        name = request.path[len(_UPLOADS) :]
        call = Call(
            method=request.method,
            kind="upload",
            path=request.path,
            conversation_id=None,
            activity_id=None,
            headers=dict(request.headers),
            body=None,
        )
        with self._lock:
            self.calls.append(call)
            for fault in self.faults:
                if fault.applies(call):
                    if fault.times is not None:
                        fault.times -= 1
                    call.status = fault.status
                    return _error(fault.status, "UploadFailed", f"fake {fault.status}")
            if request.method != "PUT":
                call.status = 405
                return _error(405, "MethodNotAllowed", "uploads are PUT")
            self.uploads[name] = (raw, request.headers.get("Content-Range", ""))
            call.status = 201
        return web.json_response({"id": name, "name": name, "size": len(raw)}, status=201)

    def _decide(self, call: Call) -> web.Response:
        with self._lock:
            self.calls.append(call)
            if call.kind == "other":
                call.status = 404
                return _error(404, "NotFound", f"the fake has no route {call.method} {call.path}")
            for fault in self.faults:
                if fault.applies(call):
                    if fault.times is not None:
                        fault.times -= 1
                    call.status = fault.status
                    return _error(
                        fault.status,
                        fault.code or _ERROR_CODES.get(fault.status, "ServiceError"),
                        fault.message or f"fake {fault.status}",
                        fault.retry_after,
                    )
            if self._limit is not None:
                wait = self._limit.check(call, _tenant(call.activity))
                if wait is not None:
                    call.status, call.throttled = 429, True
                    self.throttled += 1
                    return _error(429, "Throttled", "rate limit exceeded (fake)", wait)
            return self._apply(call)

    def _apply(self, call: Call) -> web.Response:
        """Change what is "in Teams" and answer 2xx (the lock is held)."""
        cid, aid = call.conversation_id, call.activity_id
        if call.kind == "create":
            cid = self._conversation_for(call.activity)
            call.conversation_id = call.response_id = cid
            call.status = 201
            return web.json_response({"id": cid}, status=201)
        assert cid is not None
        if call.kind in ("send", "reply"):
            new_id = f"fake-{next(self._ids)}"
            call.response_id, call.status = new_id, 201
            if not call.is_typing:
                self._messages.setdefault(cid, []).append({**call.activity, "id": new_id})
            return web.json_response({"id": new_id}, status=201)
        assert aid is not None
        messages = self._messages.setdefault(cid, [])
        index = next((i for i, m in enumerate(messages) if m.get("id") == aid), None)
        if index is None and self.strict:
            call.status = 404
            return _error(404, "ActivityNotFoundInConversation", f"no activity {aid} in {cid}")
        if call.kind == "update":
            updated = {**call.activity, "id": aid}
            if index is None:
                messages.append(updated)
            else:
                messages[index] = updated
        elif index is not None:  # delete
            del messages[index]
        call.response_id, call.status = aid, 200
        return web.json_response({"id": aid}, status=200)

    def _conversation_for(self, params: dict[str, Any]) -> str:
        """Teams hands back the same 1:1 conversation for the same member."""
        members = tuple(
            str(m.get("id")) for m in params.get("members") or [] if isinstance(m, dict)
        )
        key = json.dumps([_tenant(params), members, bool(params.get("isGroup"))])
        if key not in self._created:
            prefix = "19:" if params.get("isGroup") else "a:"
            self._created[key] = f"{prefix}fake-conversation-{next(self._ids)}"
        return self._created[key]


def _route(method: str, path: str) -> tuple[str, str | None, str | None]:
    """(kind, conversation id, activity id) of a request path; tolerates a prefix before v3/."""
    start = path.find(_PREFIX)
    if start < 0:
        return "other", None, None
    rest = path[start + len(_PREFIX) :]
    if rest in ("", "/"):
        return ("create" if method == "POST" else "other"), None, None
    head, sep, tail = rest[1:].rpartition("/activities")
    if not sep or not head:
        return "other", None, None
    tail = tail.strip("/")
    if "/" in tail:  # e.g. .../activities/{id}/members
        return "other", head, None
    if not tail:
        return ("send" if method == "POST" else "other"), head, None
    kind = {"POST": "reply", "PUT": "update", "DELETE": "delete"}.get(method, "other")
    return kind, head, tail


def _tenant(activity: dict[str, Any]) -> str:
    conversation = activity.get("conversation")
    if isinstance(conversation, dict) and conversation.get("tenantId"):
        return str(conversation["tenantId"])
    channel_data = activity.get("channelData")
    if isinstance(channel_data, dict) and isinstance(channel_data.get("tenant"), dict):
        return str(channel_data["tenant"].get("id") or "")
    return str(activity.get("tenantId") or "")


def _format_seconds(value: float | str) -> str:
    if isinstance(value, str):
        return value
    if float(value).is_integer():
        return str(int(value))
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0.001" if text == "0" else text


def _error(
    status: int, code: str, message: str, retry_after: float | str | None = None
) -> web.Response:
    headers = {"Retry-After": _format_seconds(retry_after)} if retry_after is not None else None
    body = {"error": {"code": code, "message": message}}
    return web.json_response(body, status=status, headers=headers)
