"""What the benchmarks share: databases, fake services in child processes, measured passes.

* the parent: :func:`database` (a migrated SQLite file or PostgreSQL schema), :func:`reset`,
  :func:`database_state`, :func:`run_children` (the measured ``run`` children, their ``RESULT``);
* fakes: :class:`FakeChild` starts one, :func:`serve` is its command loop in the child;
* the ``run`` child: :func:`timed_pass` runs ``NudgeRunner.run_once`` once and reads the phase
  timings off the run summary (``RunSummary.phases``, see jobs/phases.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

KINDS = {"sqlite": ("sqlite",), "postgresql": ("postgresql",), "both": ("sqlite", "postgresql")}
RESET_TABLES = "delivery_attempts, nudges, prompt_views, workers"


def child_mode(argv: list[str] | None, **modes: Callable[[dict[str, Any]], Any]) -> bool:
    """``<script> fake|run <config as JSON>``: run that child's mode and say so; else ``False``."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] and argv[0] in modes:
        modes[argv[0]](json.loads(argv[1]))
        return True
    return False


def parser(doc: str, *, users: int, db: str, profile: str) -> argparse.ArgumentParser:
    """The options every nudge benchmark has: --users, --db, --json, --profile."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=users)
    parser.add_argument("--db", choices=tuple(KINDS), default=db)
    parser.add_argument("--json", default="", help="also write every result to this file")
    parser.add_argument(
        "--profile",
        default="",
        metavar="PREFIX",
        help=f"pyinstrument each measured pass into PREFIX-{profile}.html/.txt "
        "(run with: uv run --with pyinstrument …; profiled passes are slower)",
    )
    return parser


def morning() -> datetime:
    """Today at 08:30:20 UTC: every bench user's nudge is due."""
    day = datetime.now(UTC).date()
    return datetime(day.year, day.month, day.day, 8, 30, 20, tzinfo=UTC)


def machine() -> str:
    return f"Python {platform.python_version()}, {os.cpu_count()} CPUs"


def revision() -> str:
    """The checkout's commit, with ``+changes`` when files differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT).stdout

    try:
        head = git("rev-parse", "--short", "HEAD").strip()
        dirty = git("status", "--porcelain", "--untracked-files=no").strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + ("+changes" if dirty else "")


# --- databases (parent process) ---------------------------------------------------------------


@contextlib.contextmanager
def sync_engine(url: Any, **options: Any) -> Iterator[Any]:
    """A blocking SQLAlchemy engine on ``url``, disposed afterwards."""
    from sqlalchemy import create_engine

    from storage import db

    engine = create_engine(db.sync_url(url), **options)
    try:
        yield engine
    finally:
        engine.dispose()


@contextlib.contextmanager
def database(kind: str, keep: str = "", prefix: str = "rc_bench_") -> Iterator[Any]:
    """A migrated database URL of ``kind``: a new one, removed afterwards, or with ``keep`` the
    SQLite file or PostgreSQL schema of that name, created if missing and kept afterwards."""
    from sqlalchemy import text

    from storage import db
    from tests.support import postgres_schema, postgres_url

    if kind == "postgresql" and not keep:
        with postgres_schema() as url:
            yield url
        return
    with contextlib.ExitStack() as stack:
        if kind == "sqlite":
            folder = keep or stack.enter_context(tempfile.TemporaryDirectory(prefix=prefix))
            path = Path(keep).resolve() if keep else Path(folder) / "bench.sqlite3"
            url = db.normalise_url(f"sqlite:///{path}")
        else:
            base = db.normalise_url(postgres_url())
            with sync_engine(base, isolation_level="AUTOCOMMIT") as admin, admin.connect() as c:
                c.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{keep}"'))
            url = base.update_query_dict({"options": f"-csearch_path={keep}"})
        db.upgrade(url)
        yield url


def scalar(url: Any, sql: str) -> Any:
    from sqlalchemy import text

    with sync_engine(url) as engine, engine.connect() as connection:
        return connection.execute(text(sql)).scalar()


def maintain(engine: Any, *tables: str) -> None:
    """``VACUUM ANALYZE`` (``tables``, or all) on PostgreSQL, as autovacuum would after a bulk
    change; on SQLite a WAL checkpoint. On a PostgreSQL server shared with other work, a table
    another session keeps locked is left as it is (after 10 s), with a note, rather than
    waited for."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET lock_timeout = '10s'"))
            try:
                connection.execute(text(f"VACUUM ANALYZE {', '.join(tables)}".strip()))
            except OperationalError:
                print("  (VACUUM ANALYZE skipped: a table is locked by another session)")
        else:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def next_id_sql(table: str) -> str:
    """PostgreSQL: move ``table``'s id sequence past the rows inserted with explicit ids."""
    return (
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
        f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
    )


def reset(url: Any, *, dm_channels: str | None = None, suggestions: bool = False) -> None:
    """Forget every nudge, attempt, prompt view and worker (between passes). ``dm_channels``
    ``"cold"`` forgets the users' cached DM channels and undeliverable marks, ``"warm"`` caches
    every user's (``"D" + external_id``, as the fake Slack names them); ``None`` leaves users be.
    ``suggestions``: forget which contacts passes suggested (for a database seeded with none, as
    ``nudge_bench`` seeds: each pass suggests three contacts a user, and a reused database
    otherwise drifts from run to run — the weekly limit and the rotation skip them next time).
    """
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    with sync_engine(url) as engine:
        truncated = False
        if engine.dialect.name == "postgresql":
            # TRUNCATE needs every table to itself: on a server shared with other work a
            # long-running session may keep it waiting, so give up after 10 s and DELETE.
            try:
                with engine.begin() as connection:
                    connection.execute(text("SET LOCAL lock_timeout = '10s'"))
                    connection.execute(text(f"TRUNCATE {RESET_TABLES}"))
                truncated = True
            except OperationalError:
                print("  (TRUNCATE waited too long for a lock: deleting the rows instead)")
        with engine.begin() as connection:
            if not truncated:
                for table in RESET_TABLES.split(", "):
                    connection.execute(text(f"DELETE FROM {table}"))
            if dm_channels is not None:
                channel = "'D' || external_id" if dm_channels == "warm" else "NULL"
                connection.execute(
                    text(f"UPDATE users SET undeliverable = NULL, dm_channel = {channel}")
                )
            if suggestions:
                # Never suggested: the rotation key of a contact never shown is minus its
                # value points (bot.core.ranking.rotation_key).
                connection.execute(
                    text(
                        "UPDATE contacts SET suggested_on = NULL, suggested_before_on = NULL, "
                        "rotation_key = -value_points WHERE suggested_on IS NOT NULL"
                    )
                )
        maintain(engine, "users", "nudges", "delivery_attempts")


def database_state(url: Any) -> dict[str, Any]:
    """Nudges by status, attempts (by outcome, and left open), the most attempts one nudge had,
    users with more than one nudge, and users with a cached DM channel."""
    from sqlalchemy import text

    queries = {
        "most_attempts": "SELECT max(attempts) FROM nudges",
        "users_with_two_nudges": "SELECT count(*) FROM (SELECT user_id FROM nudges "
        "GROUP BY user_id HAVING count(*) > 1) AS d",
        "dm_channels_cached": "SELECT count(*) FROM users WHERE dm_channel IS NOT NULL",
    }
    with sync_engine(url) as engine, engine.connect() as connection:

        def counts(sql: str) -> dict[str, int]:
            return {str(k): v for k, v in connection.execute(text(sql)).all()}

        state: dict[str, Any] = {
            "nudges_by_status": counts("SELECT status, count(*) FROM nudges GROUP BY status"),
            "attempts_by_outcome": counts(
                "SELECT outcome, count(*) FROM delivery_attempts GROUP BY outcome"
            ),
        }
        state.update({k: connection.execute(text(q)).scalar() for k, q in queries.items()})
    state["attempts"] = sum(state["attempts_by_outcome"].values())
    state["open_attempts"] = state["attempts_by_outcome"].get("None", 0)
    return state


def delivered(per_recipient: dict[str, int], expected: set[str]) -> tuple[int, int, int, int]:
    """``(missing, duplicated, unexpected, messages)``: recipients with no message, with more
    than one, recipients that were not expected, and messages in all."""
    return (
        sum(1 for r in expected if per_recipient.get(r, 0) == 0),
        sum(1 for r in expected if per_recipient.get(r, 0) > 1),
        len(set(per_recipient) - expected),
        sum(per_recipient.values()),
    )


# --- fake services in child processes ---------------------------------------------------------


class FakeChild:
    """``python <script> fake <config as JSON>`` started as a fake service, driven over its
    stdin/stdout (see :func:`serve`); ``what`` names it in errors."""

    def __init__(self, script: str, config: dict[str, Any], *, what: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, script, "fake", json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        line = self._readline(30.0)
        if not line.startswith("PORT "):
            self.close()
            raise RuntimeError(f"{what} did not start: {line!r}")
        self.port = int(line.split()[1])

    def ask(self, command: str, timeout: float = 120.0) -> Any:
        """Send one command line; the child's one-line JSON answer."""
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return json.loads(self._readline(timeout))

    def close(self) -> None:
        """Ask the child to quit; kill it if it does not."""
        with contextlib.suppress(OSError, ValueError):
            assert self.process.stdin is not None
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def _readline(self, timeout: float) -> str:
        stream: IO[str] | None = self.process.stdout
        assert stream is not None
        ready, _, _ = select.select([stream], [], [], timeout)
        if not ready:
            raise TimeoutError("no answer from the child process")
        return stream.readline().strip()


def serve(port: int, commands: dict[str, Callable[[], Any]]) -> None:
    """The fake child's side: print ``PORT <n>``, then answer each command line with its JSON
    result until ``quit`` or end of file."""
    print(f"PORT {port}", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            break
        if command in commands:
            print(json.dumps(commands[command]()), flush=True)


# --- the measured pass ------------------------------------------------------------------------


def run_children(commands: list[list[str]], timeout: float) -> list[tuple[dict[str, Any], str]]:
    """Run ``commands`` at once (the ``run`` children), each printing ``RESULT {json}``; their
    results and standard error. ``RuntimeError`` when one fails or times out."""
    out: list[tuple[dict[str, Any], str]] = []
    with contextlib.ExitStack() as stack:
        children = []
        for command in commands:
            files = [stack.enter_context(tempfile.TemporaryFile("w+")) for _ in range(2)]
            process = subprocess.Popen(command, stdout=files[0], stderr=files[1], cwd=ROOT)
            stack.callback(_kill, process)
            children.append((process, files))
        deadline = time.monotonic() + timeout
        for process, files in children:
            try:
                process.wait(max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired as exc:
                raise RuntimeError(f"the pass did not finish within {timeout:.0f} s") from exc
            for file in files:
                file.seek(0)
            stdout, stderr = (file.read() for file in files)
            found = [ln[len("RESULT ") :] for ln in stdout.splitlines() if ln.startswith("RESULT ")]
            if process.returncode != 0 or not found:
                sys.stderr.write(stdout[-5000:] + stderr[-5000:])
                raise RuntimeError(f"the pass failed (exit status {process.returncode})")
            out.append((json.loads(found[0]), stderr))
    return out


def _kill(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(5)


def log_figures(stderr: str) -> dict[str, Any]:
    """How many log lines the pass wrote, and the first few other than ``nudges.pass``."""
    logs = stderr.splitlines()
    return {
        "log_lines": len(logs),
        "log_sample": [ln[:300] for ln in logs if "nudges.pass" not in ln][:5],
    }


def proc_status_mb(field: str) -> float | None:
    """``VmHWM`` (peak resident set; unlike ``ru_maxrss`` not inherited across ``exec``) or
    ``VmRSS`` of this process, in MiB."""
    with contextlib.suppress(OSError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return None


def ru_maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def save_profile(profiler: Any, prefix: str) -> None:
    profiler.stop()
    Path(f"{prefix}.html").write_text(profiler.output_html())
    Path(f"{prefix}.txt").write_text(profiler.output_text(unicode=True, show_all=False))
    profiler.last_session.save(f"{prefix}.pyisession")


async def timed_pass(runner: Any, at: Any, profile: str = "") -> dict[str, Any]:
    """One ``run_once`` at ``at``, with ``profile`` a pyinstrument prefix (``PREFIX.html``,
    ``.txt``, ``.pyisession``); the figures, read off the run summary and its phases.

    decide = from ``run_once`` being called until composing ended (heartbeat, plan, compose);
    deliver = the deliver phase. CPU seconds are this process's: ``decide_cpu_s`` is the pass's
    CPU time less the deliver phase's. ``deliver_start``/``deliver_end`` are ``perf_counter``
    readings (CLOCK_MONOTONIC, comparable across processes on Linux); a pass that claimed
    nothing has no deliver phase, and an empty one is reported at its end.
    """
    inherited = ru_maxrss_mb()  # the parent's peak, carried over by exec
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="enabled")
        profiler.start()
    started, cpu = time.perf_counter(), time.process_time()
    summary = await runner.run_once(at)
    ended, cpu = time.perf_counter(), time.process_time() - cpu
    if profiler is not None:
        save_profile(profiler, profile)
    phases = summary.phases
    plan = phases["plan"]
    compose, deliver = phases.get("compose"), phases.get("deliver")
    decided = compose or plan
    peak = decided.peak_rss_mb
    decide_s = decided.ended - started
    if deliver is not None and deliver.started < decided.ended:
        # A streamed pass decides page by page while sending: its deciding is the sum of
        # the plan and compose stretches (which include sends run while they waited for the
        # database; the nudge benchmark also measures deciding alone, see decide_alone).
        decide_s = plan.wall_s + (compose.wall_s if compose else 0.0)
    return {
        "decide_s": decide_s,
        "first_send_s": (deliver.started - started) if deliver else None,
        "plan_s": plan.ended - started,
        "compose_s": compose.wall_s if compose else 0.0,
        "deliver_s": deliver.wall_s if deliver else 0.0,
        "deliver_start": deliver.started if deliver else ended,
        "deliver_end": deliver.ended if deliver else ended,
        "run_once_s": ended - started,
        "cpu_s": cpu,
        "decide_cpu_s": cpu - (deliver.cpu_s if deliver else 0.0),
        "deliver_cpu_s": deliver.cpu_s if deliver else 0.0,
        "peak_rss_mb": proc_status_mb("VmHWM") or ru_maxrss_mb(),
        "ru_maxrss_mb": ru_maxrss_mb(),
        "rss_after_decide_mb": decided.rss_mb,
        # the phase's peak is ru_maxrss: this process's own only once above the inherited one
        "peak_rss_after_decide_mb": peak if peak > inherited else None,
        "summary": summary.line(),
        "due": summary.due,
        "sent": summary.sent,
        "failed": summary.failed,
        "undeliverable": summary.undeliverable,
    }


async def decide_alone(runner: Any, at: Any) -> dict[str, Any]:
    """Plan, claim and compose a whole pass with nothing sent (``NudgeRunner.decide_all``): what
    deciding costs when it does not share the process with sending. The claims it leaves are
    for :func:`reset` to forget before the measured pass."""
    started, cpu = time.perf_counter(), time.process_time()
    summary = await runner.decide_all(at)
    return {
        "decide_alone_s": time.perf_counter() - started,
        "decide_alone_cpu_s": time.process_time() - cpu,
        "decide_alone_due": summary.due,
        "decide_alone_peak_rss_mb": proc_status_mb("VmHWM") or ru_maxrss_mb(),
    }


def runner_settings(url: str, api_url: str, concurrency: int) -> Any:
    """The settings a benchmark's ``run`` child builds its runner from, against the fake Slack
    at ``api_url``; logging set up as the scheduler's (stderr)."""
    from bot.settings import Settings, configure_logging
    from storage import db
    from tests.fakes.slack_api import BOT_TOKEN

    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
    return Settings(
        database_url=db.normalise_url(url),
        slack_bot_token=BOT_TOKEN,
        slack_api_url=api_url,
        nudge_concurrency=concurrency,
    )
