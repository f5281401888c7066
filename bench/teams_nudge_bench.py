"""Morning nudges on Teams at the tenant's rate limit: how close does delivery get to the floor?

``--users`` Teams users in one tenant (default 3,000), each with one or two contacts, all due at
08:30 UTC, each with a stored conversation reference pointing at
:class:`tests.fakes.teams_connector.FakeTeamsConnector`, which throttles like Teams: a token
bucket of ``--rate`` requests a second per tenant holding at most ``--burst`` tokens, and 7 a
second per conversation; over the limit it answers ``429`` with ``Retry-After: --retry-after``.
The floor is ``users / rate`` (3,000 / 30 = 100 s). One real pass of the production runner
(``build_runner`` with a :class:`TeamsMessenger` in anonymous mode) is measured in a fresh ``run``
child for each ``--concurrency`` and ``--per-tenant`` (the messenger's limit; ``0``: none). The
fake runs in a ``fake`` child (``--fake process``) or in a thread of the ``run`` child (``--fake
thread``); ``--workers 2`` starts two ``run`` children at once; ``--client-burst B`` (an
experiment) gives the messenger's limiters a burst of ``B``. Reported per pass: delivery time
(the runner's deliver phase) against the floor, 429s, lost and duplicated users, the fake's view
and the runner's (time per send, limiter wait, loop lag, CPU). See docs/teams-nudge-benchmark.md.

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
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import common  # bench/, the script's own folder; puts the checkout on sys.path
from common import FakeChild, database, sync_engine

ANONYMOUS = {"CONNECTIONS__SERVICE_CONNECTION__SETTINGS__ANONYMOUS_ALLOWED": "true"}
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOT = {"id": "28:00000000-0000-0000-0000-00000000b07", "name": "Reconnect"}
TARGET_RATIO = 1.10  # the issue: within 10 % of the floor
PER_CONVERSATION = 7.0  # Teams: about 7 messages a second in one conversation
UNLIMITED = 1_000_000.0  # --per-tenant 0: the messenger's limiter never waits
FIRST = ("Dana", "Priya", "Marcus", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Lena")
NUDGE_TIME = datetime.strptime("08:30:00", "%H:%M:%S").time()
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
    from bot.core.text import fold
    from storage.models import ContactRow, ConversationRef, User

    started = time.perf_counter()
    now = datetime.now(UTC)
    user_rows, contact_rows, ref_rows = [], [], []
    for n in range(1, users + 1):
        user_rows.append(
            {
                "id": n, "platform": "teams", "workspace_id": TENANT, "external_id": f"aad-{n}",
                "timezone": "UTC", "timezone_source": "user", "nudge_time": NUDGE_TIME,
                "nudge_days": 127, "cards_per_nudge": 3,
                "dm_channel": conversation_id(n),  # SqlStore.save_reference caches it
            }
        )  # fmt: skip
        for j in range(1 + (n % contacts if contacts > 1 else 0)):
            name = f"{FIRST[(n + j) % len(FIRST)]} {LAST[(n * 7 + j) % len(LAST)]}"
            contact_rows.append(
                {
                    "owner_id": n, "name": name, "name_key": fold(name), "company_role": "",
                    "how_known": "worked together at Acme" if j == 0 else "",
                    "notes": "loves sailing" if n % 3 == 0 else "",
                    "cadence_count": 1, "cadence_unit": "months",
                    "last_contacted_on": day - timedelta(days=40 + n % 200),
                    "next_due_on": day - timedelta(days=n % 30), "last_note": "",
                    "created_on": day - timedelta(days=400),
                }
            )  # fmt: skip
        ref_rows.append(
            {
                "user_id": n, "conversation_id": conversation_id(n),
                "reference": reference_json(n, service_url), "updated_at": now,
            }
        )  # fmt: skip
    with sync_engine(url) as engine:
        with engine.begin() as connection:
            connection.execute(User.__table__.insert(), user_rows)
            connection.execute(ContactRow.__table__.insert(), contact_rows)
            connection.execute(ConversationRef.__table__.insert(), ref_rows)
            if engine.dialect.name == "postgresql":
                for table in ("users", "contacts"):
                    connection.exec_driver_sql(common.next_id_sql(table))
        common.maintain(engine)
    return time.perf_counter() - started


def point_references_at(url: Any, service_url: str) -> None:
    """Rewrite every stored ``serviceUrl`` (the fake's port changes from run to run)."""
    from sqlalchemy import text

    with sync_engine(url) as engine, engine.begin() as connection:
        first = connection.execute(text("SELECT reference FROM conversation_refs LIMIT 1")).scalar()
        old = json.loads(first)["serviceUrl"] if first else service_url
        if old != service_url:
            connection.execute(
                text("UPDATE conversation_refs SET reference = replace(reference, :old, :new)"),
                {"old": f'"serviceUrl":"{old}"', "new": f'"serviceUrl":"{service_url}"'},
            )


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


def serve_fake(config: dict[str, Any]) -> None:
    """``fake`` child: answers ``stats`` and ``reset`` (forget the calls, refill the buckets)."""
    fake = start_fake(**config)

    def reset() -> str:
        fake.reset()  # the limit stays on
        return "OK"

    try:
        common.serve(fake.port, {"stats": lambda: fake_stats(fake, config["rate"]), "reset": reset})
    finally:
        fake.stop()


# --- the measured pass (child process) --------------------------------------------------------


def measure(config: dict[str, Any]) -> None:
    """``run`` child: one real pass, timed; prints ``RESULT {json}``."""
    from storage import db

    fake = None
    fake_config = {k: config[k] for k in ("rate", "burst", "retry_after", "latency")}
    service_url = config["service_url"]
    if not service_url:  # --fake thread: the fake shares this process (and its GIL)
        fake = start_fake(**fake_config)
        service_url = fake.service_url
    try:
        point_references_at(db.normalise_url(config["url"]), service_url)
        result = asyncio.run(_measure(config))
        if fake is not None:
            result["fake"] = fake_stats(fake, config["rate"])
    finally:
        if fake is not None:
            fake.stop()
    print("RESULT " + json.dumps(result), flush=True)


async def _measure(config: dict[str, Any]) -> dict[str, Any]:
    from bot.adapters.teams.hosting import build_hosting
    from bot.adapters.teams.messenger import TeamsMessenger
    from bot.settings import Settings, TeamsSettings, configure_logging
    from jobs.app import build_runner
    from storage import db
    from storage.repository import SqlStore

    configure_logging(os.environ.get("LOG_LEVEL", "WARNING"))
    at = datetime.fromisoformat(config["at"])
    settings = Settings(
        database_url=db.normalise_url(config["url"]),
        teams=TeamsSettings(client_id=None, anonymous=True),
        nudge_concurrency=config["concurrency"],
    )
    engine = db.create_engine(settings.database_url)
    per_tenant = config["per_tenant"] if config["per_tenant"] > 0 else UNLIMITED
    messenger_class = TeamsMessenger
    if config["client_burst"] > 0:  # an experiment, not production: a smaller burst
        from aiolimiter import AsyncLimiter

        burst = config["client_burst"]

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

    # The messenger's own timings (the runner's phases come from its run summary).
    posts: list[float] = []  # messenger.post: lookup + limiter wait + SDK send
    sends: list[float] = []  # messenger._send: the SDK's continue_conversation + HTTP
    lookups: list[float] = []  # SqlStore.reference_for_conversation

    def sampled(into: list[float], method: Any) -> Any:
        async def wrapper(*a: Any, **k: Any) -> Any:
            started = time.perf_counter()
            try:
                return await method(*a, **k)
            finally:
                into.append(time.perf_counter() - started)

        return wrapper

    messenger.post = sampled(posts, messenger.post)  # type: ignore[method-assign]
    messenger._send = sampled(sends, messenger._send)  # type: ignore[method-assign]
    store = messenger.store
    store.reference_for_conversation = sampled(lookups, store.reference_for_conversation)  # type: ignore[method-assign]

    lag: list[tuple[float, float]] = []

    async def watch_loop() -> None:  # how late a 10 ms sleep wakes up: CPU or GIL pressure
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lag.append((before, time.perf_counter() - before - 0.01))

    await runner.store.workers()  # connect once, as a running scheduler would have
    watcher = asyncio.create_task(watch_loop())
    threads_before = thread_cpu()
    result = await common.timed_pass(runner, at, config["profile"])
    threads_after = thread_cpu()
    watcher.cancel()
    await runner.stop()
    await engine.dispose()
    delivering = result["deliver_start"]
    return {
        **result,
        "thread_cpu_s": {
            name: round(spent - threads_before.get(name, 0.0), 2)
            for name, spent in threads_after.items()
            if spent - threads_before.get(name, 0.0) >= 0.05
        },
        "post_ms": _quantiles(posts),
        "send_ms": _quantiles(sends),
        "lookup_ms": _quantiles(lookups),
        "loop_lag_ms": _quantiles([d for t, d in lag if t >= delivering]),
        "decide_loop_lag_max_ms": round(
            max((d for t, d in lag if t < delivering), default=0.0) * 1000, 1
        ),
        "posts": len(posts),
    }


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
    fake: FakeChild | None,
    concurrency: int,
    per_tenant: float,
    at: datetime,
) -> dict[str, Any]:
    """One measured pass in fresh ``run`` children; checks the fake and the database after."""
    if fake is not None:
        assert fake.ask("reset") == "OK"
    floor = args.users / args.rate
    load_before = os.getloadavg()[0]
    config = {
        "url": url.render_as_string(hide_password=False),
        "service_url": f"http://127.0.0.1:{fake.port}/" if fake is not None else "",
        "concurrency": concurrency,
        "per_tenant": per_tenant,
        "at": at.isoformat(),
        "client_burst": args.client_burst,
        **fake_config(args),
    }
    commands = []
    for i in range(args.workers):
        profile = ""
        if args.profile:
            profile = f"{args.profile}-{url.get_backend_name()}-{concurrency}-{per_tenant:g}"
            profile += f"-w{i + 1}" if args.workers > 1 else ""
        worker = json.dumps({**config, "profile": profile})
        commands.append([sys.executable, __file__, "run", worker])
    children = common.run_children(commands, timeout=max(600.0, 6 * floor))
    results = [result for result, _ in children]
    result = results[0] if args.workers == 1 else combine(results)
    result["load_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    result.update(common.log_figures("".join(stderr for _, stderr in children)))
    stats = result.pop("fake") if fake is None else fake.ask("stats")
    per: dict[str, int] = stats.pop("per_conversation")
    expected = {conversation_id(n) for n in range(1, args.users + 1)}
    lost, duplicated, unexpected, messages = common.delivered(per, expected)
    result.update(lost=lost, duplicated=duplicated, unexpected_conversations=unexpected)
    result.update(messages=messages, fake=stats, floor_s=floor)
    first, last = stats["first_accepted"], stats["last_accepted"]
    result["fake_span_s"] = (last - first) if first is not None else None
    result["ratio"] = result["deliver_s"] / floor
    result["database"] = common.database_state(url)
    result["ratelimited_attempts"] = result["database"]["attempts_by_outcome"].get("ratelimited", 0)
    return result


def fake_config(args: argparse.Namespace) -> dict[str, float]:
    return {k: getattr(args, k) for k in ("rate", "burst", "retry_after", "latency")}


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


DATABASE_FIGURES = (
    "nudges_by_status",
    "attempts_by_outcome",
    "most_attempts",
    "users_with_two_nudges",
)


def report(kind: str, result: dict[str, Any]) -> None:
    c, p = result["concurrency"], result["per_tenant"]
    limiter = f"{p:g}/s" if p > 0 else "off"
    if p > 0 and result.get("client_burst"):
        limiter += f" (burst {result['client_burst']:g})"
    verdict = "ok" if met(result) else "MISSED"
    span, fake = result["fake_span_s"], result["fake"]
    db = {k: result["database"][k] for k in DATABASE_FIGURES}
    print(
        f"  {kind} concurrency={c} limiter={limiter}: deliver {result['deliver_s']:.1f} s = "
        f"{result['ratio']:.3f} × floor {result['floor_s']:.0f} s [{verdict} ≤ "
        f"{TARGET_RATIO:.2f}] · 429s {fake['throttled']} (runner saw "
        f"{result['ratelimited_attempts']}) · lost {result['lost']} · duplicated "
        f"{result['duplicated']}\n"
        f"    {result['summary']} · decide {result['plan_s'] + result['compose_s']:.2f} s · "
        f"fake: first→last accepted {span:.1f} s, busiest second {fake['busiest_second']}, 429s "
        f"in [0,2)/[2,10)/[10,…) s {fake['throttled_by_time']}, calls {fake['calls']}\n"
        f"    runner: post {result['post_ms']} ms, SDK send {result['send_ms']} ms, lookup "
        f"p50 {result['lookup_ms'].get('p50')} ms, loop lag while delivering "
        f"{result['loop_lag_ms']} ms (max while deciding {result['decide_loop_lag_max_ms']}), "
        f"CPU {result['cpu_s']:.1f} s {result['thread_cpu_s']}; load {result['load_1min']}; "
        f"db {db}",
        flush=True,
    )


def _floats(text: str) -> list[float]:
    return [float(x) for x in str(text).split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    if common.child_mode(argv, fake=serve_fake, run=measure):
        return 0
    parser = common.parser(__doc__, users=3000, db="sqlite", profile="<db>-<concurrency>-<limit>")
    add = parser.add_argument
    add("--contacts", type=int, default=2, help="1 to N contacts per user")
    add("--rate", type=float, default=30.0, help="the fake's limit per tenant")
    add("--burst", type=float, default=30.0, help="the fake's bucket size (requests)")
    add("--retry-after", type=float, default=1.0, help="the fake's Retry-After (0: exact wait)")
    add("--latency", type=float, default=0.1, help="the fake's answer delay, seconds")
    add("--fake", choices=("process", "thread"), default="process")
    add("--workers", type=int, default=1, help="scheduler processes running the pass at once")
    add("--concurrency", default="20", help="NudgeConfig.concurrency values (comma-separated)")
    add("--per-tenant", default="30", help="the messenger's per-tenant limits (0: none)")
    add("--client-burst", type=float, default=0.0, help="experiment: the limiters' burst")
    args = parser.parse_args(argv)
    if args.workers > 1 and args.fake == "thread":
        parser.error("--workers > 1 needs --fake process (one fake for all workers)")
    if args.profile:
        try:
            import pyinstrument  # noqa: F401
        except ImportError:
            parser.error("--profile needs pyinstrument: uv run --with pyinstrument python …")

    levels = [int(c) for c in _floats(args.concurrency)]
    limits = _floats(args.per_tenant)
    kinds = common.KINDS[args.db]
    at = common.morning()
    day = at.date()
    floor = args.users / args.rate
    print(
        f"teams nudge bench: {args.users:,} users in one tenant, all due at {at:%H:%M} UTC; "
        f"fake: {args.rate:g}/s per tenant, burst {args.burst:g}, {PER_CONVERSATION:g}/s per "
        f"conversation, Retry-After {args.retry_after:g} s, latency "
        f"{args.latency * 1000:.0f} ms, in a {args.fake}; floor {floor:.1f} s (target ≤ "
        f"{floor * TARGET_RATIO:.1f} s); {common.machine()}",
        flush=True,
    )
    results: list[dict[str, Any]] = []
    failed = False
    for kind in kinds:
        with database(kind, prefix="rc_teams_bench_") as url, contextlib.ExitStack() as stack:
            fake = None
            if args.fake == "process":
                fake = FakeChild(__file__, fake_config(args), what="the fake connector")
                stack.callback(fake.close)
            service_url = f"http://127.0.0.1:{fake.port if fake else 1}/"
            seconds = seed(url, args.users, args.contacts, day, service_url)
            print(f"{kind}: seeded {args.users:,} users in {seconds:.1f} s", flush=True)
            first = True
            for per_tenant in limits:
                for concurrency in levels:
                    if not first:
                        common.reset(url)
                    first = False
                    try:
                        result = run_pass(
                            url, args, fake=fake, concurrency=concurrency, per_tenant=per_tenant,
                            at=at,
                        )  # fmt: skip
                    except (RuntimeError, TimeoutError) as exc:
                        print(f"  {kind} c={concurrency} p={per_tenant:g}: FAILED: {exc}")
                        failed = True
                        continue
                    result.update(
                        db=kind, users=args.users, fake_mode=args.fake, **fake_config(args),
                        worker_processes=args.workers, client_burst=args.client_burst,
                        concurrency=concurrency, per_tenant=per_tenant,
                    )  # fmt: skip
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
