"""Morning nudges on Teams at the tenant's rate limit: how close does delivery get to the floor?

``--users`` Teams users in one tenant (default 3,000), each with one or two contacts, all due at
08:30 UTC, each with a stored conversation reference (as the bot saves on install) pointing at
:class:`tests.fakes.teams_connector.FakeTeamsConnector`. The fake throttles like Teams: a token
bucket of ``--rate`` requests a second per tenant (default 30) holding at most ``--burst`` tokens
(default 30: one second's worth), and 7 a second per conversation; a request over the limit is
answered ``429`` with ``Retry-After: --retry-after`` (default 1 s) and uses no token. The floor
is ``users / rate`` (3,000 / 30 = 100 s; strictly ``(users - burst) / rate`` = 99 s, since the
first ``burst`` requests are free).

One real pass of the production runner (``NudgeRunner.run_once`` built by
:func:`jobs.app.build_runner`, with a :class:`TeamsMessenger` in anonymous mode sending through
the Agents SDK) is measured for each combination of ``--concurrency`` (``NudgeConfig.
concurrency``) and ``--per-tenant`` (the messenger's client-side limit; ``0`` switches it off).

Processes (``--fake process``, the default), so the fake's HTTP server does not share the
runner's GIL:

* this one seeds the database (bulk inserts, not measured) and checks the results;
* ``fake`` — the fake connector in a child process; asked on stdin for ``reset`` and ``stats``
  (messages per conversation, 429s, when each accepted send arrived);
* ``run`` — a fresh child per pass that builds the runner and calls ``run_once`` once.

``--fake thread`` runs the fake in a thread of the ``run`` child instead (to see what the GIL
does to the result). ``--workers 2`` starts two ``run`` children at once, as two schedulers
ticking in the same minute would (each has its own client-side limiter). ``--client-burst B``
is an experiment, not production: the messenger's limiters get a burst of ``B`` requests
instead of a whole second's worth (same rate). The fake answers after ``--latency`` (default
100 ms, roughly a real Bot Connector round trip).

Reported per pass: delivery time (``_deliver_all``) and its ratio to the floor; 429s (at the
fake, and as recorded by the runner); lost (users with no message at the fake) and duplicated
(users with more than one); the fake's view (first to last accepted send, most sends in any
one-second window); the runner's view (time per SDK send, time waiting for the limiter and the
reference lookup, event-loop lag, CPU). Only 127.0.0.1 is contacted; every pass has a timeout.

    uv run python bench/teams_nudge_bench.py                        # 3,000 users, SQLite
    uv run python bench/teams_nudge_bench.py --db both --concurrency 10,20,50 --per-tenant 30,29
    uv run python bench/teams_nudge_bench.py --users 600 --fake thread   # a quick look (20 s)
    uv run --with pyinstrument python bench/teams_nudge_bench.py --users 600 --profile /tmp/p

PostgreSQL is ``TEST_DATABASE_URL`` or postgresql://postgres@127.0.0.1:5432/test, as for the
tests (a fresh schema, dropped afterwards). Exit status: 0 when the best pass of every database
is within 10 % of the floor with nothing lost or duplicated, 1 when not, 2 when a pass failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from child import FakeChild  # bench/, the script's own folder

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ANONYMOUS = {"CONNECTIONS__SERVICE_CONNECTION__SETTINGS__ANONYMOUS_ALLOWED": "true"}
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOT = {"id": "28:00000000-0000-0000-0000-00000000b07", "name": "Reconnect"}
TARGET_RATIO = 1.10  # the issue: within 10 % of the floor
PER_CONVERSATION = 7.0  # Teams: about 7 messages a second in one conversation
UNLIMITED = 1_000_000.0  # --per-tenant 0: the messenger's limiter never waits
NUDGE_TIME = "08:30:00"
FIRST = ("Dana", "Priya", "Marcus", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Lena")
LAST = ("Whitfield", "Raman", "Chen", "Novak", "Haddad", "Berg", "Tanaka", "Keller", "Ortega")


def conversation_id(n: int) -> str:
    """Bench user ``n``'s personal chat with the bot (1-based)."""
    return f"a:1bench-personal-{n:06d}"


# --- seeding ----------------------------------------------------------------------------------


def reference_json(n: int, service_url: str) -> str:
    """The conversation reference the bot stores for user ``n`` (made by the SDK, as in
    ``bot.adapters.teams.bot._remember``)."""
    from microsoft_agents.activity import Activity

    activity = Activity.model_validate(
        {
            "type": "installationUpdate",
            "action": "add",
            "id": f"f:{n}",
            "serviceUrl": service_url,
            "channelId": "msteams",
            "from": {"id": f"29:bench-{n}", "name": f"User {n}", "aadObjectId": f"aad-{n}"},
            "conversation": {
                "conversationType": "personal",
                "tenantId": TENANT,
                "id": conversation_id(n),
            },
            "recipient": BOT,
            "channelData": {"tenant": {"id": TENANT}},
            "locale": "en-US",
        }
    )
    reference = activity.get_conversation_reference()
    reference.activity_id = None
    return reference.model_dump_json(by_alias=True, exclude_unset=True, exclude_none=True)


def seed(url: Any, users: int, contacts: int, day: date, service_url: str) -> float:
    """Users, contacts and conversation references in bulk (one transaction); returns seconds."""
    from sqlalchemy import create_engine

    from bot.core.text import fold
    from storage import db
    from storage.models import ContactRow, ConversationRef, User

    started = time.perf_counter()
    now = datetime.now(UTC)
    user_rows, contact_rows, ref_rows = [], [], []
    for n in range(1, users + 1):
        user_rows.append(
            {
                "id": n,
                "platform": "teams",
                "workspace_id": TENANT,
                "external_id": f"aad-{n}",
                "timezone": "UTC",
                "timezone_source": "user",
                "nudge_time": datetime.strptime(NUDGE_TIME, "%H:%M:%S").time(),
                "nudge_days": 127,
                "cards_per_nudge": 3,
                "dm_channel": conversation_id(n),  # SqlStore.save_reference caches it
            }
        )
        for j in range(1 + (n % contacts if contacts > 1 else 0)):
            name = f"{FIRST[(n + j) % len(FIRST)]} {LAST[(n * 7 + j) % len(LAST)]}"
            contact_rows.append(
                {
                    "owner_id": n,
                    "name": name,
                    "name_key": fold(name),
                    "company_role": "",
                    "how_known": "worked together at Acme" if j == 0 else "",
                    "notes": "loves sailing" if n % 3 == 0 else "",
                    "cadence_count": 1,
                    "cadence_unit": "months",
                    "last_contacted_on": day - timedelta(days=40 + n % 200),
                    "next_due_on": day - timedelta(days=n % 30),
                    "last_note": "",
                    "created_on": day - timedelta(days=400),
                }
            )
        ref_rows.append(
            {
                "user_id": n,
                "conversation_id": conversation_id(n),
                "reference": reference_json(n, service_url),
                "updated_at": now,
            }
        )
    engine = create_engine(db.sync_url(url))
    try:
        with engine.begin() as connection:
            connection.execute(User.__table__.insert(), user_rows)
            connection.execute(ContactRow.__table__.insert(), contact_rows)
            connection.execute(ConversationRef.__table__.insert(), ref_rows)
            if engine.dialect.name == "postgresql":
                for table in ("users", "contacts"):
                    connection.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                    )
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
    finally:
        engine.dispose()
    return time.perf_counter() - started


def reset(url: Any) -> None:
    """Forget every nudge, attempt, prompt view and worker (between passes)."""
    from sqlalchemy import create_engine, text

    from storage import db

    engine = create_engine(db.sync_url(url))
    try:
        with engine.begin() as connection:
            for table in ("delivery_attempts", "nudges", "prompt_views", "workers"):
                connection.execute(text(f"DELETE FROM {table}"))
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE nudges, delivery_attempts"))
    finally:
        engine.dispose()


def point_references_at(url: Any, service_url: str) -> None:
    """Rewrite every stored ``serviceUrl`` (the fake's port changes from run to run)."""
    from sqlalchemy import create_engine, text

    from storage import db

    engine = create_engine(db.sync_url(url))
    try:
        with engine.begin() as connection:
            raw = connection.execute(text("SELECT reference FROM conversation_refs LIMIT 1"))
            first = raw.scalar()
            old = json.loads(first)["serviceUrl"] if first else service_url
            if old != service_url:
                connection.execute(
                    text("UPDATE conversation_refs SET reference = replace(reference, :old, :new)"),
                    {"old": f'"serviceUrl":"{old}"', "new": f'"serviceUrl":"{service_url}"'},
                )
    finally:
        engine.dispose()


def database_state(url: Any) -> dict[str, Any]:
    """Nudges by status, attempts (and why they ended), and users with more than one nudge."""
    from sqlalchemy import create_engine, text

    from storage import db

    engine = create_engine(db.sync_url(url))
    try:
        with engine.connect() as connection:
            statuses = {
                str(k): v
                for k, v in connection.execute(
                    text("SELECT status, count(*) FROM nudges GROUP BY status")
                ).all()
            }
            outcomes = {
                str(k): v
                for k, v in connection.execute(
                    text("SELECT outcome, count(*) FROM delivery_attempts GROUP BY outcome")
                ).all()
            }
            most = connection.execute(text("SELECT max(attempts) FROM nudges")).scalar()
            doubled = connection.execute(
                text(
                    "SELECT count(*) FROM (SELECT user_id FROM nudges GROUP BY user_id "
                    "HAVING count(*) > 1) AS d"
                )
            ).scalar()
    finally:
        engine.dispose()
    return {
        "nudges_by_status": statuses,
        "attempts_by_outcome": outcomes,
        "most_attempts": most,
        "users_with_two_nudges": doubled,
    }


@contextlib.contextmanager
def database(kind: str) -> Iterator[Any]:
    """A fresh, migrated database of ``kind``, removed afterwards."""
    from storage import db

    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="rc_teams_bench_") as folder:
            url = db.normalise_url(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
            db.upgrade(url)
            yield url
    else:
        from tests.support import postgres_schema

        with postgres_schema() as url:
            yield url


# --- the fake Teams connector -----------------------------------------------------------------


def start_fake(rate: float, burst: float, retry_after: float, latency: float) -> Any:
    from tests.fakes.teams_connector import FakeTeamsConnector

    fake = FakeTeamsConnector(latency=latency).start()
    fake.rate_limit(
        per_second=rate,
        burst=burst,
        per_conversation=PER_CONVERSATION,
        retry_after=retry_after if retry_after > 0 else None,
    )
    return fake


def fake_stats(fake: Any, rate: float) -> dict[str, Any]:
    """What reached "Teams": messages per conversation, 429s, the pace of accepted sends."""
    with fake._lock:
        calls = list(fake.calls)
        throttled = fake.throttled
    per_conversation: Counter[str] = Counter()
    accepted: list[float] = []
    rejected: list[float] = []
    statuses: Counter[str] = Counter()
    for call in calls:
        statuses[f"{call.kind} {call.status}"] += 1
        if call.kind in ("send", "reply") and call.ok and not call.is_typing:
            per_conversation[call.conversation_id or ""] += 1
            accepted.append(call.at)
        elif call.throttled:
            rejected.append(call.at)
    accepted.sort()
    begin = min(accepted[:1] + rejected[:1], default=0.0)
    busiest, start = 0, 0
    for end, stamp in enumerate(accepted):  # most accepted sends in any one-second window
        while stamp - accepted[start] >= 1.0:
            start += 1
        busiest = max(busiest, end - start + 1)
    return {
        "per_conversation": dict(per_conversation),
        "throttled": throttled,
        "calls": dict(statuses),
        "first_accepted": accepted[0] if accepted else None,
        "last_accepted": accepted[-1] if accepted else None,
        "busiest_second": busiest,
        # when the 429s came, in seconds after the first request: [0, 2), [2, 10), [10, …)
        "throttled_by_time": [
            sum(1 for t in rejected if t - begin < 2),
            sum(1 for t in rejected if 2 <= t - begin < 10),
            sum(1 for t in rejected if t - begin >= 10),
        ],
        "rate": rate,
    }


def serve_fake(rate: float, burst: float, retry_after: float, latency: float) -> None:
    """``fake`` child: print ``PORT <n>``, then answer ``reset`` / ``stats`` until ``quit``."""
    fake = start_fake(rate, burst, retry_after, latency)
    print(f"PORT {fake.port}", flush=True)
    try:
        for line in sys.stdin:
            command = line.strip()
            if command == "stats":
                print(json.dumps(fake_stats(fake, rate)), flush=True)
            elif command == "reset":
                fake.reset()  # forgets calls and refills the buckets; the limit stays on
                print("OK", flush=True)
            elif command == "quit":
                break
    finally:
        fake.stop()


class FakeProcess(FakeChild):
    """The ``fake`` child, seen from the parent."""

    def __init__(self, rate: float, burst: float, retry_after: float, latency: float) -> None:
        args = [
            "fake", "--rate", str(rate), "--burst", str(burst),
            "--retry-after", str(retry_after), "--latency", str(latency),
        ]  # fmt: skip
        super().__init__(__file__, args, what="the fake connector", cwd=ROOT)

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


# --- the measured pass (child process) --------------------------------------------------------


def measure(args: argparse.Namespace) -> None:
    """``run`` child: one real pass, timed; prints ``RESULT {json}``."""
    fake = None
    service_url = args.service_url
    if not service_url:  # --fake thread: the fake shares this process (and its GIL)
        fake = start_fake(args.rate, args.burst, args.retry_after, args.latency)
        service_url = fake.service_url
    try:
        from storage import db

        point_references_at(db.normalise_url(args.url), service_url)
        result = asyncio.run(_measure(args))
        if fake is not None:
            result["fake"] = fake_stats(fake, args.rate)
    finally:
        if fake is not None:
            fake.stop()
    print("RESULT " + json.dumps(result), flush=True)


async def _measure(args: argparse.Namespace) -> dict[str, Any]:
    from bot.adapters.teams.hosting import build_hosting
    from bot.adapters.teams.messenger import TeamsMessenger
    from bot.settings import Settings, TeamsSettings, configure_logging
    from jobs.app import build_runner
    from storage import db
    from storage.repository import SqlStore

    configure_logging(os.environ.get("LOG_LEVEL", "WARNING"))
    at = datetime.fromisoformat(args.at)
    settings = Settings(
        database_url=db.normalise_url(args.url),
        teams=TeamsSettings(client_id=None, anonymous=True),
        nudge_concurrency=args.concurrency,
    )
    engine = db.create_engine(settings.database_url)
    per_tenant = args.per_tenant if args.per_tenant > 0 else UNLIMITED
    messenger_class = TeamsMessenger
    if args.client_burst > 0:  # an experiment, not production: a limiter with a smaller burst
        from aiolimiter import AsyncLimiter

        burst = args.client_burst

        class SmallBurstMessenger(TeamsMessenger):
            @staticmethod
            def _limiter(
                limiters: dict[str, AsyncLimiter], key: str, per_second: float
            ) -> AsyncLimiter:
                limiter = limiters.get(key)
                if limiter is None:
                    size = min(burst, per_second)
                    limiter = limiters[key] = AsyncLimiter(size, size / per_second)
                return limiter

        messenger_class = SmallBurstMessenger
    messenger = messenger_class(build_hosting(ANONYMOUS), SqlStore(engine), per_tenant=per_tenant)
    runner = build_runner(
        settings, engine=engine, clock=lambda: at, messengers={"teams": messenger}
    )

    marks: dict[str, float] = {}
    posts: list[float] = []  # messenger.post: lookup + limiter wait + SDK send
    sends: list[float] = []  # messenger._send: the SDK's continue_conversation + HTTP
    lookups: list[float] = []  # SqlStore.reference_for_conversation

    def timed(name: str, method: Any) -> Any:
        async def wrapper(*a: Any, **k: Any) -> Any:
            marks[f"{name}_start"] = time.monotonic()
            try:
                return await method(*a, **k)
            finally:
                marks[f"{name}_end"] = time.monotonic()

        return wrapper

    def sampled(into: list[float], method: Any) -> Any:
        async def wrapper(*a: Any, **k: Any) -> Any:
            started = time.monotonic()
            try:
                return await method(*a, **k)
            finally:
                into.append(time.monotonic() - started)

        return wrapper

    for name in ("_plan", "_compose", "_deliver_all"):
        setattr(runner, name, timed(name.strip("_"), getattr(runner, name)))
    messenger.post = sampled(posts, messenger.post)  # type: ignore[method-assign]
    messenger._send = sampled(sends, messenger._send)  # type: ignore[method-assign]
    store = messenger.store
    store.reference_for_conversation = sampled(lookups, store.reference_for_conversation)  # type: ignore[method-assign]

    lag: list[tuple[float, float]] = []

    async def watch_loop() -> None:  # how late a 10 ms sleep wakes up: CPU or GIL pressure
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.01)
            lag.append((before, time.monotonic() - before - 0.01))

    await runner.store.workers()  # connect once, as a running scheduler would have
    watcher = asyncio.create_task(watch_loop())
    profiler: Any = None
    if args.profile:  # pyinstrument: wall time, async-aware (profiled passes run slower)
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="enabled")
        profiler.start()
    threads_before = thread_cpu()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    summary = await runner.run_once(at)
    ended = time.monotonic()
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    threads_after = thread_cpu()
    if profiler is not None:
        save_profile(profiler, args.profile)
    watcher.cancel()
    await runner.stop()
    await engine.dispose()
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    # A worker that claimed nothing never delivers: an empty window at the end of its pass.
    delivering = marks.get("deliver_all_start", ended)
    delivered = marks.get("deliver_all_end", ended)
    return {
        "plan_s": marks["plan_end"] - started,
        "compose_s": marks.get("compose_end", 0.0) - marks.get("compose_start", 0.0),
        "deliver_s": delivered - delivering,
        "deliver_start": delivering,
        "deliver_end": delivered,
        "run_once_s": ended - started,
        "cpu_s": cpu,
        "thread_cpu_s": {
            name: round(spent - threads_before.get(name, 0.0), 2)
            for name, spent in threads_after.items()
            if spent - threads_before.get(name, 0.0) >= 0.05
        },
        "summary": summary.line(),
        "due": summary.due,
        "sent": summary.sent,
        "failed": summary.failed,
        "undeliverable": summary.undeliverable,
        "post_ms": _quantiles(posts),
        "send_ms": _quantiles(sends),
        "lookup_ms": _quantiles(lookups),
        "loop_lag_ms": _quantiles([d for t, d in lag if t >= delivering]),
        "decide_loop_lag_max_ms": round(
            max((d for t, d in lag if t < delivering), default=0.0) * 1000, 1
        ),
        "posts": len(posts),
    }


def save_profile(profiler: Any, prefix: str) -> None:
    profiler.stop()
    Path(f"{prefix}.html").write_text(profiler.output_html())
    Path(f"{prefix}.txt").write_text(profiler.output_text(unicode=True))


def thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) of each live thread of this process, by thread name."""
    import threading

    tick = os.sysconf("SC_CLK_TCK")
    names: Counter[str] = Counter()
    out: dict[str, float] = {}
    for thread in threading.enumerate():
        try:
            with open(f"/proc/self/task/{thread.native_id}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kind = thread.name.split("-")[0].split(" ")[0] if thread.name != "MainThread" else "main"
        names[kind] += 1
        key = kind if names[kind] == 1 else f"{kind}#{names[kind]}"
        out[key] = (int(fields[11]) + int(fields[12])) / tick
    return out


def _quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {
        "p50": at(0.5),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1] * 1000, 2),
        "mean": round(statistics.fmean(ordered) * 1000, 2),
    }


# --- orchestration ----------------------------------------------------------------------------


def run_pass(
    url: Any,
    args: argparse.Namespace,
    *,
    fake: FakeProcess | None,
    concurrency: int,
    per_tenant: float,
    at: datetime,
) -> dict[str, Any]:
    """One measured pass in a fresh ``run`` child; checks the fake and the database after."""
    if fake is not None:
        assert fake.ask("reset") == "OK"
    floor = args.users / args.rate
    timeout = max(600.0, 6 * floor)
    load_before = os.getloadavg()[0]
    command = [
        sys.executable, __file__, "run", "--url", url.render_as_string(hide_password=False),
        "--service-url", fake.service_url if fake is not None else "",
        "--concurrency", str(concurrency), "--per-tenant", str(per_tenant), "--at", at.isoformat(),
        "--rate", str(args.rate), "--burst", str(args.burst),
        "--retry-after", str(args.retry_after), "--latency", str(args.latency),
        "--client-burst", str(args.client_burst),
    ]  # fmt: skip
    workers = args.workers
    results: list[dict[str, Any]] = []
    logs: list[str] = []
    with contextlib.ExitStack() as stack:
        children = []
        for i in range(workers):
            extra = []
            if args.profile:
                name = f"{args.profile}-{url.get_backend_name()}-{concurrency}-{per_tenant:g}"
                extra = ["--profile", name + (f"-w{i + 1}" if workers > 1 else "")]
            out = stack.enter_context(tempfile.TemporaryFile("w+"))
            err = stack.enter_context(tempfile.TemporaryFile("w+"))
            process = subprocess.Popen(command + extra, stdout=out, stderr=err, cwd=ROOT)
            stack.callback(_kill, process)
            children.append((process, out, err))
        deadline = time.monotonic() + timeout
        for process, out, err in children:
            try:
                process.wait(max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired as exc:
                raise RuntimeError(f"the pass did not finish within {timeout:.0f} s") from exc
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
            found = [
                json.loads(ln[len("RESULT ") :])
                for ln in stdout.splitlines()
                if ln.startswith("RESULT ")
            ]
            if process.returncode != 0 or not found:
                sys.stderr.write(stdout[-5000:] + stderr[-5000:])
                raise RuntimeError(f"the pass failed (exit status {process.returncode})")
            results.append(found[0])
            logs += stderr.splitlines()
    result = results[0] if workers == 1 else combine(results)
    result["load_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    result["log_lines"] = len(logs)
    result["log_sample"] = [ln[:300] for ln in logs if "nudges.pass" not in ln][:5]
    stats = result.pop("fake") if fake is None else json.loads(fake.ask("stats"))
    per: dict[str, int] = stats.pop("per_conversation")
    expected = {conversation_id(n) for n in range(1, args.users + 1)}
    result["lost"] = sum(1 for c in expected if per.get(c, 0) == 0)
    result["duplicated"] = sum(1 for c in expected if per.get(c, 0) > 1)
    result["unexpected_conversations"] = len(set(per) - expected)
    result["messages"] = sum(per.values())
    result["fake"] = stats
    first, last = stats["first_accepted"], stats["last_accepted"]
    result["fake_span_s"] = (last - first) if first is not None else None
    result["floor_s"] = floor
    result["ratio"] = result["deliver_s"] / floor
    result["database"] = database_state(url)
    result["ratelimited_attempts"] = result["database"]["attempts_by_outcome"].get("ratelimited", 0)
    return result


def _kill(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(5)


def combine(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Several workers' passes as one: delivery from the first start to the last end."""
    result = dict(max(results, key=lambda r: r["posts"]))  # timings of the busiest worker
    busy = [r for r in results if r["posts"]] or results
    start = min(r["deliver_start"] for r in busy)
    end = max(r["deliver_end"] for r in busy)
    result.update(
        deliver_start=start,
        deliver_end=end,
        deliver_s=end - start,
        run_once_s=max(r["run_once_s"] for r in results),
        cpu_s=sum(r["cpu_s"] for r in results),
        due=max(r["due"] for r in results),
        sent=sum(r["sent"] for r in results),
        failed=sum(r["failed"] for r in results),
        undeliverable=sum(r["undeliverable"] for r in results),
        posts=sum(r["posts"] for r in results),
        summary=" | ".join(r["summary"] for r in results),
        workers=[{k: r[k] for k in ("sent", "failed", "deliver_s", "posts")} for r in results],
    )
    return result


def met(result: dict[str, Any]) -> bool:
    return (
        result["ratio"] <= TARGET_RATIO
        and result["lost"] == 0
        and result["duplicated"] == 0
        and result["sent"] == result["due"]
    )


def report(kind: str, result: dict[str, Any]) -> None:
    c, p = result["concurrency"], result["per_tenant"]
    limiter = f"{p:g}/s" if p > 0 else "off"
    if p > 0 and result.get("client_burst"):
        limiter += f" (burst {result['client_burst']:g})"
    verdict = "ok" if met(result) else "MISSED"
    print(
        f"  {kind} concurrency={c} limiter={limiter}: deliver {result['deliver_s']:.1f} s = "
        f"{result['ratio']:.3f} × floor {result['floor_s']:.0f} s [{verdict} ≤ "
        f"{TARGET_RATIO:.2f}] · 429s {result['fake']['throttled']} (runner saw "
        f"{result['ratelimited_attempts']}) · lost {result['lost']} · duplicated "
        f"{result['duplicated']}",
        flush=True,
    )
    span = result["fake_span_s"]
    print(
        f"    {result['summary']} · decide {result['plan_s'] + result['compose_s']:.2f} s · "
        f"fake: first→last accepted {span:.1f} s, busiest second "
        f"{result['fake']['busiest_second']}, 429s in [0,2)/[2,10)/[10,…) s "
        f"{result['fake']['throttled_by_time']}, calls {result['fake']['calls']}",
        flush=True,
    )
    print(
        f"    runner: post {result['post_ms']} ms, SDK send {result['send_ms']} ms, lookup "
        f"p50 {result['lookup_ms'].get('p50')} ms, loop lag while delivering "
        f"{result['loop_lag_ms']} ms (max while deciding {result['decide_loop_lag_max_ms']}), "
        f"CPU {result['cpu_s']:.1f} s {result['thread_cpu_s']}; load {result['load_1min']}; db {result['database']}",
        flush=True,
    )


def _floats(text: str) -> list[float]:
    return [float(x) for x in str(text).split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode")
    fake = sub.add_parser("fake", help=argparse.SUPPRESS)
    run = sub.add_parser("run", help=argparse.SUPPRESS)
    run.add_argument("--url", required=True)
    run.add_argument("--service-url", default="")
    run.add_argument("--concurrency", type=int, required=True)
    run.add_argument("--per-tenant", type=float, required=True)
    run.add_argument("--at", required=True)
    run.add_argument("--profile", default="")
    run.add_argument("--client-burst", type=float, default=0.0)
    for p in (fake, run):
        p.add_argument("--rate", type=float, default=30.0)
        p.add_argument("--burst", type=float, default=30.0)
        p.add_argument("--retry-after", type=float, default=1.0)
        p.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--contacts", type=int, default=2, help="1 to N contacts per user")
    parser.add_argument("--rate", type=float, default=30.0, help="the fake's limit per tenant")
    parser.add_argument(
        "--burst", type=float, default=30.0, help="the fake's bucket size (requests)"
    )
    parser.add_argument(
        "--retry-after",
        type=float,
        default=1.0,
        help="seconds the fake sends in Retry-After (0: the exact fractional wait)",
    )
    parser.add_argument(
        "--latency", type=float, default=0.1, help="the fake's answer delay, seconds"
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--fake", choices=("process", "thread"), default="process")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="scheduler processes running the pass at once (each has its own limiter)",
    )
    parser.add_argument(
        "--concurrency", default="20", help="NudgeConfig.concurrency values (comma-separated)"
    )
    parser.add_argument(
        "--per-tenant",
        default="30",
        help="TeamsMessenger per_tenant values (comma-separated; 0 = no client-side limit)",
    )
    parser.add_argument(
        "--client-burst",
        type=float,
        default=0.0,
        help="experiment: give the messenger's limiters this burst instead of one second's "
        "worth (AsyncLimiter(b, b / rate); 0 = as in production)",
    )
    parser.add_argument("--json", default="", help="also write every result to this file")
    parser.add_argument(
        "--profile",
        default="",
        metavar="PREFIX",
        help="pyinstrument each measured pass into PREFIX-<db>-<concurrency>-<limit>.html/.txt "
        "(run with: uv run --with pyinstrument …; profiled passes are slower)",
    )
    args = parser.parse_args(argv)
    if args.mode is None and args.workers > 1 and args.fake == "thread":
        parser.error("--workers > 1 needs --fake process (one fake for all workers)")
    if args.mode is None and args.profile:
        try:
            import pyinstrument  # noqa: F401
        except ImportError:
            parser.error("--profile needs pyinstrument: uv run --with pyinstrument python …")
    if args.mode == "fake":
        serve_fake(args.rate, args.burst, args.retry_after, args.latency)
        return 0
    if args.mode == "run":
        measure(args)
        return 0

    levels = [int(c) for c in _floats(args.concurrency)]
    limits = _floats(args.per_tenant)
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    day = datetime.now(UTC).date()
    at = datetime(day.year, day.month, day.day, 8, 30, 20, tzinfo=UTC)
    floor = args.users / args.rate
    print(
        f"teams nudge bench: {args.users:,} users in one tenant, all due at {at:%H:%M} UTC; "
        f"fake: {args.rate:g}/s per tenant, burst {args.burst:g}, {PER_CONVERSATION:g}/s per "
        f"conversation, Retry-After {args.retry_after:g} s, latency "
        f"{args.latency * 1000:.0f} ms, in a {args.fake}; floor {floor:.1f} s (target ≤ "
        f"{floor * TARGET_RATIO:.1f} s); Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs",
        flush=True,
    )
    results: list[dict[str, Any]] = []
    failed = False
    for kind in kinds:
        with database(kind) as url, contextlib.ExitStack() as stack:
            fake_process = None
            if args.fake == "process":
                fake_process = FakeProcess(args.rate, args.burst, args.retry_after, args.latency)
                stack.callback(fake_process.close)
            service_url = fake_process.service_url if fake_process else "http://127.0.0.1:1/"
            seconds = seed(url, args.users, args.contacts, day, service_url)
            print(f"{kind}: seeded {args.users:,} users in {seconds:.1f} s", flush=True)
            first = True
            for per_tenant in limits:
                for concurrency in levels:
                    if not first:
                        reset(url)
                    first = False
                    try:
                        result = run_pass(
                            url,
                            args,
                            fake=fake_process,
                            concurrency=concurrency,
                            per_tenant=per_tenant,
                            at=at,
                        )
                    except (RuntimeError, TimeoutError) as exc:
                        print(f"  {kind} c={concurrency} p={per_tenant:g}: FAILED: {exc}")
                        failed = True
                        continue
                    result.update(
                        db=kind,
                        users=args.users,
                        rate=args.rate,
                        burst=args.burst,
                        retry_after=args.retry_after,
                        latency=args.latency,
                        fake_mode=args.fake,
                        worker_processes=args.workers,
                        client_burst=args.client_burst,
                        concurrency=concurrency,
                        per_tenant=per_tenant,
                        target_met=False,
                    )
                    result["target_met"] = met(result)
                    report(kind, result)
                    results.append(result)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    for kind in kinds:
        mine = [r for r in results if r["db"] == kind and r["lost"] == r["duplicated"] == 0]
        if mine:
            best = min(mine, key=lambda r: r["deliver_s"])
            print(
                f"{kind}: best {best['deliver_s']:.1f} s ({best['ratio']:.3f} × floor) with "
                f"concurrency {best['concurrency']}, limiter {best['per_tenant']:g}/s, "
                f"{best['fake']['throttled']} 429s",
                flush=True,
            )
    if failed:
        return 2
    best_met = [any(r["target_met"] for r in results if r["db"] == kind) for kind in kinds]
    return 0 if all(best_met) else 1


if __name__ == "__main__":
    raise SystemExit(main())
