"""Weekly recap pass at scale: N users with M contacts and a year of history, all due at once.

Seeds a fresh database (as bench/nudge_bench.py does: users every day at 08:30 UTC with
``--contacts`` contacts each, same profiles) plus a year of history per user: ``--history``
"Reached out" events with predictions and responses (each also kept as a conversation of kind
"outreach", as the app does), as many logged conversations with responses and outcome tags,
three open next steps, and a weekly goal set a year ago (raised half a year ago for half the
users). Then runs one real recap pass (:func:`jobs.app.build_recap_runner`, as the scheduler
builds it) in a fresh ``run`` child process at Friday 16:00:20 UTC, when every user's recap is
due, against the fake Slack in a ``fake`` child answering after ``--latency`` seconds.

The targets (issue 9): compose ≤ 5 s (``decide``: from ``run_once`` being called until every
recap is composed: plan, the bulk reads and composing), peak RSS ≤ 300 MB, every user exactly
one recap. Delivery is timed too, for the record.

    uv run python bench/recap_bench.py                        # 10,000 × 200, both databases
    uv run python bench/recap_bench.py --users 500 --contacts 50 --db sqlite   # a quick look
    uv run python bench/recap_bench.py --reuse-sqlite /tmp/r.sqlite3 --reuse-schema recap_bench

Exit status: 0 when every target is met, 1 when one is missed, 2 when a run failed.
"""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import common  # bench/, the script's own folder; puts the checkout on sys.path
import nudge_bench
from common import FakeChild, database, next_id_sql, scalar, sync_engine

TARGETS = {"decide_s": 5.0, "peak_rss_mb": 300.0, "duplicates": 0}
RUN_TIMEOUT = 1800.0

EXPECTATIONS = ("no_reply", "brush_off", "glad", "go_out_of_way")
TAGS = ("advice", "info", "introduction", "referral", "interview", "offer", "caught_up")
STEPS = ("introduce me to the CFO", "send my CV to their recruiter", "coffee in January")

OUTREACH_COLUMNS = (
    "id", "owner_id", "contact_id", "reached_on", "expected", "actual", "replied_on",
    "previous_contact_on",
)  # fmt: skip
CONVERSATION_COLUMNS = (
    "id", "owner_id", "contact_id", "occurred_on", "kind", "note", "learned", "response",
    "outcomes",
)  # fmt: skip
STEP_COLUMNS = ("id", "owner_id", "contact_id", "text", "due_on", "status")
GOAL_COLUMNS = ("owner_id", "week_start", "goal")


def friday_afternoon() -> datetime:
    """The latest Friday (today, if it is one) at 16:00:20 UTC: every bench user's recap is due
    (UTC, the default Friday 16:00)."""
    today = datetime.now(UTC).date()
    friday = today - timedelta(days=(today.weekday() - 4) % 7)
    return datetime(friday.year, friday.month, friday.day, 16, 0, 20, tzinfo=UTC)


def history(
    users: int, contacts: int, per_user: int, day: date, seed: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]], list[Any]]:
    """Outreach, conversations, next steps and goals for every user (dates as ISO text)."""
    rng = random.Random(seed + 7)
    outreach: list[tuple[Any, ...]] = []
    talks: list[tuple[Any, ...]] = []
    steps: list[tuple[Any, ...]] = []
    goals: list[tuple[Any, ...]] = []
    monday = day - timedelta(days=day.weekday())
    for owner in range(1, users + 1):
        first = (owner - 1) * contacts + 1
        for _ in range(per_user):
            contact = first + rng.randrange(contacts)
            on = day - timedelta(days=rng.randint(0, 364))
            expected = rng.choice(EXPECTATIONS) if rng.random() < 0.8 else None
            actual = rng.choice(EXPECTATIONS) if rng.random() < 0.6 else None
            replied = (
                on + timedelta(days=rng.randint(0, 6)) if actual not in (None, "no_reply") else None
            )
            previous = on - timedelta(days=rng.randint(30, 1500)) if rng.random() < 0.7 else None
            outreach.append(
                (len(outreach) + 1, owner, contact, on.isoformat(), expected, actual,
                 replied.isoformat() if replied and replied <= day else None,
                 previous.isoformat() if previous else None)
            )  # fmt: skip
            talks.append(
                (len(talks) + 1, owner, contact, on.isoformat(), "outreach", "", "", None, "")
            )
        for _ in range(per_user):
            contact = first + rng.randrange(contacts)
            on = day - timedelta(days=rng.randint(0, 364))
            tags = ",".join(t for t in TAGS if rng.random() < 0.15)
            talks.append(
                (len(talks) + 1, owner, contact, on.isoformat(), "conversation", "caught up",
                 "they are hiring" if rng.random() < 0.3 else "", rng.choice(EXPECTATIONS), tags)
            )  # fmt: skip
        for k in range(3):
            due = day + timedelta(days=rng.randint(-5, 20))
            steps.append(
                (len(steps) + 1, owner, first + rng.randrange(contacts), STEPS[k],
                 due.isoformat(), "open")
            )  # fmt: skip
        goals.append((owner, (monday - timedelta(weeks=52)).isoformat(), rng.randint(1, 3)))
        if owner % 2:
            goals.append((owner, (monday - timedelta(weeks=26)).isoformat(), rng.randint(2, 5)))
    return outreach, talks, steps, goals


def seed(url: Any, users: int, contacts: int, per_user: int, day: date, seed: int) -> float:
    """The nudge bench's users and contacts, then the history; seconds taken."""
    started = time.perf_counter()
    base = nudge_bench.tables(users, contacts, day, seed, copy=url.get_backend_name() != "sqlite")
    outreach, talks, steps, goals = history(users, contacts, per_user, day, seed)
    rows = [
        *base[:2],  # users, contacts (the nudge bench's own conversations are left out)
        ("outreach", OUTREACH_COLUMNS, iter(outreach)),
        ("conversations", CONVERSATION_COLUMNS, iter(talks)),
        ("next_steps", STEP_COLUMNS, iter(steps)),
        ("weekly_goals", GOAL_COLUMNS, iter(goals)),
    ]
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(url.database, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("BEGIN")
            for table, columns, data in rows:
                marks = ", ".join("?" * len(columns))
                conn.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", data
                )
            conn.execute("COMMIT")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        return time.perf_counter() - started
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
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        raw.close()
    return time.perf_counter() - started


# --- the measured pass (child process) --------------------------------------------------------


def measure(config: dict[str, Any]) -> None:
    """``run`` child: one real recap pass, timed; prints ``RESULT {json}``."""
    import asyncio

    print("RESULT " + json.dumps(asyncio.run(_measure(**config))), flush=True)


async def _measure(url: str, api_url: str, concurrency: int, at: str) -> dict[str, Any]:
    from jobs.app import build_recap_runner, build_runner
    from storage import db

    settings = common.runner_settings(url, api_url, concurrency)

    def clock() -> datetime:
        return datetime.fromisoformat(at)

    engine = db.create_engine(settings.database_url)
    morning = build_runner(settings, engine=engine, clock=clock)
    runner = build_recap_runner(settings, engine=engine, messengers=morning.messengers, clock=clock)
    await runner.store.workers()  # connect once, as a running scheduler would have
    baseline = common.proc_status_mb("VmRSS")
    result = await common.timed_pass(runner, None)
    await runner.stop()
    await runner.close()
    await engine.dispose()
    return {**result, "rss_before_mb": baseline}


def run_pass(
    url: Any, *, users: int, latency: float, concurrency: int, at: datetime
) -> dict[str, Any]:
    """One measured pass in fresh child processes; checks the fake and the database after."""
    fake = FakeChild(nudge_bench.__file__, {"latency": latency}, what="fake Slack")
    try:
        config = {
            "url": url.render_as_string(hide_password=False),
            "api_url": f"http://127.0.0.1:{fake.port}/api/",
            "concurrency": concurrency,
            "at": at.isoformat(),
        }
        command = [sys.executable, __file__, "run", json.dumps(config)]
        [(result, stderr)] = common.run_children([command], RUN_TIMEOUT)
        result.update(common.log_figures(stderr))
        stats = fake.ask("stats", timeout=60.0)
    finally:
        fake.close()
    expected = {"D" + nudge_bench.slack_user(n) for n in range(1, users + 1)}
    missing, duplicates, unexpected, messages = common.delivered(stats["per_channel"], expected)
    result.update(duplicates=duplicates, missing=missing, unexpected_channels=unexpected)
    result.update(messages=messages, slack_calls=stats["methods"])
    result["database"] = common.database_state(url)
    return result


def verdict(result: dict[str, Any]) -> dict[str, bool]:
    return {
        "decide_s": result["decide_s"] <= TARGETS["decide_s"],
        "peak_rss_mb": result["peak_rss_mb"] <= TARGETS["peak_rss_mb"],
        "duplicates": result["duplicates"] == 0 and result["missing"] == 0,
    }


def main(argv: list[str] | None = None) -> int:
    if common.child_mode(argv, run=measure):
        return 0
    parser = common.parser(__doc__, users=10_000, db="both", profile="<db>")
    add = parser.add_argument
    add("--contacts", type=int, default=200)
    add("--history", type=int, default=50, help="outreach events and conversations per user")
    add("--latency", type=float, default=0.05, help="fake Slack delay, seconds")
    add("--concurrency", type=int, default=100)
    add("--seed", type=int, default=1)
    add("--reuse-sqlite", default="", metavar="PATH")
    add("--reuse-schema", default="", metavar="NAME")
    args = parser.parse_args(argv)
    at = friday_afternoon()
    day = at.date()
    print(
        f"recap bench: {args.users:,} users × {args.contacts} contacts, {args.history} outreach "
        f"events and {args.history} conversations each over a year, all due at "
        f"{at:%Y-%m-%d %H:%M} UTC; fake Slack latency {args.latency * 1000:.0f} ms; "
        f"concurrency {args.concurrency}; code {common.revision()}; {common.machine()}",
        flush=True,
    )
    results: list[dict[str, Any]] = []
    for kind in common.KINDS[args.db]:
        keep = args.reuse_sqlite if kind == "sqlite" else args.reuse_schema
        with database(kind, keep, prefix="rc_recap_bench_") as url:
            have = scalar(url, "SELECT count(*) FROM users")
            if have == 0:
                took = seed(url, args.users, args.contacts, args.history, day, args.seed)
                counts = {
                    t: scalar(url, f"SELECT count(*) FROM {t}")
                    for t in ("contacts", "outreach", "conversations", "next_steps")
                }
                print(f"{kind}: seeded {args.users:,} users, {counts} in {took:.1f} s", flush=True)
            else:
                print(f"{kind}: reusing {have:,} users", flush=True)
            common.reset(url, dm_channels="cold")
            try:
                result = run_pass(
                    url, users=args.users, latency=args.latency,
                    concurrency=args.concurrency, at=at,
                )  # fmt: skip
            except RuntimeError as exc:
                print(f"  {kind}: FAILED: {exc}", flush=True)
                return 2
            ok = verdict(result)
            mark = {k: "ok" if v else "MISSED" for k, v in ok.items()}
            print(
                f"  {kind}: compose (decide) {result['decide_s']:.2f} s (plan "
                f"{result['plan_s']:.2f} + compose {result['compose_s']:.2f}) "
                f"[{mark['decide_s']} ≤ {TARGETS['decide_s']:g} s] · deliver "
                f"{result['deliver_s']:.2f} s · peak RSS {result['peak_rss_mb']:.0f} MB "
                f"[{mark['peak_rss_mb']} ≤ {TARGETS['peak_rss_mb']:g} MB] · duplicates "
                f"{result['duplicates']}, missing {result['missing']} [{mark['duplicates']}]\n"
                f"    {result['summary']}; database: {result['database']['nudges_by_status']}",
                flush=True,
            )
            results.append({"db": kind, "users": args.users, "targets_met": ok, **result})
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0 if all(all(r["targets_met"].values()) for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
