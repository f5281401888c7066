"""Latency of ``/reconnect evidence`` at a steady 50 requests/s (open loop), on SQLite and
PostgreSQL.

Seeds ``--users`` users, each with ``--contacts`` contacts and a year of history: about 50
outreaches with predictions and outcomes, and 50 logged conversations with outcome tags. Then
sends ``evidence`` commands for random users through the core service (the same code every
adapter calls: the read, three summaries, the text and the PNG chart, drawn in a thread) at
``--rate`` per second for ``--seconds``, each started on schedule whether or not earlier ones
finished, and measures from the scheduled start to the reply. Two phases: ``cold`` (the chart
cache emptied before every request: every reply draws its chart) and ``warm`` (as in
production: a user asking again gets the chart they were shown, if nothing changed).

    uv run python bench/evidence_bench.py                  # both databases
    uv run python bench/evidence_bench.py --db sqlite --seconds 10

Exit status 0 when every phase's p99 meets the target (50 ms), 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import common  # bench/, the script's own folder; puts the checkout on sys.path

from bot.core import evidence_report
from bot.core.evidence import Expectation, OutcomeTag
from bot.core.model import UserRef
from bot.core.service import Caller, Reconnect
from storage import db
from storage.repository import SqlStore

P99_TARGET_MS = 50.0
TODAY = date(2026, 11, 27)
TAGS = [t.value for t in OutcomeTag]


def seed(url: Any, users: int, contacts: int, rng: random.Random) -> None:
    """Users, contacts and a year of outreach and conversations, inserted in bulk."""
    with common.sync_engine(url) as engine:
        _insert(engine, users, contacts, rng)
        common.maintain(engine, "users", "contacts", "outreach", "conversations")


def _insert(engine: Any, users: int, contacts: int, rng: random.Random) -> None:
    from sqlalchemy import insert

    from storage.models import ContactRow, ConversationRow, OutreachRow, User

    with engine.begin() as connection:
        connection.execute(
            insert(User),
            [
                {"platform": "slack", "workspace_id": "TB", "external_id": f"U{n:05d}",
                 "timezone": "UTC"}
                for n in range(users)
            ],
        )  # fmt: skip
        rows, outreach, talks = [], [], []
        for n in range(users):
            for k in range(contacts):
                rows.append(
                    {"owner_id": n + 1, "name": f"Contact {k:03d}", "name_key": f"contact {k:03d}",
                     "cadence_count": 6, "cadence_unit": "weeks", "next_due_on": TODAY,
                     "created_on": TODAY - timedelta(400), "company_role": "", "how_known": "",
                     "notes": "", "last_note": ""}
                )  # fmt: skip
        connection.execute(insert(ContactRow), rows)
        scale = list(Expectation)
        for n in range(users):
            for _ in range(50):
                contact = n * contacts + rng.randrange(contacts) + 1
                on = TODAY - timedelta(rng.randrange(365))
                actual = rng.choice([None, *scale])
                replied = on + timedelta(rng.randrange(6)) if actual and actual.replied else None
                outreach.append(
                    {"owner_id": n + 1, "contact_id": contact, "reached_on": on,
                     "expected": rng.choice(scale).value,
                     "actual": actual.value if actual else None, "replied_on": replied,
                     "previous_contact_on": on - timedelta(rng.randrange(30, 1200))}
                )  # fmt: skip
                talks.append(
                    {"owner_id": n + 1, "contact_id": contact, "occurred_on": on,
                     "kind": "conversation", "note": "", "learned": "",
                     "response": rng.choice(scale).value,
                     "outcomes": ",".join(rng.sample(TAGS, rng.randrange(3)))}
                )  # fmt: skip
        connection.execute(insert(OutreachRow), outreach)
        connection.execute(insert(ConversationRow), talks)


async def phase(
    service: Reconnect, users: int, rate: float, seconds: float, *, cold: bool
) -> list[float]:
    """Latencies (ms) of ``rate × seconds`` evidence commands started on schedule."""
    rng = random.Random(7)
    latencies: list[float] = []

    async def one(at: float, n: int) -> None:
        if cold:
            evidence_report._CACHE.clear()
        caller = Caller(UserRef("slack", "TB", f"U{n:05d}"))
        reply = await service.command(caller, "evidence")
        assert getattr(reply, "files", None), "no chart"
        latencies.append((time.perf_counter() - at) * 1000)

    start = time.perf_counter()
    tasks = []
    for i in range(int(rate * seconds)):
        at = start + i / rate
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        tasks.append(asyncio.create_task(one(at, rng.randrange(users))))
    await asyncio.gather(*tasks)
    return latencies


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run(url: Any, args: argparse.Namespace) -> bool:
    engine = db.create_engine(url)
    fixed = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    service = Reconnect(SqlStore(engine), clock=lambda: fixed)
    ok = True
    try:
        await phase(service, args.users, args.rate, 2, cold=False)  # warm-up: connections, code
        for name, cold in (("cold", True), ("warm", False)):
            evidence_report._CACHE.clear()
            lat = await phase(service, args.users, args.rate, args.seconds, cold=cold)
            p99 = pct(lat, 99)
            met = p99 <= P99_TARGET_MS
            ok &= met
            print(
                f"  {name:4}  n={len(lat)}  p50 {pct(lat, 50):6.1f} ms  p95 {pct(lat, 95):6.1f} ms"
                f"  p99 {p99:6.1f} ms  max {max(lat):6.1f} ms  mean {statistics.mean(lat):5.1f}"
                f"  {'OK' if met else 'MISSED'} (p99 ≤ {P99_TARGET_MS:.0f} ms)"
            )
    finally:
        await engine.dispose()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=tuple(common.KINDS), default="both")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--contacts", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    ok = True
    for kind in common.KINDS[args.db]:
        with common.database(kind) as url:
            began = time.perf_counter()
            seed(url, args.users, args.contacts, random.Random(1))
            print(
                f"{kind}: {args.users} users × {args.contacts} contacts, ~50 outreaches and 50 "
                f"conversations each (seeded in {time.perf_counter() - began:.1f} s); "
                f"{args.rate:.0f} req/s for {args.seconds:.0f} s"
            )
            ok &= asyncio.run(run(url, args))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
