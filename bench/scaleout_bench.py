"""Scale-out under faults: two web processes behind HAProxy, one clock, PostgreSQL, a kill -9.

What runs (all on 127.0.0.1):

* a fresh PostgreSQL schema (``TEST_DATABASE_URL`` or postgresql://postgres@127.0.0.1:5432/test,
  as for the tests), migrated, with ``--users`` Slack users and ``--contacts`` contacts each,
  every user due for a morning nudge now (nudge time a minute ago, every day of the week);
* a fake Slack Web API (``tests/fakes/slack_api.FakeSlack``) in a child process;
* two web processes, ``python -m bot --no-scheduler`` (the Procfile's ``web``), each on its
  own port, behind HAProxy (``option httpchk GET /healthz``, round robin, connection
  failures retried on the other server);
* the clock, ``python -m jobs run-once`` (one real morning pass), started ``--clock-at``
  seconds into the load, and run once more after the load (which must send nothing).

The load: ``--rate`` signed requests per second, open loop, for ``--seconds``, rotating
``/reconnect due``, ``/reconnect add <unique name>``, ``/reconnect log <contact> -- <unique
note>``, a Snooze button click and a "Log conversation" form submitted with a unique note.
A request that fails (no answer, a 5xx from HAProxy, or no answer within 3 s) is retried like
Slack does, up to 3 times, with ``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason`` and the same
signature. ``--kill-at`` seconds in, one web process gets ``kill -9``.

Afterwards (once the database stops changing and no command acknowledged early is pending:
the surviving process takes over those of the killed one): every acknowledged ``add``, ``log``
and form must have its effect in the database exactly once (one contact with that name, one conversation with that note), none may have
it twice, and every user must have received exactly one nudge (one ``chat.postMessage`` to
their DM channel; one ``sent`` nudge row).

    sudo apt-get install -y haproxy     # Debian/Ubuntu; the script says so if it is missing
    uv run python bench/scaleout_bench.py
    uv run python bench/scaleout_bench.py --rate 100 --seconds 30 --json out.json

Exit status: 0 when every check passes, 1 when one fails, 2 when it could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import common  # bench/, the script's own folder; puts the checkout on sys.path
from common import ROOT

from tests.fakes import slack_requests as sr

FORM = "application/x-www-form-urlencoded"
#: Slack's retries of a failed request (it sends at most three).
RETRIES = 3
#: Slack gives up on an answer after 3 s (``http_timeout``) and retries.
SLACK_TIMEOUT_SECONDS = 3.0
#: Pauses before each retry (Slack's are immediate, 1 min and 5 min; compressed here).
RETRY_PAUSES = (0.1, 0.5, 1.5)
KINDS = ("due", "add", "log", "click", "form")
INSTALL_HINT = (
    "HAProxy is not installed. On Debian or Ubuntu: sudo apt-get install -y haproxy "
    "(then run this script again)."
)


def user_id(n: int) -> str:
    return f"USCALE{n:04d}"


def contact_name(user: int, n: int) -> str:
    return f"Scale Person {user:04d}-{n:02d}"


# --- the fake Slack (child process) -----------------------------------------------------------


def serve_fake(config: dict[str, Any]) -> None:
    """``fake`` child: answers ``stats`` (messages per channel, calls per method)."""
    from tests.fakes.slack_api import FakeSlack

    users = {
        user_id(n): {"real_name": f"Bench User {n}", "tz": "UTC", "profile": {}}
        for n in range(config["users"])
    }
    slack = FakeSlack(users=users).start()

    def stats() -> dict[str, Any]:
        with slack._lock:
            return {
                "per_channel": {ch: len(ms) for ch, ms in slack.messages.items()},
                "methods": Counter(c.method for c in slack.calls),
            }

    try:
        common.serve(slack.port, {"stats": stats})
    finally:
        slack.stop()


# --- set-up (parent) --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def seed(url: Any, users: int, contacts: int) -> dict[int, list[int]]:
    """Users with ``contacts`` contacts each, all due; every user's nudge is due now."""
    from sqlalchemy import text

    from bot.core.cadence import Span, Unit
    from bot.core.model import ContactDraft, UserRef
    from storage import db
    from storage.repository import SqlStore

    engine = db.create_engine(url)
    store = SqlStore(engine)
    today = datetime.now(UTC).date()
    ids: dict[int, list[int]] = {}
    try:
        for u in range(users):
            async with store.book(UserRef("slack", sr.TEAM, user_id(u))) as book:
                for n in range(contacts):
                    draft = ContactDraft(
                        name=contact_name(u, n),
                        cadence=Span(4, Unit.WEEKS),
                        company_role="Engineering manager at Example Co",
                    )
                    added = await book.add(draft, due_on=today - timedelta(days=n + 1), today=today)
                    ids.setdefault(u, []).append(added.id)
        # Due now: nudge time a minute ago (UTC), every day of the week.
        when = (datetime.now(UTC) - timedelta(minutes=1)).time().replace(second=0, microsecond=0)
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE users SET nudge_time = :t, nudge_days = 127, timezone = 'UTC'"),
                {"t": when},
            )
    finally:
        await engine.dispose()
    return ids


def haproxy_config(port: int, backends: list[int], stats_port: int) -> str:
    servers = "\n".join(
        f"    server web{n} 127.0.0.1:{p} check inter 500ms fall 3 rise 2"
        for n, p in enumerate(backends, start=1)
    )
    return f"""global
    maxconn 4096

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout queue 5s
    # A loaded process answers /healthz late, not never: only a refused connection or
    # three slow answers in a row take it out.
    timeout check 2s
    retries 3
    option redispatch 1
    option http-server-close

frontend slack
    bind 127.0.0.1:{port}
    default_backend web

backend web
    balance roundrobin
    option httpchk GET /healthz
{servers}

listen stats
    bind 127.0.0.1:{stats_port}
    stats enable
    stats uri /
"""


def start_haproxy(haproxy: str, config: Path, logs: Path) -> subprocess.Popen[bytes]:
    """HAProxy in the foreground (``-db``), logging to ``logs/haproxy.log``."""
    with open(logs / "haproxy.log", "wb") as log:
        return subprocess.Popen(
            [haproxy, "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=log
        )


@dataclass
class Web:
    """One ``python -m bot`` web process."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path


def start_web(env: dict[str, str], port: int, logs: Path, n: int) -> Web:
    log = logs / f"web{n}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--no-scheduler"],
            cwd=ROOT,
            env={**env, "PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Web(port, process, log)


async def wait_healthy(http: aiohttp.ClientSession, url: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(aiohttp.ClientError, OSError):
            async with http.get(url) as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not become healthy")


# --- the load (parent) ------------------------------------------------------------------------


@dataclass
class Request:
    """One logical request, sent once and retried like Slack."""

    index: int
    kind: str
    body: str
    #: Text of the effect to look for afterwards (contact name or conversation note).
    effect: str | None
    attempts: int = 0
    statuses: list[str] = field(default_factory=list)
    acknowledged: bool = False
    latency: float | None = None
    answer: bytes = b""


def make_request(i: int, users: int, contacts: dict[int, list[int]], response_url: str) -> Request:
    user = i % users
    kind = KINDS[(i + i // users) % len(KINDS)]
    n = (i // users) % len(contacts[user])
    uid = user_id(user)
    if kind == "due":
        return Request(i, kind, sr.slash_command("due", user=uid, response_url=response_url), None)
    if kind == "add":
        name = f"Scale Added {i:06d}"
        body = sr.slash_command(f"add {name} every 2 months", user=uid, response_url=response_url)
        return Request(i, kind, body, name)
    if kind == "log":
        note = f"scale-cmd-{i:06d}"
        text = f"log {contact_name(user, n)} -- {note}"
        return Request(i, kind, sr.slash_command(text, user=uid, response_url=response_url), note)
    if kind == "click":
        body = sr.block_action(
            "rc:snooze:1.1", str(contacts[user][n]), user=uid, response_url=response_url
        )
        return Request(i, kind, body, None)
    note = f"scale-form-{i:06d}"
    values = {
        "contact": sr.select(str(contacts[user][n])),
        "occurred_on": sr.date_picked(datetime.now(UTC).date().isoformat()),
        "note": note,
    }
    return Request(i, kind, sr.view_submission("rc_form:log_conversation", values, user=uid), note)


async def send(http: aiohttp.ClientSession, url: str, request: Request, due: float) -> None:
    """Send ``request`` (signed once, like Slack); retry a failure up to 3 times."""
    headers = sr.signed_headers(request.body, content_type=FORM)
    data = request.body.encode()
    for attempt in range(RETRIES + 1):
        request.attempts += 1
        extra = {}
        if attempt:
            await asyncio.sleep(RETRY_PAUSES[attempt - 1])
            reason = "http_timeout" if request.statuses[-1] == "timeout" else "http_error"
            extra = {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": reason}
        try:
            async with asyncio.timeout(SLACK_TIMEOUT_SECONDS):
                async with http.post(url, data=data, headers={**headers, **extra}) as response:
                    answer = await response.read()
                    status = response.status
        except TimeoutError:
            request.statuses.append("timeout")
            continue
        except (aiohttp.ClientError, OSError) as exc:
            request.statuses.append(type(exc).__name__)
            continue
        request.statuses.append(str(status))
        if status == 200:
            request.acknowledged = True
            request.latency = time.perf_counter() - due
            request.answer = answer
            return
        if status < 500:
            return  # a 4xx: Slack would not retry


async def run_load(
    url: str,
    args: argparse.Namespace,
    contacts: dict[int, list[int]],
    response_url: str,
    events: dict[float, Any],
) -> tuple[list[Request], float]:
    """Open loop at ``args.rate`` for ``args.seconds``; ``events`` run at their second."""
    count = round(args.rate * args.seconds)
    requests = [make_request(i, args.users, contacts, response_url) for i in range(count)]
    pending = sorted(events.items())
    connector = aiohttp.TCPConnector(limit=400)
    async with aiohttp.ClientSession(connector=connector) as http:
        tasks = []
        begin = time.perf_counter()
        for k, request in enumerate(requests):
            due = begin + k / args.rate
            while pending and pending[0][0] <= k / args.rate:
                _, action = pending.pop(0)
                action()
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(send(http, url, request, due)))
        for _, action in pending:
            action()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - begin
    return requests, elapsed


# --- checks (parent) --------------------------------------------------------------------------


def effects(url: Any) -> tuple[Counter[str], Counter[str], dict[str, int]]:
    """Contacts by name, conversations by note (ours only), and nudges by status."""
    from sqlalchemy import text

    with common.sync_engine(url) as engine, engine.connect() as connection:
        names = Counter(
            str(name)
            for (name,) in connection.execute(
                text("SELECT name FROM contacts WHERE name LIKE 'Scale Added %'")
            )
        )
        notes = Counter(
            str(note)
            for (note,) in connection.execute(
                text("SELECT note FROM conversations WHERE note LIKE 'scale-%'")
            )
        )
        nudges = {
            str(status): int(n)
            for status, n in connection.execute(
                text("SELECT status, count(*) FROM nudges GROUP BY status")
            )
        }
    return names, notes, nudges


def pending(url: Any) -> int:
    """Commands acknowledged early whose work is not done yet (``pending_work``): those of the
    killed process wait there until the surviving one takes them over."""
    from sqlalchemy import text

    with common.sync_engine(url) as engine, engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM pending_work")).scalar_one())


async def settled(
    url: Any, *, every: float = 2.0, within: float = 120.0
) -> tuple[Counter[str], Counter[str], dict[str, int]]:
    """:func:`effects` once two readings ``every`` seconds apart agree and no command is
    pending any more (or after ``within``: the surviving web process takes over the killed
    one's pending commands within about half a minute)."""
    last = await asyncio.to_thread(effects, url)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        await asyncio.sleep(every)
        now = await asyncio.to_thread(effects, url)
        if now == last and await asyncio.to_thread(pending, url) == 0:
            return now
        last = now
    return last


def log_lines(webs: list[Web], event: str) -> int:
    """How many times the web processes logged ``event``."""
    return sum(
        web.log.read_text(errors="replace").count(f"event='{event}'")
        for web in webs
        if web.log.exists()
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


def run_clock(env: dict[str, str], logs: Path, name: str) -> subprocess.Popen[bytes]:
    out = open(logs / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(
        [sys.executable, "-m", "jobs", "run-once"], cwd=ROOT, env=env, stdout=out, stderr=out
    )


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        raise SystemExit(INSTALL_HINT)
    with contextlib.ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rc_scaleout_")))
        if args.keep_logs:
            logs = Path(args.keep_logs)
            logs.mkdir(parents=True, exist_ok=True)
        url = stack.enter_context(common.database("postgresql"))
        print(f"seeding {args.users} users x {args.contacts} contacts …", flush=True)
        contacts = await seed(url, args.users, args.contacts)
        fake = common.FakeChild(__file__, {"users": args.users}, what="fake Slack")
        stack.callback(fake.close)
        api_url = f"http://127.0.0.1:{fake.port}/api/"
        response_url = f"http://127.0.0.1:{fake.port}/response/scaleout"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CONNECTIONS"))}
        env.update(
            DATABASE_URL=url.render_as_string(hide_password=False),
            SLACK_BOT_TOKEN="xoxb-bench",
            SLACK_SIGNING_SECRET=sr.SIGNING_SECRET,
            SLACK_API_URL=api_url,
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
        )
        ports = [free_port(), free_port()]
        webs = [start_web(env, port, logs, n) for n, port in enumerate(ports, start=1)]
        for web in webs:
            stack.callback(_stop, web.process)
        front, stats_port = free_port(), free_port()
        config = logs / "haproxy.cfg"
        config.write_text(haproxy_config(front, ports, stats_port))
        proxy = start_haproxy(haproxy, config, logs)
        stack.callback(_stop, proxy)
        async with aiohttp.ClientSession() as http:
            for port in ports:
                await wait_healthy(http, f"http://127.0.0.1:{port}/healthz")
            await wait_healthy(http, f"http://127.0.0.1:{front}/healthz")
            await asyncio.sleep(1.0)  # HAProxy's checks mark both servers up
        clocks: list[subprocess.Popen[bytes]] = []
        killed: dict[str, float] = {}
        started = time.monotonic()

        def kill() -> None:
            webs[0].process.send_signal(signal.SIGKILL)
            killed["at"] = time.monotonic() - started

        def clock() -> None:
            clocks.append(run_clock(env, logs, "clock"))

        print(
            f"load: {args.rate:g} req/s for {args.seconds:g} s through HAProxy; kill -9 web1 at "
            f"{args.kill_at:g} s; morning pass at {args.clock_at:g} s",
            flush=True,
        )
        requests, elapsed = await run_load(
            f"http://127.0.0.1:{front}/slack/events",
            args,
            contacts,
            response_url,
            {args.kill_at: kill, args.clock_at: clock},
        )
        for process in clocks:
            await asyncio.to_thread(process.wait, 300)
        # Work acknowledged late ("One moment…") may still be running: wait until the
        # database stops changing before judging.
        await settled(url)
        second = run_clock(env, logs, "clock-again")
        await asyncio.to_thread(second.wait, 300)
        names, notes, nudges = await settled(url)
        stats = fake.ask("stats")
        for web in webs:
            _stop(web.process)
        result = check(requests, names, notes, nudges, stats, args)
        result.update(
            # Commands acknowledged "One moment…" by the killed process before their work
            # committed, finished by the other one (issue 13), and any still pending.
            pending_taken_over=log_lines(webs, "slack.pending_taken_over"),
            pending_left=await asyncio.to_thread(pending, url),
            elapsed_s=round(elapsed, 2),
            killed_at_s=round(killed.get("at", float("nan")), 2),
            clock_exit=[p.returncode for p in clocks] + [second.returncode],
        )
        result["passed"] = result["passed"] and result["pending_left"] == 0
        if args.keep_logs:
            print(f"logs kept in {logs}")
        return result


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def check(
    requests: list[Request],
    names: Counter[str],
    notes: Counter[str],
    nudges: dict[str, int],
    stats: dict[str, Any],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """The exactly-once checks, and the figures."""
    acked = [r for r in requests if r.acknowledged]
    effects = [r for r in requests if r.effect is not None]
    found = {**names, **notes}
    missing = [r.index for r in effects if r.acknowledged and found.get(r.effect or "", 0) == 0]
    twice = [r.index for r in effects if found.get(r.effect or "", 0) > 1]
    unacked_done = [r.index for r in effects if not r.acknowledged and found.get(r.effect or "")]
    per_channel: dict[str, int] = stats["per_channel"]
    dms = {f"D{user_id(u)}": per_channel.get(f"D{user_id(u)}", 0) for u in range(args.users)}
    nudged_twice = sum(1 for n in dms.values() if n > 1)
    not_nudged = sum(1 for n in dms.values() if n == 0)
    retried = [r for r in requests if r.attempts > 1]
    latencies = [r.latency for r in acked if r.latency is not None]
    by_kind = Counter(r.kind for r in acked)
    result = {
        "requests": len(requests),
        "acknowledged": len(acked),
        "acknowledged_by_kind": dict(by_kind),
        "never_acknowledged": len(requests) - len(acked),
        "retried": len(retried),
        "retries_sent": sum(r.attempts - 1 for r in requests),
        "failed_attempts_by_status": dict(
            Counter(s for r in requests for s in r.statuses if s != "200")
        ),
        "acknowledged_after_retry": sum(1 for r in retried if r.acknowledged),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "effects_checked": sum(1 for r in effects if r.acknowledged),
        "effects_missing": len(missing),
        # Why: the kind, whether the ack was "One moment…" (the work still running when the
        # process died loses it), and every attempt's status.
        "effects_missing_detail": [
            {
                "kind": r.kind,
                "late_ack": b"One moment" in r.answer,
                "statuses": r.statuses,
                "answer": r.answer[:80].decode(errors="replace"),
            }
            for r in requests
            if r.index in set(missing[:20])
        ],
        "effects_twice": len(twice),
        "unacknowledged_with_effect": len(unacked_done),
        "nudges_by_status": nudges,
        "users": args.users,
        "users_nudged_once": sum(1 for n in dms.values() if n == 1),
        "users_nudged_twice": nudged_twice,
        "users_not_nudged": not_nudged,
        "late_acks": sum(1 for r in acked if b"One moment" in r.answer),
        "sorry_answers": sum(1 for r in acked if b"went wrong" in r.answer),
    }
    result["passed"] = (
        not missing
        and not twice
        and nudged_twice == 0
        and not_nudged == 0
        and nudges.get("sent", 0) == args.users
    )
    return result


def report(result: dict[str, Any]) -> None:
    print(json.dumps(result, indent=2))
    print(
        f"\n{result['acknowledged']} of {result['requests']} requests acknowledged "
        f"({result['retried']} retried, {result['acknowledged_after_retry']} acknowledged after "
        f"a retry); p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms from scheduled start"
    )
    print(
        f"effects: {result['effects_checked']} acknowledged writes checked, "
        f"{result['effects_missing']} missing, {result['effects_twice']} twice; nudges: "
        f"{result['users_nudged_once']} of {result['users']} users once, "
        f"{result['users_nudged_twice']} twice, {result['users_not_nudged']} none"
    )
    print("PASSED" if result["passed"] else "FAILED")


def main(argv: list[str] | None = None) -> int:
    if common.child_mode(argv, fake=serve_fake):
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second (200)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the load (20)")
    parser.add_argument("--kill-at", type=float, default=8.0, help="kill -9 web1 then (8 s)")
    parser.add_argument("--clock-at", type=float, default=5.0, help="morning pass then (5 s)")
    parser.add_argument("--users", type=int, default=200, help="Slack users (200)")
    parser.add_argument("--contacts", type=int, default=5, help="contacts per user (5)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--keep-logs", metavar="DIR", help="keep the processes' logs in DIR")
    args = parser.parse_args(argv)
    if shutil.which("haproxy") is None:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    print(f"scaleout_bench: {common.machine()}, code at {common.revision()}")
    try:
        result = asyncio.run(bench(args))
    except Exception as exc:
        print(f"scaleout_bench could not run: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    report(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
