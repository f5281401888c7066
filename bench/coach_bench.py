"""The coach's view at scale: 1,000 groups × 30 members with a year of history, at 50 req/s.

Seeds a fresh database with the recap bench's users, contacts and a year of history per user
(``--history`` "Reached out" events and as many logged conversations, three open next steps,
weekly goals; see bench/recap_bench.py), then ``--groups`` groups of ``--members`` members each
(levels in turn: membership, numbers, names, outcomes, numbers) and one coach per group (a user
of their own). Then asks for the coach view — ``Coaching.view`` on the real SQL store, plus
rendering it as Slack Block Kit — for random coaches, open loop at ``--rate`` requests per
second for ``--seconds`` seconds: each request's latency counts from when it was due, so a slow
request that delays the next ones is counted in full (no coordinated omission).

The target (issue 11): p99 ≤ 50 ms at 50 req/s.

    uv run python bench/coach_bench.py                          # 1,000 × 30, both databases
    uv run python bench/coach_bench.py --groups 100 --db sqlite   # a quick look
    uv run python bench/coach_bench.py --reuse-sqlite /tmp/c.sqlite3 --reuse-schema coach_bench

Exit status: 0 when the target is met, 1 when it is missed.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import common  # bench/, the script's own folder; puts the checkout on sys.path
import nudge_bench
import recap_bench
from common import database, next_id_sql, scalar, sync_engine
from nudge_bench import slack_user

TARGET_P99_MS = 50.0
LEVELS = ("membership", "numbers", "names", "outcomes", "numbers")


def seed_users(url: Any, users: int, contacts: int, history: int, day: date, seed: int) -> None:
    """The recap bench's users, contacts and history (bench/recap_bench.py)."""
    if url.get_backend_name() == "sqlite":
        recap_bench.seed(url, users, contacts, history, day, seed)
        return
    # As recap_bench.seed, without its closing bare VACUUM ANALYZE: on a PostgreSQL database
    # shared by other schemas that walks all of them (analyze() takes only ours).
    base = nudge_bench.tables(users, contacts, day, seed, copy=True)
    outreach, talks, steps, goals = recap_bench.history(users, contacts, history, day, seed)
    rows = [
        *base[:2],
        ("outreach", recap_bench.OUTREACH_COLUMNS, iter(outreach)),
        ("conversations", recap_bench.CONVERSATION_COLUMNS, iter(talks)),
        ("next_steps", recap_bench.STEP_COLUMNS, iter(steps)),
        ("weekly_goals", recap_bench.GOAL_COLUMNS, iter(goals)),
    ]
    with sync_engine(url) as engine:
        raw = engine.raw_connection()
        conn = raw.driver_connection
        with conn.cursor() as cur:
            for table, columns, data in rows:
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in data:
                        if isinstance(row, str):
                            copy.write(row)
                        else:
                            copy.write_row(row)
                if "id" in columns:
                    cur.execute(next_id_sql(table))
        conn.commit()
        raw.close()


def seed_groups(url: Any, groups: int, members: int, day: date) -> None:
    """Groups, their coaches (users after the members) and members, by plain inserts."""
    from sqlalchemy import insert

    from storage.models import GroupCoach, GroupMember, GroupRow

    joined = datetime.combine(day - timedelta(days=200), datetime.min.time(), tzinfo=UTC)
    first_coach = groups * members + 1
    with sync_engine(url) as engine, engine.begin() as connection:
        connection.execute(
            insert(GroupRow),
            [
                {
                    "id": g,
                    "platform": "slack",
                    "workspace_id": "T1",
                    "channel_id": f"CGROUP{g:05d}",
                    "name": f"Cohort {g}",
                    "created_by": first_coach + g - 1,
                }
                for g in range(1, groups + 1)
            ],
        )
        connection.execute(
            insert(GroupCoach),
            [{"group_id": g, "user_id": first_coach + g - 1} for g in range(1, groups + 1)],
        )
        connection.execute(
            insert(GroupMember),
            [
                {
                    "group_id": g,
                    "user_id": (g - 1) * members + k,
                    "level": LEVELS[k % len(LEVELS)],
                    "display_name": f"Member {k} of cohort {g}",
                    "joined_at": joined,
                }
                for g in range(1, groups + 1)
                for k in range(1, members + 1)
            ],
        )
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('groups', 'id'), (SELECT max(id) FROM groups))"
            )
    analyze(url)


def analyze(url: Any) -> None:
    """Fresh planner statistics for the bench's tables only (PostgreSQL; a bare ``ANALYZE``
    would walk every schema of a shared database)."""
    if url.get_backend_name() != "postgresql":
        return
    tables = "users, contacts, outreach, conversations, next_steps, weekly_goals, groups, "
    tables += "group_coaches, group_members"
    with sync_engine(url, isolation_level="AUTOCOMMIT") as engine, engine.connect() as c:
        for table in tables.split(", "):
            c.exec_driver_sql(f"VACUUM ANALYZE {table}")


async def measure(url: Any, args: Any, now: datetime) -> dict[str, Any]:
    """The open-loop run; latencies in ms."""
    from bot.adapters.slack import render
    from bot.core.groups.coaching import Coaching
    from bot.core.model import UserRef
    from bot.core.service import Caller
    from storage import db
    from storage.group_reads import SqlCoachStore
    from storage.repository import SqlStore

    engine = db.create_engine(url)
    store = SqlStore(engine)
    coaching = Coaching(SqlCoachStore(engine, write_turn=store.write_turn), clock=lambda: now)
    rng = random.Random(args.seed)
    first_coach = args.groups * args.members + 1

    def coach() -> Caller:
        n = first_coach + rng.randrange(args.groups)
        return Caller(UserRef("slack", "T1", slack_user(n)))

    sizes: list[int] = []

    async def one(caller: Caller) -> None:
        reply = await coaching.view(caller)
        sizes.append(len(json.dumps(render.message(reply))))

    try:
        for _ in range(50):  # warm up: connections, statement caches
            await one(coach())
        latencies: list[float] = []
        total = int(args.rate * args.seconds)
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.05

        async def timed(i: int, caller: Caller) -> None:
            due = start + i / args.rate
            await asyncio.sleep(max(0.0, due - loop.time()))
            await one(caller)
            latencies.append((loop.time() - due) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(timed(i, coach()) for i in range(total)))
        took = time.perf_counter() - began
    finally:
        await engine.dispose()
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]

    return {
        "requests": len(latencies),
        "achieved_rate": round(len(latencies) / took, 1),
        "p50_ms": round(pct(50), 1),
        "p95_ms": round(pct(95), 1),
        "p99_ms": round(pct(99), 1),
        "max_ms": round(latencies[-1], 1),
        "mean_ms": round(statistics.fmean(latencies), 1),
        "reply_bytes_median": int(statistics.median(sizes)),
    }


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--groups", type=int, default=1000)
    add("--members", type=int, default=30)
    add("--contacts", type=int, default=20)
    add("--history", type=int, default=50, help="outreach events and conversations per user")
    add("--rate", type=float, default=50.0, help="coach views per second")
    add("--seconds", type=float, default=30.0)
    add("--db", choices=tuple(common.KINDS), default="both")
    add("--seed", type=int, default=1)
    add("--reuse-sqlite", default="", metavar="PATH")
    add("--reuse-schema", default="", metavar="NAME")
    add("--json", default="")
    args = parser.parse_args(argv)
    now = datetime.now(UTC).replace(microsecond=0)
    day = now.date()
    users = args.groups * args.members + args.groups
    print(
        f"coach bench: {args.groups:,} groups × {args.members} members (+{args.groups:,} "
        f"coaches), {args.contacts} contacts and a year of history ({args.history} outreach + "
        f"{args.history} conversations) per user; {args.rate:g} views/s for {args.seconds:g} s; "
        f"code {common.revision()}; {common.machine()}",
        flush=True,
    )
    results = []
    for kind in common.KINDS[args.db]:
        keep = args.reuse_sqlite if kind == "sqlite" else args.reuse_schema
        with database(kind, keep, prefix="rc_coach_bench_") as url:
            started = time.perf_counter()
            if scalar(url, "SELECT count(*) FROM users") == 0:
                seed_users(url, users, args.contacts, args.history, day, args.seed)
            if scalar(url, "SELECT count(*) FROM groups") == 0:
                seed_groups(url, args.groups, args.members, day)
            if time.perf_counter() - started > 1:
                counts = {
                    t: scalar(url, f"SELECT count(*) FROM {t}")
                    for t in ("users", "group_members", "outreach", "conversations")
                }
                print(
                    f"{kind}: seeded {counts} in {time.perf_counter() - started:.1f} s", flush=True
                )
            result = asyncio.run(measure(url, args, now))
            met = result["p99_ms"] <= TARGET_P99_MS
            print(
                f"  {kind}: {result['requests']} views at {result['achieved_rate']}/s: p50 "
                f"{result['p50_ms']} ms, p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms "
                f"[{'ok' if met else 'MISSED'} ≤ {TARGET_P99_MS:g} ms], max {result['max_ms']} ms; "
                f"median reply {result['reply_bytes_median']:,} bytes",
                flush=True,
            )
            results.append({"db": kind, "target_met": met, **result})
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0 if all(r["target_met"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
