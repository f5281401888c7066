"""The groups' Friday recap pass at scale: 1,000 groups × 30 members with a year of history.

Seeds a fresh migrated database: ``--groups`` groups (Slack, UTC, recap Fridays 15:00) of
``--members`` members each (levels spread over the four sharing levels, shout-outs on in half
the groups), each member with 5 contacts and a year of history — one "Reached out" a week with
a prediction and an answer, a logged conversation every other week (some with outcomes), a
weekly goal — and two shared wins per group this week. Then runs one real group pass
(:class:`jobs.group_runner.GroupRunner` on the SQL stores) at Friday 15:00:20 UTC, when every
recap is due, posting through a fake channel messenger that answers after ``--latency`` s.

Target (issue 11): plan + compose ≤ 3 s; delivery at the fake API's pace (its latency over
the pass's concurrency). Every group gets exactly one recap.

    uv run python bench/group_bench.py                          # both databases
    uv run python bench/group_bench.py --db sqlite --groups 100 # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from bench.common import database, sync_engine

FRIDAY = datetime(2026, 11, 27, 15, 0, 20, tzinfo=UTC)
MONDAY = date(2026, 11, 23)
LEVELS = ("membership", "numbers", "names", "outcomes")
EXPECT = ("no_reply", "brush_off", "glad", "go_out_of_way")


def seed(url: Any, groups: int, members: int, weeks: int) -> int:
    """Write the groups, members and their history; returns the rows written."""
    rng = random.Random(11)
    users = groups * members
    rows = 0
    with sync_engine(url) as engine, engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO users (id, platform, workspace_id, external_id) "
                "VALUES (:id, 'slack', 'T1', :ext)"
            ),
            [{"id": u, "ext": f"U{u}"} for u in range(1, users + 1)],
        )
        c.execute(
            text(
                "INSERT INTO contacts (id, owner_id, name, name_key, cadence_count, cadence_unit,"
                " next_due_on, created_on, last_note, notes, how_known, company_role) VALUES "
                "(:id, :owner, :name, :name, 1, 'months', :due, :due, '', '', '', '')"
            ),
            [
                {"id": (u - 1) * 5 + k + 1, "owner": u, "name": f"person {k}", "due": MONDAY}
                for u in range(1, users + 1)
                for k in range(5)
            ],
        )
        outreach, talks = [], []
        for u in range(1, users + 1):
            for w in range(weeks):
                day = MONDAY - timedelta(weeks=w) + timedelta(days=rng.randrange(5))
                contact = (u - 1) * 5 + rng.randrange(5) + 1
                actual = rng.choice((*EXPECT, None))
                outreach.append(
                    {"owner": u, "contact": contact, "on": day,
                     "expected": rng.choice(EXPECT), "actual": actual,
                     "replied": day + timedelta(days=1) if actual not in (None, "no_reply") else None}
                )  # fmt: skip
                if w % 2 == 0:
                    talks.append(
                        {"owner": u, "contact": contact, "on": day,
                         "outcomes": rng.choice(("", "", "advice", "referral", "interview"))}
                    )  # fmt: skip
        c.execute(
            text(
                "INSERT INTO outreach (owner_id, contact_id, reached_on, expected, actual, "
                "replied_on) VALUES (:owner, :contact, :on, :expected, :actual, :replied)"
            ),
            outreach,
        )
        c.execute(
            text(
                "INSERT INTO conversations (owner_id, contact_id, occurred_on, kind, note, "
                "learned, outcomes) VALUES (:owner, :contact, :on, 'conversation', 'private', "
                "'', :outcomes)"
            ),
            talks,
        )
        c.execute(
            text("INSERT INTO weekly_goals (owner_id, week_start, goal) VALUES (:o, :w, :g)"),
            [
                {"o": u, "w": MONDAY - timedelta(weeks=weeks), "g": 1 + u % 4}
                for u in range(1, users + 1)
            ],
        )
        c.execute(
            text(
                "INSERT INTO groups (id, platform, workspace_id, channel_id, name, shoutouts) "
                "VALUES (:id, 'slack', 'T1', :ch, :name, :s)"
            ),
            [
                {"id": g, "ch": f"C{g}", "name": f"Cohort {g}", "s": g % 2 == 0}
                for g in range(1, groups + 1)
            ],
        )
        c.execute(
            text("INSERT INTO group_coaches (group_id, user_id) VALUES (:g, :u)"),
            [{"g": g, "u": (g - 1) * members + 1} for g in range(1, groups + 1)],
        )
        c.execute(
            text("INSERT INTO group_members (group_id, user_id, level) VALUES (:g, :u, :l)"),
            [
                {"g": g, "u": (g - 1) * members + m + 1, "l": LEVELS[m % 4]}
                for g in range(1, groups + 1)
                for m in range(members)
            ],
        )
        c.execute(
            text(
                "INSERT INTO group_wins (group_id, user_id, week_start, text, kind) "
                "VALUES (:g, :u, :w, 'Landed an interview', 'interview')"
            ),
            [
                {"g": g, "u": (g - 1) * members + k + 2, "w": MONDAY}
                for g in range(1, groups + 1)
                for k in range(2)
            ],
        )
        rows = users * 6 + len(outreach) + len(talks) + groups * (members + 4)
        if engine.dialect.name == "postgresql":
            for table in ("users", "contacts"):
                c.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        # Only this database's (schema's) own tables: a bare ANALYZE would visit every schema.
        for table in ("users", "contacts", "outreach", "conversations", "weekly_goals",
                      "groups", "group_members", "group_coaches", "group_wins"):  # fmt: skip
            c.execute(text(f"ANALYZE {table}"))
    return rows


class PacedMessenger:
    """A channel messenger that answers after ``latency`` seconds, like a remote API."""

    platform = "slack"
    command_prefix = "/reconnect "

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.posts: dict[str, int] = {}

    async def post_to_channel(self, channel: str, reference: Any, reply: Any, key: str) -> Any:
        from bot.core.ports import Sent

        await asyncio.sleep(self.latency)
        self.posts[channel] = self.posts.get(channel, 0) + 1
        return Sent(channel, f"{time.time():.6f}")

    async def post(self, channel: str, reply: Any, key: str) -> Any:
        return await self.post_to_channel(channel, None, reply, key)

    async def find(self, channel: str, key: str, since: Any) -> None:
        return None

    def direct_address(self, user: Any) -> str:
        return str(user.user_id)

    async def open_channel(self, user: Any) -> str:
        return f"D{user.user_id}"

    async def close(self) -> None:
        return None


async def run_pass(url: Any, latency: float) -> dict[str, Any]:
    from jobs.group_runner import GroupRunner
    from storage import db
    from storage.group_posts import GroupPostStore
    from storage.group_stats import GroupStatsStore

    engine = db.create_engine(url)
    messenger = PacedMessenger(latency)
    runner = GroupRunner(GroupPostStore(engine), GroupStatsStore(engine), {"slack": messenger})
    plan_started = time.perf_counter()
    cpu_started = time.process_time()
    original = runner._deliver_all
    marks: dict[str, float] = {}

    async def deliver(jobs: Any, summary: Any) -> None:
        marks["composed"] = time.perf_counter()
        marks["cpu"] = time.process_time() - cpu_started
        await original(jobs, summary)

    runner._deliver_all = deliver  # type: ignore[method-assign]
    summary = await runner.run_once(FRIDAY)
    done = time.perf_counter()
    await runner.stop()
    await engine.dispose()
    return {
        "due": summary.due,
        "sent": summary.sent,
        "compose_s": round(marks["composed"] - plan_started, 3),
        "compose_only_s": round(summary.compose_s, 3),
        "cpu_s": round(marks["cpu"], 3),
        "concurrency": runner.config.concurrency,
        "deliver_s": round(done - marks["composed"], 3),
        "exactly_one": all(n == 1 for n in messenger.posts.values())
        and len(messenger.posts) == summary.due,
    }


def _count(url: Any, table: str) -> int:
    with sync_engine(url) as engine, engine.connect() as c:
        return int(c.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)


def main() -> int:
    """Run the benchmark on the chosen databases; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--members", type=int, default=30)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--keep", default="", help="reuse (or seed once) this SQLite file / PostgreSQL schema"
    )
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    ok = True
    for kind in kinds:
        with database(kind, keep=args.keep, prefix="rc_group_bench_") as url:
            started = time.perf_counter()
            seeded_before = args.keep and _count(url, "groups")
            rows = _count(url, "outreach") if seeded_before else 0
            if not seeded_before:
                rows = seed(url, args.groups, args.members, args.weeks)
            else:
                with sync_engine(url) as engine, engine.begin() as c:
                    c.execute(text("DELETE FROM group_posts"))
            seeded = time.perf_counter() - started
            figures = asyncio.run(run_pass(url, args.latency))
        met = figures["compose_s"] <= 3.0 and figures["exactly_one"]
        ok &= met
        print(
            f"{kind}: {args.groups} groups × {args.members} members, {rows:,} rows "
            f"(seeded in {seeded:.0f} s) · due {figures['due']} · sent {figures['sent']} · "
            f"plan+compose {figures['compose_s']} s (compose {figures['compose_only_s']} s; "
            f"this process's CPU {figures['cpu_s']} s) · "
            f"deliver {figures['deliver_s']} s at {args.latency * 1000:.0f} ms per post, "
            f"{figures['concurrency']} at once · exactly one each: {figures['exactly_one']} · "
            f"{'OK' if met else 'MISSED'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
