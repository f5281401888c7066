"""Ack latency and throughput of ``/reconnect`` over HTTP, against a bare Bolt ``AsyncApp``.

Starts two servers in child processes, so neither shares the load generator's event loop:

* ``reconnect`` — the whole app from :func:`bot.app.build_app` with a fake Slack Web API in the
  same process, on a SQLite file in a temporary directory or a fresh PostgreSQL schema, seeded
  with ``--seed`` contacts for each of ``--users`` users (just over half of them due);
* ``bare`` — a Bolt ``AsyncApp`` with the same signing secret and route shape whose only
  listener is ``/reconnect`` → ``await ack("ok")``.

Both are warmed up, then get the same signed load from ``--concurrency`` clients (closed loop:
each client sends its next request when the previous answer arrives; this measures saturation
throughput and CPU per request), alternating between the two servers for ``--rounds`` rounds,
and then an open-loop run at ``--rate`` requests/s (200 by default) against each. The mix
(``--mix full``, the default) rotates ``/reconnect due``, ``/reconnect add <new name> every 2
months -- <notes>``, ``/reconnect log <a seeded contact>`` and a Snooze button click on a
seeded contact; ``--mix commands`` is the older ``due``/``add`` alternation. Only 127.0.0.1 is
contacted, and every phase is a fixed number of requests, so the run ends by itself.

    uv run python bench/ack_bench.py                       # SQLite, then PostgreSQL
    uv run python bench/ack_bench.py --db sqlite --requests 20000 --json results.json

The targets (issue 13's restatement): in the open-loop run, Reconnect's p99 ≤ 50 ms and
≤ 1.2 × bare Bolt's p99, per process, on both databases. Saturation throughput (and its ratio
to bare Bolt) and server CPU per request are reported as figures.

PostgreSQL is ``TEST_DATABASE_URL`` or postgresql://postgres@127.0.0.1:5432/test, as for the
tests. Exit status: 0 when every target is met, 1 when one is missed, 2 when requests failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import aiohttp
import common  # bench/, the script's own folder; puts the checkout on sys.path
from aiohttp import web
from common import ROOT

from tests.fakes import slack_requests as sr

FORM = "application/x-www-form-urlencoded"
P99_TARGET_MS = 50.0
#: Reconnect's open-loop p99 may be at most this multiple of bare Bolt's.
P99_RATIO_TARGET = 1.2
#: What Reconnect acks with when its answer misses the 2 s ack budget (bot/adapters/slack/app.py).
LATE_ACK = b"One moment"


def user_id(n: int) -> str:
    """The Slack user id of bench user ``n``."""
    return f"UBENCH{n:03d}"


# --- the servers (child processes) -----------------------------------------------------------


def seeded_name(user: int, n: int) -> str:
    """The name of seeded contact ``n`` of bench user ``user``."""
    return f"Seeded Person {user:03d}-{n:03d}"


async def seed(engine: Any, users: int, per_user: int) -> dict[int, list[int]]:
    """Give every bench user ``per_user`` contacts, just over half of them due, via the store;
    returns their ids by user (for button clicks)."""
    from bot.core.cadence import Span, Unit
    from bot.core.dates import local_today, system_clock
    from bot.core.model import ContactDraft, UserRef
    from storage.repository import SqlStore

    store = SqlStore(engine)
    today = local_today(system_clock(), "UTC")
    ids: dict[int, list[int]] = {}
    for u in range(users):
        async with store.book(UserRef("slack", sr.TEAM, user_id(u))) as book:
            for n in range(per_user):
                draft = ContactDraft(
                    name=seeded_name(u, n),
                    cadence=Span(n % 5 + 1, Unit.WEEKS),
                    company_role="Engineering manager at Example Co",
                    how_known="We worked together at Example",
                    notes="Met at the Thursday meetup; sails on weekends.",
                )
                due_on = today + timedelta(days=n - per_user // 2)
                added = await book.add(draft, due_on=due_on, today=today)
                ids.setdefault(u, []).append(added.id)
    return ids


def bare_web_app(api_url: str) -> web.Application:
    """A Bolt app that only acknowledges ``/reconnect``, on the same route shape as bot/web.py."""
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from tests.fakes.slack_api import BOT_TOKEN

    # AsyncApp has no token_verification_enabled: it always runs auth.test lazily.
    bolt = AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=api_url),
        signing_secret=sr.SIGNING_SECRET,
    )

    @bolt.command("/reconnect")
    async def ack_only(ack: Any) -> None:
        await ack("ok")

    @bolt.action(re.compile(r"^rc:"))
    async def ack_click(ack: Any) -> None:
        await ack()

    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application(client_max_size=1024**2)
    app.router.add_post("/slack/events", slack_events)
    return app


async def serve(kind: str, db_kind: str, users: int, per_user: int) -> None:
    """Serve ``kind`` on 127.0.0.1:<free port>; print the port; stop when stdin closes."""
    from bot.app import build_app, prepare_database
    from bot.settings import Settings, configure_logging
    from tests.fakes.slack_api import BOT_TOKEN, FakeSlack

    configure_logging("INFO")  # as `python -m bot` does: one log line per command, on stderr
    async with contextlib.AsyncExitStack() as stack:
        fake = stack.enter_context(FakeSlack())
        contacts: dict[int, list[int]] = {}
        if kind == "bare":
            web_app = bare_web_app(fake.api_url)
        else:
            url = stack.enter_context(common.database(db_kind))
            settings = Settings(
                database_url=url,
                slack_bot_token=BOT_TOKEN,
                slack_signing_secret=sr.SIGNING_SECRET,
                slack_api_url=fake.api_url,
            )
            await prepare_database(settings)
            app = build_app(settings)
            stack.push_async_callback(app.close)
            contacts = await seed(app.engine, users, per_user)
            web_app = app.web
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        ready = {"port": port, "response_url": fake.response_url("bench"), "contacts": contacts}
        print(json.dumps(ready), flush=True)

        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)

        def watch_stdin() -> None:
            sys.stdin.buffer.read()  # returns at EOF: the parent closed the pipe or went away
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=watch_stdin, daemon=True).start()
        await stop.wait()


# --- the load generator (parent process) -----------------------------------------------------


@dataclass
class Server:
    """A running child server."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    response_url: str
    log: IO[bytes]
    next_index: int = 0
    #: Seeded contact ids by user (Reconnect's; the bare server takes any value).
    contacts: dict[int, list[int]] = field(default_factory=dict)

    def cpu_seconds(self) -> float | None:
        """User + system CPU time the server process has used so far (Linux only)."""
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()

    def log_tail(self, lines: int = 30) -> str:
        self.log.flush()
        with open(self.log.name, "rb") as handle:
            return b"".join(handle.readlines()[-lines:]).decode(errors="replace")


def start_server(kind: str, db_kind: str, args: argparse.Namespace, log_dir: Path) -> Server:
    """Spawn ``bench/ack_bench.py --serve kind`` and read the port it bound."""
    log = open(log_dir / f"{kind}-{db_kind}.log", "w+b")  # noqa: SIM115 (closed in stop())
    command = [sys.executable, str(Path(__file__).resolve()), "--serve", kind, "--db", db_kind]
    command += ["--users", str(args.users), "--seed", str(args.seed)]
    process = subprocess.Popen(
        command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(30)
        log.close()
        text = Path(log.name).read_text(errors="replace")
        raise RuntimeError(f"the {kind} server ({db_kind}) did not start:\n{text[-3000:]}")
    info = json.loads(line)
    return Server(
        name=kind,
        process=process,
        url=f"http://127.0.0.1:{info['port']}/slack/events",
        response_url=info["response_url"],
        log=log,
        contacts={int(u): ids for u, ids in info.get("contacts", {}).items()},
    )


def make_request(
    server: Server,
    i: int,
    users: int,
    mix: str = "full",
    contacts: dict[int, list[int]] | None = None,
) -> tuple[str, bytes]:
    """Request ``i`` of the mix, and bytes its answer must contain.

    User ``i % users``. ``commands``: any ``users`` consecutive requests are half ``due``, half
    ``add``, each user alternating between the two. ``full``: each user rotates through ``due``,
    ``add``, ``log`` (a seeded contact) and a Snooze click (a seeded contact); a click's ack is
    empty (its answer goes to response_url).
    """
    user = i % users
    kinds = 2 if mix == "commands" else 4
    kind = (i + i // users) % kinds
    seeded = (contacts or server.contacts).get(user) or [0]
    pick = (i // users) % len(seeded)
    if kind == 3:
        body = sr.block_action(
            "rc:snooze:1.1", str(seeded[pick]), user=user_id(user), response_url=server.response_url
        )
        return body, b""
    if kind == 0:
        text, expect = "due", b"due"
    elif kind == 1:
        text, expect = f"add Loadtest Contact {i:07d} every 2 months -- from the bench", b"Added"
    else:
        text, expect = f"log {seeded_name(user, pick)} -- from the bench", b"Logged"
    body = sr.slash_command(
        text, user=user_id(user), response_url=server.response_url, trigger_id=f"T.{i}"
    )
    return body, expect if server.name == "reconnect" else b"ok"


@dataclass
class Phase:
    """What one run of the load against one server measured."""

    requests: int
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    cpu: float | None = None
    client_cpu: float = 0.0
    other_cpu: float = 0.0
    late: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed

    @property
    def other_share(self) -> float:
        """CPU used by everything but the server and the load generator, as a share of all
        cores (the idle second server, PostgreSQL, and anything else running)."""
        return self.other_cpu / (self.elapsed * (os.cpu_count() or 1))


async def send(
    http: aiohttp.ClientSession,
    server: Server,
    i: int,
    args: argparse.Namespace,
    phase: Phase,
    since: float | None = None,
) -> None:
    """Send request ``i`` (signed now) and record its latency, from ``since`` if given."""
    body, expect = make_request(server, i, args.users, args.mix, args.contacts)
    headers = sr.signed_headers(body, content_type=FORM)
    data = body.encode()
    started = time.perf_counter() if since is None else since
    async with http.post(server.url, data=data, headers=headers) as response:
        answer = await response.read()
    phase.latencies.append(time.perf_counter() - started)
    if response.status == 200 and LATE_ACK in answer:
        phase.late += 1
    elif response.status != 200 or expect not in answer:
        phase.errors.append(f"{response.status} {answer[:200]!r}")


async def measure(server: Server, phase: Phase, load: Any, args: argparse.Namespace) -> Phase:
    """Run the coroutine ``load`` and fill in ``phase``'s time and CPU figures."""
    cpu_before = server.cpu_seconds()
    busy_before = machine_busy_seconds()
    client_before = time.process_time()
    started = time.perf_counter()
    await load
    phase.elapsed = time.perf_counter() - started
    phase.client_cpu = time.process_time() - client_before
    busy_after = machine_busy_seconds()
    cpu_after = server.cpu_seconds()
    if cpu_before is not None and cpu_after is not None:
        phase.cpu = cpu_after - cpu_before
    if busy_before is not None and busy_after is not None and phase.cpu is not None:
        phase.other_cpu = max(0.0, busy_after - busy_before - phase.cpu - phase.client_cpu)
    if args.verbose:
        latencies = sorted(phase.latencies)
        print(
            f"  {server.name:<9} {phase.requests:>6} requests {phase.rps:>6.0f}/s  "
            f"p50 {percentile(latencies, 0.5) * 1000:6.1f} ms  "
            f"p99 {percentile(latencies, 0.99) * 1000:6.1f} ms  "
            f"server cpu {(phase.cpu or 0) / phase.requests * 1000:5.2f} ms/req  "
            f"load generator cpu {phase.client_cpu / phase.requests * 1000:4.2f} ms/req  "
            f"late {phase.late}  errors {len(phase.errors)}  "
            f"other processes {phase.other_share:.0%} of the machine"
        )
    return phase


async def drive(
    http: aiohttp.ClientSession, server: Server, count: int, args: argparse.Namespace
) -> Phase:
    """Closed loop: ``args.concurrency`` clients send ``count`` requests, each waiting for the
    answer to its previous request before sending the next."""
    first = server.next_index
    server.next_index += count
    indexes = iter(range(first, first + count))
    phase = Phase(count)

    async def client() -> None:
        for i in indexes:
            await send(http, server, i, args, phase)

    load = asyncio.gather(*(client() for _ in range(args.concurrency)))
    return await measure(server, phase, load, args)


async def pace(
    http: aiohttp.ClientSession, server: Server, count: int, args: argparse.Namespace
) -> Phase:
    """Open loop: start a request every ``1 / args.rate`` seconds whatever the answers do;
    latency counts from when a request was due to start."""
    first = server.next_index
    server.next_index += count
    phase = Phase(count)

    async def load() -> None:
        tasks = []
        begin = time.perf_counter()
        for k in range(count):
            due = begin + k / args.rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(send(http, server, first + k, args, phase, due)))
        await asyncio.gather(*tasks)

    return await measure(server, phase, load(), args)


def machine_busy_seconds() -> float | None:
    """CPU time all processes have used on this machine (Linux ``/proc/stat``), or ``None``."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


@dataclass
class Summary:
    """All measured phases of one server."""

    name: str
    phases: list[Phase]

    @property
    def requests(self) -> int:
        return sum(p.requests for p in self.phases)

    @property
    def errors(self) -> int:
        return sum(len(p.errors) for p in self.phases)

    @property
    def late(self) -> int:
        return sum(p.late for p in self.phases)

    @property
    def rps(self) -> float:
        return self.requests / sum(p.elapsed for p in self.phases)

    @property
    def cpu_ms(self) -> float | None:
        """Server CPU time per request, in milliseconds."""
        if any(p.cpu is None for p in self.phases):
            return None
        return sum(p.cpu or 0.0 for p in self.phases) / self.requests * 1000

    def ms(self, q: float) -> float:
        values = sorted(v for p in self.phases for v in p.latencies)
        return percentile(values, q) * 1000

    def row(self) -> str:
        rounds = [p.rps for p in self.phases]
        cpu = "-" if self.cpu_ms is None else f"{self.cpu_ms:.2f}"
        return (
            f"{self.name:<10} {self.requests:>8} {self.errors:>6} {self.late:>5} "
            f"{self.ms(0.5):>7.1f} {self.ms(0.99):>7.1f} {self.ms(1.0):>7.1f} {self.rps:>7.0f} "
            f"{cpu:>7}   {min(rounds):.0f}–{max(rounds):.0f}"
        )

    def figures(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "late_acks": self.late,
            "p50_ms": round(self.ms(0.5), 2),
            "p99_ms": round(self.ms(0.99), 2),
            "max_ms": round(self.ms(1.0), 2),
            "rps": round(self.rps, 1),
            "rps_per_round": [round(p.rps, 1) for p in self.phases],
            "server_cpu_ms_per_request": None if self.cpu_ms is None else round(self.cpu_ms, 3),
        }


async def bench_database(db_kind: str, args: argparse.Namespace, log_dir: Path) -> dict[str, Any]:
    """Start both servers for ``db_kind``, warm them up, measure; print and return the figures."""
    servers: list[Server] = []
    phases: dict[str, list[Phase]] = {"bare": [], "reconnect": []}
    paced: dict[str, Phase] = {}
    per_round = max(1, args.requests // args.rounds)
    try:
        bare = start_server("bare", db_kind, args, log_dir)
        servers.append(bare)
        app = start_server("reconnect", db_kind, args, log_dir)
        servers.append(app)
        args.contacts = app.contacts  # both servers get the same requests
        limits = {"limit": args.concurrency, "limit_per_host": args.concurrency}
        async with (
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(**limits)) as http_bare,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(**limits)) as http_app,
        ):
            sessions = {"bare": http_bare, "reconnect": http_app}
            for server in servers if args.warmup else ():
                warm = await drive(sessions[server.name], server, args.warmup, args)
                if warm.errors:
                    raise RuntimeError(f"{server.name} warm-up failed: {warm.errors[:3]}")
            for r in range(args.rounds):
                for server in servers if r % 2 == 0 else reversed(servers):
                    phase = await drive(sessions[server.name], server, per_round, args)
                    phases[server.name].append(phase)
            if args.rate:
                count = max(1, round(args.rate * args.rate_seconds))
                for server in servers:
                    paced[server.name] = await pace(sessions[server.name], server, count, args)
        for server in servers:
            if server.process.poll() is not None:
                raise RuntimeError(f"{server.name} server exited:\n{server.log_tail()}")
    finally:
        for server in servers:
            server.stop()

    bare_sum = Summary("bare Bolt", phases["bare"])
    app_sum = Summary("Reconnect", phases["reconnect"])
    ratio = app_sum.rps / bare_sum.rps
    # The targets are on the open-loop run (the closed loop's p99 follows its throughput).
    open_app = Summary("Reconnect", [paced["reconnect"]]) if paced else app_sum
    open_bare = Summary("bare Bolt", [paced["bare"]]) if paced else bare_sum
    p99_ratio = open_app.ms(0.99) / open_bare.ms(0.99)
    p99_ok = open_app.ms(0.99) <= P99_TARGET_MS
    ratio_ok = p99_ratio <= P99_RATIO_TARGET
    title = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[db_kind]
    print(
        f"\n== {title}: {args.concurrency} clients, {args.rounds} interleaved rounds of "
        f"{per_round} requests per server, after {args.warmup} warm-up requests each; "
        f"{args.users} users with {args.seed} seeded contacts"
    )
    header = (
        f"{'server':<10} {'requests':>8} {'errors':>6} {'late':>5} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'max ms':>7} {'req/s':>7} {'cpu ms':>7}   req/s per round"
    )
    print(header)
    print(bare_sum.row())
    print(app_sum.row())
    print(f"saturation throughput ratio Reconnect/bare (a figure, no target): {ratio:.2f}")
    measured = phases["bare"] + phases["reconnect"]
    other = sum(p.other_cpu for p in measured) / sum(
        p.elapsed * (os.cpu_count() or 1) for p in measured
    )
    print(
        f"other processes (PostgreSQL, the idle server, anything else) used {other:.0%} of "
        "the machine's CPU while measuring"
    )
    if paced:
        print(
            f"open loop at {args.rate:g} req/s for {args.rate_seconds:g} s, at most "
            f"{args.concurrency} connections (latency counted from each request's scheduled start):"
        )
        print(header)
        for name, label in (("bare", "bare Bolt"), ("reconnect", "Reconnect")):
            print(Summary(label, [paced[name]]).row())
    print(
        f"targets{'' if paced else ' (no open-loop run: on the closed loop)'}: Reconnect p99 "
        f"{open_app.ms(0.99):.1f} ms <= {P99_TARGET_MS:.0f} ms: {'met' if p99_ok else 'MISSED'}; "
        f"p99 {p99_ratio:.2f} x bare Bolt's ({open_bare.ms(0.99):.1f} ms) <= {P99_RATIO_TARGET}: "
        f"{'met' if ratio_ok else 'MISSED'}"
    )
    for name, summary in (("bare", bare_sum), ("reconnect", app_sum)):
        errors = [e for p in summary.phases for e in p.errors]
        errors += paced[name].errors if name in paced else []
        for error in errors[:3]:
            print(f"  {summary.name} error: {error}")
    return {
        "database": db_kind,
        "concurrency": args.concurrency,
        "bare": bare_sum.figures(),
        "reconnect": app_sum.figures(),
        "ratio": round(ratio, 3),
        "open_loop_p99_ratio": round(p99_ratio, 3),
        "other_cpu_share": round(other, 3),
        "p99_target_met": p99_ok,
        "p99_ratio_target_met": ratio_ok,
        "open_loop": {
            "rate": args.rate,
            "seconds": args.rate_seconds,
            **{name: Summary(name, [phase]).figures() for name, phase in paced.items()},
        }
        if paced
        else None,
    }


async def run(args: argparse.Namespace) -> list[dict[str, Any]] | None:
    """Benchmark each database in turn; ``None`` when a benchmark could not run."""
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    cpus = os.cpu_count() or 1
    before = machine_busy_seconds()
    await asyncio.sleep(1.0)
    after = machine_busy_seconds()
    busy = None if before is None or after is None else min(1.0, (after - before) / cpus)
    print(
        f"ack_bench: {cpus} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; machine "
        f"{'?' if busy is None else f'{busy:.0%}'} busy before starting"
    )
    if busy is not None and busy > 0.2:
        print("warning: other processes are using the CPU; the figures will be noisy")
    print(
        "columns: late = acked “One moment…” after the 2 s budget; cpu ms = server process "
        "CPU time per request; p50/p99/max = client-side latency"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="rc_bench_logs_") as logs:
        for kind in kinds:
            try:
                results.append(await bench_database(kind, args, Path(logs)))
            except Exception as exc:
                print(f"\n{kind}: benchmark failed: {exc}", file=sys.stderr)
                return None
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--requests", type=int, default=5_000, help="measured requests per server (5000)"
    )
    parser.add_argument("--concurrency", type=int, default=20, help="concurrent clients (20)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (5)")
    parser.add_argument("--warmup", type=int, default=1_000, help="warm-up requests per server")
    parser.add_argument("--users", type=int, default=20, help="distinct Slack users (20)")
    parser.add_argument("--seed", type=int, default=20, help="contacts seeded per user (20)")
    parser.add_argument(
        "--rate",
        type=float,
        default=200.0,
        help="then an open-loop run at this req/s (200; 0: off)",
    )
    parser.add_argument(
        "--mix",
        choices=("full", "commands"),
        default="full",
        help="full: due, add, log and button clicks (default); commands: due and add",
    )
    parser.add_argument(
        "--rate-seconds", type=float, default=20.0, help="length of the open-loop run (20 s)"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every phase")
    parser.add_argument("--serve", choices=("reconnect", "bare"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.contacts = {}
    if args.serve:
        asyncio.run(serve(args.serve, args.db, args.users, args.seed))
        return 0
    if min(args.requests, args.concurrency, args.rounds, args.users, args.warmup + 1) < 1:
        parser.error("--requests, --concurrency, --rounds and --users must be positive")
    results = asyncio.run(run(args))
    if results is None:
        return 2
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    errors = any(
        part[server]["errors"]
        for r in results
        for part in (r, r["open_loop"] or {"bare": {"errors": 0}, "reconnect": {"errors": 0}})
        for server in ("bare", "reconnect")
    )
    met = all(r["p99_target_met"] and r["p99_ratio_target_met"] for r in results)
    return 2 if errors else 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
