"""A fake Slack Web API: a real HTTP server on a free port, in its own thread and event loop.

It answers the methods Reconnect calls, records every call, and can be told to answer with a
429 (``Retry-After``), a 5xx or a Slack error, or to hold answers back until released. Point
``slack_sdk`` at :attr:`FakeSlack.api_url`.
Response URLs handed out in payloads are served too (:meth:`FakeSlack.response_url`).

    with FakeSlack() as slack:
        ...  # the app under test calls slack.api_url
        assert slack.calls_to("views.publish")
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

BOT_TOKEN = "xoxb-test-token"


@dataclass
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    """A planned failure for the next ``times`` calls of ``method``."""

    method: str
    status: int = 500
    error: str | None = None
    retry_after: int | None = None  # the Retry-After header (0 included); None: no header
    times: int = 1
    match: dict[str, Any] | None = None  # only calls whose params include these items

    def applies(self, method: str, params: dict[str, Any]) -> bool:
        if self.method != method or self.times <= 0:
            return False
        return all(str(params.get(k)) == str(v) for k, v in (self.match or {}).items())


class FakeSlack:
    """The fake server. Use as a context manager, or call :meth:`start` / :meth:`stop`."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        users: dict[str, dict[str, Any]] | None = None,
        lean: bool = False,
    ):
        """``lean`` (benchmarks): keep counts instead of every call, and of each message only
        what ``conversations.history`` answers with (ts, metadata). Answers are the same; the
        fake's own memory and CPU stop growing with the calls (100,000 nudges of ~5 KB each
        kept whole made its collector walk gigabytes), which on a 2-core machine is CPU taken
        from the process measured beside it."""
        self.latency = latency
        self.users = users or {}
        self.lean = lean
        self.calls: list[Call] = []
        #: Calls per method (kept in both modes).
        self.counts: Counter[str] = Counter()
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        # Socket Mode: the open WebSocket and what the app sent back over it.
        self._socket: web.WebSocketResponse | None = None
        self.socket_connected = threading.Event()
        self.socket_received: list[dict[str, Any]] = []
        # Messages "in Slack": posted at the moment a request arrives, as Slack would, even
        # when the client never hears the answer.
        self.messages: dict[str, list[dict[str, Any]]] = {}
        # Files: bytes POSTed to upload URLs (by file id), and the files shared by
        # files.completeUploadExternal (id, title, channel, filename, content), in order.
        self.uploads: dict[str, bytes] = {}
        self.upload_names: dict[str, dict[str, Any]] = {}
        self.shared_files: list[dict[str, Any]] = []
        # Held answers: (method, from which call of it on), and what releases them.
        self._hold: tuple[str, int] | None = None
        self._released = asyncio.Event()
        # Uploaded files (files.info), by id, with their contents (served at /files/<id>).
        self.files: dict[str, dict[str, Any]] = {}
        self.file_contents: dict[str, bytes] = {}
        # Group DMs opened with conversations.open users=A,B: their members, by channel id.
        self.group_dms: dict[str, list[str]] = {}

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        """Start serving on 127.0.0.1 and a free port; returns once it accepts connections."""
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake Slack did not start")
        return self

    def stop(self) -> None:
        """Stop the server and its thread."""
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """The Web API base URL, for ``SLACK_API_URL``."""
        return f"{self.base_url}/api/"

    def response_url(self, key: str = "1") -> str:
        """A response URL that records what is posted to it as method ``response_url``."""
        return f"{self.base_url}/response/{key}"

    # --- inspection and faults ----------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """Calls to one method, oldest first."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def messages_to(self, channel: str) -> list[dict[str, Any]]:
        """Messages that reached a channel (a DM is ``"D" + user id``)."""
        with self._lock:
            return list(self.messages.get(channel, []))

    def methods(self) -> list[str]:
        """The method of every call, in order."""
        with self._lock:
            return [c.method for c in self.calls]

    def reset(self) -> None:
        """Forget recorded calls and planned faults (held answers stay held)."""
        with self._lock:
            self.calls.clear()
            self.faults.clear()

    def hold_answers(self, method: str, from_call: int) -> None:
        """Hold back the answers to ``method``'s ``from_call``-th call (counting every call to it
        so far, from 1) and every later one until :meth:`release_answers`. Held calls are
        recorded, and take effect in Slack, on arrival as usual; only their answers wait."""
        with self._lock:
            self._hold = (method, from_call)
            self._released = asyncio.Event()

    def release_answers(self) -> None:
        """Send every held answer, and hold no more."""
        with self._lock:
            released, self._hold = self._released, None
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(released.set)

    def add_file(
        self,
        file_id: str,
        content: bytes,
        *,
        user: str = "U1",
        name: str = "Connections.csv",
        size: int | None = None,
        url: str | None = None,
    ) -> None:
        """A file "uploaded" by ``user``: ``files.info`` describes it (``size`` and ``url``
        override what it says), and its ``url_private_download`` serves ``content`` to
        requests with the bot token (as method ``files.download``)."""
        with self._lock:
            self.file_contents[file_id] = content
            self.files[file_id] = {
                "id": file_id,
                "name": name,
                "user": user,
                "size": len(content) if size is None else size,
                "url_private_download": url or f"{self.base_url}/files/{file_id}/download",
            }

    def fail(self, method: str, **kwargs: Any) -> None:
        """Plan a failure: ``fail("chat.postMessage", status=429, retry_after=1, times=2)``."""
        with self._lock:
            self.faults.append(Fault(method, **kwargs))

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Block until ``count`` calls to ``method`` arrived; raises ``TimeoutError``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.calls_to(method)
            if len(calls) >= count:
                return calls
            time.sleep(0.01)
        raise TimeoutError(f"{method}: {len(self.calls_to(method))} of {count} calls arrived")

    async def async_wait_for(self, method: str, count: int = 1, within: float = 10.0) -> list[Call]:
        """:meth:`wait_for` without blocking the caller's event loop."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            calls = self.calls_to(method)
            if len(calls) >= count:
                return calls
            await asyncio.sleep(0.01)
        raise TimeoutError(f"{method}: {len(self.calls_to(method))} of {count} calls arrived")

    def wait_until_idle(self, timeout: float = 10.0) -> None:
        """Block until no client is connected and every request has been answered: after a
        client process died, whatever it had already sent has then been read and recorded.

        Counts every connection to the fake, so call it when no other client is connected.
        Raises ``TimeoutError``.
        """
        deadline = time.monotonic() + timeout
        while True:
            busy = self._connections()
            if not busy:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"fake Slack still busy after {timeout} s: {busy}")
            time.sleep(0.005)

    def _connections(self) -> dict[str, int]:
        """Connections not yet done with, as the server sees them (open, or closed with a
        request still being handled) and as the kernel does (accepted or not, not closed)."""
        if self._loop is None or self._runner is None:
            return {}
        runner = self._runner

        async def served() -> int:
            return len(runner.server.connections) if runner.server is not None else 0

        busy = {
            "served": asyncio.run_coroutine_threadsafe(served(), self._loop).result(5),
            "sockets": _open_sockets(self.port),
        }
        return {k: n for k, n in busy.items() if n}

    # --- server ------------------------------------------------------------------------------

    def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._websocket)
        app.router.add_get("/files/{file_id}/download", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _shutdown(self) -> None:
        with self._lock:
            released, self._hold = self._released, None
        released.set()  # answers still held would keep the server from shutting down
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _read(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        body = await request.read()
        if not body:
            return params
        if (request.content_type or "").endswith("json"):
            data = _loads(body)
            if isinstance(data, dict):
                params.update(data)
        else:
            params.update(parse_qsl(body.decode()))
        return params

    def _record(
        self, method: str, params: dict[str, Any], token: str | None
    ) -> tuple[Fault | None, asyncio.Event | None]:
        """Record the call; returns the fault it takes, and what its answer must wait for if
        it is held."""
        with self._lock:
            self.counts[method] += 1
            if not self.lean:
                self.calls.append(Call(method, params, token))
            held = None
            if self._hold is not None and self._hold[0] == method:
                number = sum(1 for c in self.calls if c.method == method)
                held = self._released if number >= self._hold[1] else None
            for fault in self.faults:
                if fault.applies(method, params):
                    fault.times -= 1
                    return fault, held
        return None, held

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._read(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.get("token")
        fault, held = self._record(method, params, token)
        answer = None
        if fault is None and token and "revoked" not in token:
            answer = self._answer(method, params)
        if self.latency:
            await asyncio.sleep(self.latency)
        if held is not None:
            await held.wait()
        if fault is not None:
            if fault.error is not None:
                return web.json_response({"ok": False, "error": fault.error}, status=fault.status)
            headers = (
                {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            )
            error = "ratelimited" if fault.status == 429 else "internal_error"
            return web.json_response(
                {"ok": False, "error": error}, status=fault.status, headers=headers
            )
        if not token:
            return web.json_response({"ok": False, "error": "not_authed"})
        if "revoked" in token:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        return _json_response(answer)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        match method:
            case "auth.test":
                return {
                    "ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "bot",
                    "team_id": "T1", "user_id": "UBOT", "bot_id": "BBOT",
                }  # fmt: skip
            case "chat.postMessage":
                channel = str(params.get("channel"))
                if channel[:1] in ("U", "W"):
                    channel = "D" + channel  # as Slack does: a user id means the app's DM
                message = {"ts": ts, "text": params.get("text"), "blocks": params.get("blocks")}
                metadata = params.get("metadata")
                if isinstance(metadata, str):
                    metadata = json.loads(metadata)
                if metadata:
                    message["metadata"] = metadata
                kept = message
                if self.lean:  # what conversations.history needs to find it again
                    kept = {"ts": ts, **({"metadata": metadata} if metadata else {})}
                with self._lock:
                    self.messages.setdefault(channel, []).append(kept)
                return {"ok": True, "channel": channel, "ts": ts, "message": message}
            case "chat.update":
                channel, target = str(params.get("channel")), str(params.get("ts"))
                with self._lock:
                    for message in self.messages.get(channel, []):
                        if message["ts"] == target:
                            message.update(text=params.get("text"), blocks=params.get("blocks"))
                            return {"ok": True, "channel": channel, "ts": target}
                return {"ok": False, "error": "message_not_found"}
            case "conversations.history":
                channel = str(params.get("channel"))
                oldest = float(params.get("oldest") or 0)
                with self._lock:
                    found = [m for m in self.messages.get(channel, []) if float(m["ts"]) > oldest]
                return {"ok": True, "messages": list(reversed(found)), "has_more": False}
            case "chat.postEphemeral":
                return {"ok": True, "message_ts": ts}
            case "views.open" | "views.publish" | "views.update" | "views.push":
                view = params.get("view")
                view = json.loads(view) if isinstance(view, str) else view
                return {"ok": True, "view": {"id": f"V{next(self._ts)}", **(view or {})}}
            case "users.info":
                user_id = str(params.get("user", ""))
                user = self.users.get(user_id)
                if user is None:
                    return {"ok": False, "error": "user_not_found"}
                return {"ok": True, "user": {"id": user_id, **user}}
            case "apps.connections.open":
                return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}
            case "files.getUploadURLExternal":
                file_id = f"F{next(self._ts):08d}"
                with self._lock:
                    self.upload_names[file_id] = {
                        "filename": params.get("filename"),
                        "length": int(params.get("length") or 0),
                        "alt_txt": params.get("alt_txt"),
                    }
                return {
                    "ok": True,
                    "upload_url": f"{self.base_url}/upload/{file_id}",
                    "file_id": file_id,
                }
            case "files.completeUploadExternal":
                files = params.get("files")
                files = json.loads(files) if isinstance(files, str) else files or []
                channel = str(params.get("channel_id") or "")
                shared = []
                with self._lock:
                    for item in files:
                        file_id = str(item.get("id"))
                        content = self.uploads.get(file_id)
                        named = self.upload_names.get(file_id)
                        if content is None or named is None or len(content) != named["length"]:
                            return {"ok": False, "error": "file_upload_incomplete"}
                        shared.append(
                            {
                                "id": file_id,
                                "title": item.get("title"),
                                "channel": channel,
                                "filename": named["filename"],
                                "alt_txt": named["alt_txt"],
                                "content": content,
                            }
                        )
                    self.shared_files.extend(shared)
                return {"ok": True, "files": [{"id": f["id"], "title": f["title"]} for f in shared]}
            case "conversations.open":
                users = str(params.get("users", ""))
                if "," in users:
                    # A group DM (mpim) with these people and the bot: the same one each time.
                    members = sorted(users.split(","))
                    mpim = "G" + "".join(members)
                    with self._lock:
                        self.group_dms[mpim] = members
                    return {"ok": True, "channel": {"id": mpim, "is_mpim": True}}
                return {"ok": True, "channel": {"id": "D" + users.split(",")[0]}}
            case "files.info":
                with self._lock:
                    found = self.files.get(str(params.get("file", "")))
                if found is None:
                    return {"ok": False, "error": "file_not_found"}
                return {"ok": True, "file": dict(found)}
        return {"ok": False, "error": "unknown_method"}

    def socket_send(self, envelope: dict[str, Any]) -> None:
        """Send a Socket Mode envelope to the connected app (from any thread)."""
        if self._loop is None or self._socket is None:
            raise RuntimeError("no Socket Mode connection")
        socket = self._socket
        asyncio.run_coroutine_threadsafe(socket.send_json(envelope), self._loop).result(5)

    def socket_reply(self, envelope_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """Wait for the app's acknowledgement of an envelope."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for message in self.socket_received:
                    if message.get("envelope_id") == envelope_id:
                        return message
            time.sleep(0.02)
        raise TimeoutError(f"no acknowledgement for envelope {envelope_id}")

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._socket = socket
        await socket.send_json({"type": "hello", "num_connections": 1})
        self.socket_connected.set()
        async for message in socket:
            if message.type == web.WSMsgType.TEXT:
                with self._lock:
                    self.socket_received.append(json.loads(message.data))
        return socket

    async def _upload(self, request: web.Request) -> web.Response:
        """An upload URL handed out by files.getUploadURLExternal: records the bytes."""
        file_id = request.match_info["file_id"]
        body = await request.read()
        fault, _ = self._record("upload", {"file_id": file_id, "bytes": len(body)}, None)
        if fault is not None:
            return web.Response(status=fault.status, text="error")
        with self._lock:
            if file_id not in self.upload_names:
                return web.Response(status=404, text="unknown upload")
            self.uploads[file_id] = body
        return web.Response(text=f"OK - {len(body)}")

    async def _download(self, request: web.Request) -> web.Response:
        """A file's contents, as Slack serves ``url_private_download``: with the bot token only
        (without it, a redirect to the login page). Can be held like an API method."""
        file_id = request.match_info["file_id"]
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        fault, held = self._record("files.download", {"file": file_id}, token)
        if held is not None:
            await held.wait()
        if fault is not None:
            return web.Response(status=fault.status, text="error")
        if token != BOT_TOKEN:
            raise web.HTTPFound("https://slack.com/signin")
        with self._lock:
            content = self.file_contents.get(file_id)
        if content is None:
            return web.Response(status=404, text="not found")
        return web.Response(body=content, content_type="application/octet-stream")

    async def _response_url(self, request: web.Request) -> web.Response:
        params = await self._read(request)
        params["_key"] = request.match_info["key"]
        fault, _ = self._record("response_url", params, None)
        if fault is not None:
            return web.Response(status=fault.status, text="error")
        return web.Response(text="ok")


_PROC_TCP = Path("/proc/net/tcp")
_ESTABLISHED, _CLOSE_WAIT = "01", "08"


def _open_sockets(port: int) -> int:
    """Server-side TCP sockets on 127.0.0.1:``port`` that are connected, including any the
    server has not accepted yet (Linux; 0 where ``/proc/net/tcp`` does not exist)."""
    try:
        lines = _PROC_TCP.read_text().splitlines()[1:]
    except OSError:
        return 0
    local = f"0100007F:{port:04X}"
    count = 0
    for line in lines:
        fields = line.split()
        if len(fields) > 3 and fields[1] == local and fields[3] in (_ESTABLISHED, _CLOSE_WAIT):
            count += 1
    return count


def iter_texts(blocks: list[dict[str, Any]]) -> Iterator[str]:
    """Every text string inside Block Kit blocks (for assertions)."""
    for block in blocks:
        yield from _texts(block)


def _texts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def _loads(body: bytes) -> Any:
    """JSON as Slack reads it; orjson first (the benchmarks' fake serves 100,000 posts), the
    standard library for what orjson refuses (e.g. an escaped lone surrogate)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


def _json_response(answer: Any) -> web.Response:
    try:
        body = orjson.dumps(answer)
    except TypeError:  # e.g. a lone surrogate, which the standard library escapes
        body = json.dumps(answer).encode()
    return web.Response(body=body, content_type="application/json")
