"""Morning-nudge pass at scale: N users with M contacts each, all due in the same minute.

Seeds a fresh database — a SQLite file in a temporary directory and/or a fresh PostgreSQL
schema — with ``--users`` users (every day at 08:30 UTC, so all are due at once) and
``--contacts`` contacts each, then runs one real pass of the production runner
(:func:`jobs.app.build_runner`: ``NudgeStore``, ``SlackMessenger`` and ``AsyncWebClient`` exactly
as the scheduler builds them) against the fake Slack Web API answering every call after
``--latency`` seconds.

Three processes, so neither the fake nor the seeding shares the measured interpreter's GIL or
memory:

* this one seeds the database (``COPY`` on PostgreSQL, ``executemany`` on SQLite; not measured,
  but printed) and checks the results;
* ``fake`` — :class:`tests.fakes.slack_api.FakeSlack` in a child process; it reports how many
  messages reached each DM channel when asked on stdin;
* ``run`` — a fresh child process that builds the runner and calls ``run_once`` once.

What is measured (in the ``run`` child; ``run_once`` is the real one, its phases are timed by
wrapping the runner's own ``_plan``, ``_compose`` and ``_deliver_all``):

* decide — from ``run_once`` being called until composing ended: heartbeat, loading recipients,
  deciding who is due, claiming, loading contacts and ranking, rendering and saving contents;
* deliver — ``_deliver_all``: every Slack call (``chat.postMessage``) with the
  attempt, outcome and DM-channel writes group-committed;
* peak RSS — ``VmHWM`` of the ``run`` child (imports included);
* duplicates — users with more than one message at the fake (and ``missing``: users with none);
  the database is checked too (nudges by status, attempts left open).

The CPU seconds the ``run`` child spent in each phase are printed as well: on a small machine
the fake Slack and the database compete with it for the same cores, so compare CPU time too.
By default no DM channel is cached (a user's first pass: ``chat.postMessage`` to the user id,
whose answer names the DM); ``--warm`` caches them all (every later pass: posts to the DM id).

Only 127.0.0.1 is contacted; every phase has a timeout, so the run ends by itself.

    uv run python bench/nudge_bench.py                          # 10,000 × 200, both databases
    uv run python bench/nudge_bench.py --db postgresql --concurrency 20,50,100,200
    uv run python bench/nudge_bench.py --warm --concurrency 100
    uv run python bench/nudge_bench.py --users 500 --contacts 50 --db sqlite   # a quick look
    uv run --with pyinstrument python bench/nudge_bench.py --db sqlite --profile /tmp/prof
    uv run python bench/nudge_bench.py --reuse-sqlite /tmp/b.sqlite3 --reuse-schema nudge_bench

``--concurrency`` defaults to ``$NUDGE_CONCURRENCY`` or 100 (the runner's default). The
``--reuse-*`` options keep the seeded database between invocations (for profiling); otherwise
it is removed at the end.

PostgreSQL is ``TEST_DATABASE_URL`` or postgresql://postgres@127.0.0.1:5432/test, as for the
tests. Exit status: 0 when every target is met, 1 when one is missed, 2 when a run failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from child import FakeChild  # bench/, the script's own folder

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: The issue's targets.
TARGETS = {"decide_s": 2.0, "deliver_s": 30.0, "peak_rss_mb": 300.0, "duplicates": 0}
RUN_TIMEOUT = 1800.0  # seconds for one measured pass, then the child is killed
NUDGE_TIME = "08:30:00"

# --- seed data --------------------------------------------------------------------------------

FIRST = (
    "Dana", "Priya", "Marcus", "Bo", "Cy", "Di", "Elena", "Farid", "Greta", "Hiro", "Ines",
    "Jonas", "Kemal", "Lena", "Mateo", "Nadia", "Oskar", "Pia", "Quentin", "Rosa", "Sven",
    "Tomoko", "Uma", "Viktor", "Wen", "Xavier", "Yara", "Zoë", "Amélie", "Björn", "Chloé",
    "Dmitri", "Emeka", "Fatima", "Gustavo", "Hana", "Ivan", "Julia", "Kwame", "Laila",
)  # fmt: skip
LAST = (
    "Whitfield", "Raman", "Chen", "Li", "Park", "Ross", "Novak", "Haddad", "Berg", "Tanaka",
    "Duarte", "Keller", "Yilmaz", "Fischer", "Ortega", "Karimi", "Lund", "Moreau", "Nguyen",
    "Costa", "Olsen", "Sato", "Iyer", "Petrov", "Zhang", "Dubois", "Mensah", "Alves", "Kowalski",
    "O'Brien", "Nakamura", "Rossi", "Müller", "García", "Abebe", "Jansen", "Silva", "Horvat",
    "Evans", "Murphy",
)  # fmt: skip
ROLES = (
    "VP Engineering at Acme", "Head of Design, Globex", "CFO at Initech", "Recruiter at Hooli",
    "Product lead, Umbrella", "Founder of a climate startup", "Data scientist at Stark",
    "Partner at a VC firm", "",
)  # fmt: skip
HOW = (
    "worked together at Acme", "met at PyCon 2019", "my first manager", "MBA classmate",
    "introduced by Sam", "former client", "neighbour from Lisbon",
)  # fmt: skip
NOTES = (
    "just promoted to COO", "loves sailing", "two kids in college", "moved to Berlin last year",
    "runs marathons", "writing a book on leadership", "hiring for a platform team",
    "into sourdough baking", "switched careers into UX", "plays cello in a community orchestra",
)  # fmt: skip
LAST_NOTES = ("Coffee at the conference", "Talked about her new team", "Quick call about jobs")
CADENCES = (("weeks", 2), ("months", 1), ("months", 1), ("months", 3), ("months", 6))

USER_COLUMNS = (
    "id", "platform", "workspace_id", "external_id", "timezone", "timezone_source",
    "nudge_time", "nudge_days", "cards_per_nudge",
)  # fmt: skip
CONTACT_COLUMNS = (
    "id", "owner_id", "name", "name_key", "company_role", "how_known", "notes", "cadence_count",
    "cadence_unit", "last_contacted_on", "next_due_on", "last_note", "created_on", "skipped_on",
    "reached_out_on", "follow_up_on",
)  # fmt: skip
CONVERSATION_COLUMNS = (
    "id", "owner_id", "contact_id", "occurred_on", "kind", "note", "learned",
)  # fmt: skip


def slack_user(n: int) -> str:
    """The Slack user id of bench user ``n`` (1-based); its DM channel is ``"D" + id``."""
    return f"U{n}"


def user_rows(users: int) -> Iterator[tuple[Any, ...]]:
    """Every user: Slack workspace T1, UTC, every day (127) at 08:30, three cards."""
    for n in range(1, users + 1):
        yield (n, "slack", "T1", slack_user(n), "UTC", "user", NUDGE_TIME, 127, 3)


POOL = 20_011  # distinct contact profiles; each user takes ``contacts`` of them in turn


def contact_profile(rng: random.Random, day: date) -> tuple[Any, ...]:
    """Every column of a contact after ``(id, owner_id, name, name_key)``.

    About 60 % are due (up to 400 days overdue), 20 % never contacted, 15 % dormant for 3–9
    years, a third have notes; 1 % wait for a follow-up answer and 0.5 % were skipped today.
    """
    unit, count = CADENCES[rng.randrange(len(CADENCES))]
    r = rng.random()
    if r < 0.20:
        last_contacted = None
    elif r < 0.35:
        last_contacted = day - timedelta(days=rng.randint(3 * 365, 9 * 365))
    elif r < 0.50:
        last_contacted = day - timedelta(days=rng.randint(366, 3 * 365))
    else:
        last_contacted = day - timedelta(days=rng.randint(7, 300))
    if rng.random() < 0.6:
        next_due = day - timedelta(days=rng.randint(0, 400))
    else:
        next_due = day + timedelta(days=rng.randint(1, 180))
    notes = ""
    if rng.random() < 0.35:
        notes = "; ".join(rng.sample(NOTES, rng.randint(1, 2)))
    how = HOW[rng.randrange(len(HOW))] if rng.random() < 0.25 else ""
    role = ROLES[rng.randrange(len(ROLES))] if rng.random() < 0.5 else ""
    last_note = LAST_NOTES[rng.randrange(3)] if last_contacted and rng.random() < 0.3 else ""
    skipped = day if rng.random() < 0.005 else None
    reached = follow_up = None
    if rng.random() < 0.01:
        reached = day - timedelta(days=rng.randint(3, 10))
        follow_up = day - timedelta(days=rng.randint(0, 2))
        next_due = day + timedelta(days=rng.randint(20, 60))
    created = day - timedelta(days=rng.randint(0, 1500))
    return (
        role, how, notes, count, unit, last_contacted, next_due, last_note, created, skipped,
        reached, follow_up,
    )  # fmt: skip


def contact_plan(
    users: int, contacts: int, day: date, seed: int
) -> tuple[list[str], list[str], list[tuple[Any, ...]], Iterator[tuple[int, int, int, int]]]:
    """Names, name keys, a pool of profiles, and ``(id, owner, name index, profile index)``
    for every contact: each user gets ``contacts`` distinct names and a random run of profiles,
    so generating two million rows costs little more than writing them."""
    from bot.core.text import fold

    rng = random.Random(seed)
    names = [f"{first} {last}" for last in LAST for first in FIRST]
    keys = [fold(name) for name in names]
    pool = [contact_profile(rng, day) for _ in range(POOL)]
    if contacts > len(names):
        raise SystemExit(f"--contacts: at most {len(names)} (distinct names per user)")

    def plan() -> Iterator[tuple[int, int, int, int]]:
        ident = 0
        for owner in range(1, users + 1):
            name, profile = rng.randrange(len(names)), rng.randrange(POOL)
            for j in range(contacts):
                ident += 1
                yield ident, owner, (name + j) % len(names), (profile + j) % POOL

    return names, keys, pool, plan()


def contact_rows(
    users: int, contacts: int, day: date, seed: int, d: Callable[[date | None], Any]
) -> Iterator[tuple[Any, ...]]:
    """Contact rows as tuples in :data:`CONTACT_COLUMNS` order (``d`` formats dates)."""
    names, keys, pool, plan = contact_plan(users, contacts, day, seed)
    formatted = [tuple(d(v) if isinstance(v, date) else v for v in p) for p in pool]
    for ident, owner, k, p in plan:
        yield (ident, owner, names[k], keys[k], *formatted[p])


def contact_copy_text(users: int, contacts: int, day: date, seed: int) -> Iterator[str]:
    """The same rows in PostgreSQL ``COPY`` text format, in blocks of lines."""
    names, keys, pool, plan = contact_plan(users, contacts, day, seed)
    tails = ["\t".join(_copy_field(v) for v in p) for p in pool]
    heads = [f"{_copy_field(n)}\t{_copy_field(k)}" for n, k in zip(names, keys, strict=True)]
    block: list[str] = []
    for ident, owner, k, p in plan:
        block.append(f"{ident}\t{owner}\t{heads[k]}\t{tails[p]}\n")
        if len(block) >= 20_000:
            yield "".join(block)
            block = []
    if block:
        yield "".join(block)


def _copy_field(value: Any) -> str:
    if value is None:
        return "\\N"
    text = value.isoformat() if isinstance(value, date) else str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def conversation_rows(
    users: int, contacts: int, day: date, seed: int, d: Callable[[date | None], Any]
) -> Iterator[tuple[Any, ...]]:
    """0–8 logged conversations or outreaches per user (for the activity that picks the hurdle)."""
    rng = random.Random(seed + 1)
    ident = 0
    for owner in range(1, users + 1):
        for _ in range(rng.randint(0, 8)):
            ident += 1
            contact = (owner - 1) * contacts + rng.randint(1, contacts)
            kind = "conversation" if rng.random() < 0.8 else "outreach"
            learned = (
                "they are hiring in Q3" if kind == "conversation" and rng.random() < 0.5 else ""
            )
            occurred = d(day - timedelta(days=rng.randint(1, 400)))
            yield (ident, owner, contact, occurred, kind, "caught up", learned)


def seed_postgres(url: Any, users: int, contacts: int, day: date, seed: int) -> dict[str, float]:
    """``COPY`` the rows in, then ``VACUUM ANALYZE`` (as autovacuum would after a bulk load)."""
    from sqlalchemy import create_engine

    from storage import db

    timings: dict[str, float] = {}
    engine = create_engine(db.sync_url(url))
    try:
        raw = engine.raw_connection()
        conn = raw.driver_connection
        assert conn is not None
        started = time.perf_counter()
        with conn.cursor() as cur:
            for table, columns, rows in (
                ("users", USER_COLUMNS, user_rows(users)),
                ("contacts", CONTACT_COLUMNS, contact_copy_text(users, contacts, day, seed)),
                (
                    "conversations",
                    CONVERSATION_COLUMNS,
                    conversation_rows(users, contacts, day, seed, _same),
                ),
            ):
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        if isinstance(row, str):
                            copy.write(row)
                        else:
                            copy.write_row(row)
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
        conn.commit()
        timings["insert_s"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        timings["vacuum_analyze_s"] = time.perf_counter() - started
        raw.close()
    finally:
        engine.dispose()
    return timings


def seed_sqlite(path: str, users: int, contacts: int, day: date, seed: int) -> dict[str, float]:
    """``executemany`` in one transaction. No ``ANALYZE``: the app never runs one."""
    timings: dict[str, float] = {}
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        started = time.perf_counter()
        conn.execute("BEGIN")
        for table, columns, rows in (
            ("users", USER_COLUMNS, user_rows(users)),
            ("contacts", CONTACT_COLUMNS, contact_rows(users, contacts, day, seed, _iso)),
            (
                "conversations",
                CONVERSATION_COLUMNS,
                conversation_rows(users, contacts, day, seed, _iso),
            ),
        ):
            marks = ", ".join("?" * len(columns))
            conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        timings["insert_s"] = time.perf_counter() - started
    finally:
        conn.close()
    return timings


def _same(value: date | None) -> date | None:
    return value


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def reset(url: Any, *, warm: bool = False) -> None:
    """Forget every nudge, attempt, prompt view and worker; forget cached DM channels, or with
    ``warm`` cache every user's (as every pass after a user's first finds them)."""
    from sqlalchemy import create_engine, text

    from storage import db

    engine = create_engine(db.sync_url(url))
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(
                    text("TRUNCATE delivery_attempts, nudges, prompt_views, workers")
                )
            else:
                for table in ("delivery_attempts", "nudges", "prompt_views", "workers"):
                    connection.execute(text(f"DELETE FROM {table}"))
            connection.execute(text("UPDATE users SET undeliverable = NULL"))
            if warm:
                connection.execute(text("UPDATE users SET dm_channel = 'D' || external_id"))
            else:
                connection.execute(text("UPDATE users SET dm_channel = NULL"))
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE users, nudges, delivery_attempts"))
        else:
            with engine.connect() as connection:
                connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    finally:
        engine.dispose()


def database_state(url: Any) -> dict[str, Any]:
    """Nudges by status, attempts, attempts left open, and users with more than one nudge."""
    from sqlalchemy import create_engine, text

    from storage import db

    engine = create_engine(db.sync_url(url))
    try:
        with engine.connect() as connection:
            statuses = dict(
                connection.execute(
                    text("SELECT status, count(*) FROM nudges GROUP BY status")
                ).all()
            )
            attempts = connection.execute(text("SELECT count(*) FROM delivery_attempts")).scalar()
            open_attempts = connection.execute(
                text("SELECT count(*) FROM delivery_attempts WHERE outcome IS NULL")
            ).scalar()
            doubled = connection.execute(
                text(
                    "SELECT count(*) FROM (SELECT user_id FROM nudges GROUP BY user_id "
                    "HAVING count(*) > 1) AS d"
                )
            ).scalar()
            cached = connection.execute(
                text("SELECT count(*) FROM users WHERE dm_channel IS NOT NULL")
            ).scalar()
    finally:
        engine.dispose()
    return {
        "nudges_by_status": statuses,
        "attempts": attempts,
        "open_attempts": open_attempts,
        "users_with_two_nudges": doubled,
        "dm_channels_cached": cached,
    }


@contextlib.contextmanager
def database(kind: str, keep: str = "") -> Iterator[Any]:
    """A migrated database URL of ``kind``: a new one, removed afterwards, or with ``keep`` the
    SQLite file or PostgreSQL schema of that name, created if missing and kept afterwards."""
    from storage import db

    if kind == "sqlite" and keep:
        url = db.normalise_url(f"sqlite:///{Path(keep).resolve()}")
        db.upgrade(url)
        yield url
    elif kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="rc_nudge_bench_") as folder:
            url = db.normalise_url(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
            db.upgrade(url)
            yield url
    elif keep:
        from sqlalchemy import create_engine, text

        from tests.support import postgres_url

        base = db.normalise_url(postgres_url())
        admin = create_engine(db.sync_url(base), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{keep}"'))
        finally:
            admin.dispose()
        url = base.update_query_dict({"options": f"-csearch_path={keep}"})
        db.upgrade(url)
        yield url
    else:
        from tests.support import postgres_schema

        with postgres_schema() as url:
            yield url


def row_counts(url: Any) -> tuple[int, int]:
    """``(users, contacts)`` already in the database."""
    from sqlalchemy import create_engine, text

    from storage import db

    engine = create_engine(db.sync_url(url))
    try:
        with engine.connect() as connection:
            users = connection.execute(text("SELECT count(*) FROM users")).scalar() or 0
            contacts = connection.execute(text("SELECT count(*) FROM contacts")).scalar() or 0
    finally:
        engine.dispose()
    return users, contacts


# --- the fake Slack (child process) ----------------------------------------------------------


def serve_fake(latency: float) -> None:
    """``fake`` child: print ``PORT <n>``, then answer ``stats`` lines until ``quit`` or EOF."""
    from tests.fakes.slack_api import FakeSlack

    slack = FakeSlack(latency=latency).start()
    print(f"PORT {slack.port}", flush=True)
    try:
        for line in sys.stdin:
            command = line.strip()
            if command == "stats":
                with slack._lock:
                    per_channel = {ch: len(ms) for ch, ms in slack.messages.items()}
                    methods = Counter(c.method for c in slack.calls)
                print(json.dumps({"per_channel": per_channel, "methods": methods}), flush=True)
            elif command == "quit":
                break
    finally:
        slack.stop()


class FakeProcess(FakeChild):
    """The ``fake`` child, seen from the parent."""

    def __init__(self, latency: float) -> None:
        super().__init__(__file__, ["fake", "--latency", str(latency)], what="fake Slack", cwd=ROOT)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def stats(self) -> dict[str, Any]:
        return json.loads(self.ask("stats", timeout=60.0))


# --- the measured pass (child process) ------------------------------------------------------


def peak_rss_mb() -> float:
    """``VmHWM``: this process's peak resident set (not inherited across ``exec``)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure(url: str, api_url: str, concurrency: int, at: datetime, profile: str) -> None:
    """``run`` child: one real pass, timed; prints ``RESULT {json}``."""
    import asyncio

    result, profiler = asyncio.run(_measure(url, api_url, concurrency, at, profile))
    if profiler is not None:
        Path(f"{profile}.html").write_text(profiler.output_html())
        Path(f"{profile}.txt").write_text(profiler.output_text(unicode=True, show_all=False))
        profiler.last_session.save(f"{profile}.pyisession")
    print("RESULT " + json.dumps(result), flush=True)


async def _measure(
    url: str, api_url: str, concurrency: int, at: datetime, profile: str
) -> tuple[dict[str, Any], Any]:
    from bot.settings import Settings, configure_logging
    from jobs.app import build_runner
    from storage import db
    from tests.fakes.slack_api import BOT_TOKEN

    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))  # as the scheduler does: stderr
    settings = Settings(
        database_url=db.normalise_url(url),
        slack_bot_token=BOT_TOKEN,
        slack_api_url=api_url,
        nudge_concurrency=concurrency,
    )
    runner = build_runner(settings, clock=lambda: at)
    marks: dict[str, float] = {}

    def timed(name: str, method: Any) -> Any:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            marks[f"{name}_start"] = time.perf_counter()
            marks[f"{name}_cpu_start"] = time.process_time()
            try:
                return await method(*args, **kwargs)
            finally:
                marks[f"{name}_end"] = time.perf_counter()
                marks[f"{name}_cpu_end"] = time.process_time()
                marks[f"{name}_peak_rss_mb"] = peak_rss_mb()
                marks[f"{name}_rss_mb"] = current_rss_mb()

        return wrapper

    for name in ("_plan", "_compose", "_deliver_all"):
        setattr(runner, name, timed(name.strip("_"), getattr(runner, name)))
    await runner.store.workers()  # connect once, as a running scheduler would have
    baseline = current_rss_mb()
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="enabled")
        profiler.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    summary = await runner.run_once()
    ended = time.perf_counter()
    if profiler is not None:
        profiler.stop()
    await runner.stop()
    await runner.close()
    await runner.store.engine.dispose()
    result = {
        "decide_s": marks["compose_end"] - started,
        "plan_s": marks["plan_end"] - started,
        "compose_s": marks["compose_end"] - marks["compose_start"],
        "deliver_s": marks["deliver_all_end"] - marks["deliver_all_start"],
        "run_once_s": ended - started,
        # CPU seconds of this process (the fake Slack and the database run elsewhere)
        "decide_cpu_s": marks["compose_cpu_end"] - cpu_started,
        "deliver_cpu_s": marks["deliver_all_cpu_end"] - marks["deliver_all_cpu_start"],
        "peak_rss_mb": peak_rss_mb(),
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_mb": baseline,
        "rss_after_decide_mb": marks["compose_rss_mb"],
        "peak_rss_after_decide_mb": marks["compose_peak_rss_mb"],
        "summary": summary.line(),
        "due": summary.due,
        "sent": summary.sent,
        "failed": summary.failed,
    }
    return result, profiler


# --- orchestration ----------------------------------------------------------------------------


def run_pass(
    url: Any,
    *,
    users: int,
    latency: float,
    concurrency: int,
    at: datetime,
    profile: str,
    script: str = __file__,
) -> dict[str, Any]:
    """One measured pass in fresh child processes; checks the fake and the database after.

    ``script`` is what the ``run`` child executes (another script can patch the code under
    test before calling :func:`main`, to measure a candidate fix without editing it)."""
    fake = FakeProcess(latency)
    load_before = os.getloadavg()[0]
    try:
        command = [
            sys.executable, script, "run", "--url", url.render_as_string(hide_password=False),
            "--api-url", fake.api_url, "--concurrency", str(concurrency), "--at", at.isoformat(),
            "--profile", profile,
        ]  # fmt: skip
        try:
            child = subprocess.run(
                command, capture_output=True, text=True, timeout=RUN_TIMEOUT, cwd=ROOT
            )
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"the pass did not finish within {RUN_TIMEOUT:.0f} s") from exc
        lines = child.stdout.splitlines()
        results = [json.loads(ln[len("RESULT ") :]) for ln in lines if ln.startswith("RESULT ")]
        if child.returncode != 0 or not results:
            sys.stderr.write(child.stdout[-5000:] + child.stderr[-5000:])
            raise RuntimeError(f"the pass failed (exit status {child.returncode})")
        result = results[0]
        result["load_before"], result["load_after"] = load_before, os.getloadavg()[0]
        logs = child.stderr.splitlines()
        result["log_lines"] = len(logs)
        result["log_sample"] = [ln[:300] for ln in logs if "nudges.pass" not in ln][:5]
        stats = fake.stats()
    finally:
        fake.close()
    per_channel: dict[str, int] = stats["per_channel"]
    expected = {"D" + slack_user(n) for n in range(1, users + 1)}
    result["duplicates"] = sum(1 for ch in expected if per_channel.get(ch, 0) > 1)
    result["missing"] = sum(1 for ch in expected if per_channel.get(ch, 0) == 0)
    result["unexpected_channels"] = len(set(per_channel) - expected)
    result["messages"] = sum(per_channel.values())
    result["slack_calls"] = stats["methods"]
    result["database"] = database_state(url)
    return result


def verdict(result: dict[str, Any]) -> dict[str, bool]:
    return {
        "decide_s": result["decide_s"] <= TARGETS["decide_s"],
        "deliver_s": result["deliver_s"] <= TARGETS["deliver_s"],
        "peak_rss_mb": result["peak_rss_mb"] <= TARGETS["peak_rss_mb"],
        "duplicates": result["duplicates"] == 0 and result["missing"] == 0,
    }


def report(kind: str, concurrency: int, result: dict[str, Any]) -> None:
    ok = verdict(result)

    def mark(name: str) -> str:
        return "ok" if ok[name] else "MISSED"

    print(
        f"  {kind} concurrency={concurrency}: "
        f"decide {result['decide_s']:.2f} s (plan {result['plan_s']:.2f} + compose "
        f"{result['compose_s']:.2f}) [{mark('decide_s')} ≤ {TARGETS['decide_s']:g} s] · "
        f"deliver {result['deliver_s']:.2f} s [{mark('deliver_s')} ≤ {TARGETS['deliver_s']:g} s] "
        f"(CPU: decide {result['decide_cpu_s']:.1f} s, deliver {result['deliver_cpu_s']:.1f} s) · "
        f"peak RSS {result['peak_rss_mb']:.0f} MB [{mark('peak_rss_mb')} ≤ "
        f"{TARGETS['peak_rss_mb']:g} MB] · duplicates {result['duplicates']}, missing "
        f"{result['missing']} [{mark('duplicates')}]",
        flush=True,
    )
    print(
        f"    {result['summary']}; fake: {result['slack_calls']}; 1-min load average "
        f"{result['load_before']:.1f} before, {result['load_after']:.1f} after",
        flush=True,
    )
    print(f"    database: {result['database']}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode")
    fake = sub.add_parser("fake", help=argparse.SUPPRESS)
    fake.add_argument("--latency", type=float, default=0.05)
    run = sub.add_parser("run", help=argparse.SUPPRESS)
    run.add_argument("--url", required=True)
    run.add_argument("--api-url", required=True)
    run.add_argument("--concurrency", type=int, required=True)
    run.add_argument("--at", required=True)
    run.add_argument("--profile", default="")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--contacts", type=int, default=200)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--latency", type=float, default=0.05, help="fake Slack delay, seconds")
    parser.add_argument(
        "--concurrency",
        default=os.environ.get("NUDGE_CONCURRENCY", "100"),
        help="NUDGE_CONCURRENCY; a comma-separated list runs one pass per value (default: "
        "$NUDGE_CONCURRENCY or 100)",
    )
    parser.add_argument(
        "--warm",
        action="store_true",
        help="every user's DM channel is already cached (any pass after the user's first): "
        "one Slack call per user instead of two",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", default="", help="also write every result to this file")
    parser.add_argument(
        "--profile",
        default="",
        help="pyinstrument the measured pass into PREFIX-<db>-<concurrency>.html/.txt "
        "(run with: uv run --with pyinstrument …)",
    )
    parser.add_argument(
        "--reuse-sqlite",
        default="",
        metavar="PATH",
        help="keep the SQLite database in PATH: seeded on first use, reset before each pass",
    )
    parser.add_argument(
        "--reuse-schema",
        default="",
        metavar="NAME",
        help="keep the PostgreSQL schema NAME: seeded on first use, reset before each pass",
    )
    args = parser.parse_args(argv)
    if args.mode == "fake":
        serve_fake(args.latency)
        return 0
    if args.mode == "run":
        measure(
            args.url, args.api_url, args.concurrency, datetime.fromisoformat(args.at), args.profile
        )
        return 0

    levels = [int(c) for c in str(args.concurrency).split(",") if c.strip()]
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    day = datetime.now(UTC).date()
    at = datetime(day.year, day.month, day.day, 8, 30, 20, tzinfo=UTC)
    print(
        f"nudge bench: {args.users:,} users × {args.contacts} contacts, all due at "
        f"{at:%Y-%m-%d %H:%M} UTC; fake Slack latency {args.latency * 1000:.0f} ms; "
        f"concurrency {levels}; DM channels {'cached' if args.warm else 'not cached'}; code "
        f"{revision()}; Python {platform.python_version()}, {os.cpu_count()} CPUs",
        flush=True,
    )
    results: list[dict[str, Any]] = []
    failed = False
    for kind in kinds:
        keep = args.reuse_sqlite if kind == "sqlite" else args.reuse_schema
        with database(kind, keep) as url:
            started = time.perf_counter()
            have = row_counts(url)
            if have == (args.users, args.users * args.contacts):
                print(f"{kind}: reusing {have[0]:,} users and {have[1]:,} contacts", flush=True)
                seeding: dict[str, float] = {}
            elif have != (0, 0):
                print(f"{kind}: {keep} holds {have} (users, contacts); expected an empty one")
                return 2
            else:
                if kind == "postgresql":
                    seeding = seed_postgres(url, args.users, args.contacts, day, args.seed)
                else:
                    assert url.database is not None
                    seeding = seed_sqlite(url.database, args.users, args.contacts, day, args.seed)
                seeding["total_s"] = time.perf_counter() - started
                print(
                    f"{kind}: seeded {args.users:,} users and {args.users * args.contacts:,} "
                    f"contacts in {seeding['total_s']:.1f} s ({_fmt(seeding)})",
                    flush=True,
                )
            for concurrency in levels:
                reset(url, warm=args.warm)
                profile = f"{args.profile}-{kind}-{concurrency}" if args.profile else ""
                try:
                    result = run_pass(
                        url,
                        users=args.users,
                        latency=args.latency,
                        concurrency=concurrency,
                        at=at,
                        profile=profile,
                    )
                except RuntimeError as exc:
                    print(f"  {kind} concurrency={concurrency}: FAILED: {exc}", flush=True)
                    failed = True
                    continue
                report(kind, concurrency, result)
                results.append(
                    {
                        "db": kind,
                        "users": args.users,
                        "contacts": args.contacts,
                        "latency": args.latency,
                        "concurrency": concurrency,
                        "warm": args.warm,
                        "revision": revision(),
                        "seeding": seeding,
                        "targets_met": verdict(result),
                        **result,
                    }
                )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    if failed:
        return 2
    return 0 if all(all(r["targets_met"].values()) for r in results) else 1


def revision() -> str:
    """The checkout's commit, with ``+changes`` when files differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + ("+changes" if dirty else "")


def _fmt(timings: dict[str, float]) -> str:
    return ", ".join(
        f"{k.removesuffix('_s')} {v:.1f} s" for k, v in timings.items() if k != "total_s"
    )


if __name__ == "__main__":
    raise SystemExit(main())
