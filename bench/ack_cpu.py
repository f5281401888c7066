"""CPU per Slack request, measured inside one process: finding where an ack's CPU goes.

Builds the whole app of this checkout (``bot.app.build_app``, the fake Slack Web API in the same
process, a migrated SQLite file or a fresh PostgreSQL schema seeded like ``bench/ack_bench.py``)
and hands pre-signed requests straight to ``bot.web.slack_events`` (no TCP, no load generator
in the measured process; signing happens before measuring). Prints process CPU per request;
``--profile out.prof`` writes a cProfile (CPU-time timer) of the measured rounds;
``--trace-compiles`` lists every SQL statement compiled while measuring (a statement compiled
on every request is a cache miss, ~0.3 ms each).

The machine is shared and noisy, so for before/after comparisons count instructions instead of
time: ``bench/ack_cpu_callgrind.sh <checkout> <out> [args]`` runs this under callgrind with
instrumentation on only around the measured requests (``--handshake``), and prints the total.
It runs from any checkout (the old code too: it reads the seeded ids back when that checkout's
``ack_bench.seed`` returns none). The ack budget is raised to 60 s (``--ack-budget``) so that a
slow machine does not send requests down the "One moment…" path and change what is measured.

    uv run python bench/ack_cpu.py --db postgresql --mix commands --requests 1000
    bench/ack_cpu_callgrind.sh ../wt-old /tmp/cg.out --db postgresql --requests 200 --warmup 100
"""

# ruff: noqa: E402, ASYNC110, ASYNC230, SIM115 (a measuring script: a log file held open for
# the run, file-based handshakes polled from the event loop)
from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import os
import sys
import time
from pathlib import Path

ROOT = Path.cwd()
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from multidict import CIMultiDict


class Req:
    def __init__(self, app, body: bytes, headers):
        self.app = app
        self._body = body
        self.headers = CIMultiDict(headers)
        self.query_string = ""

    async def read(self):
        return self._body


async def main(a):
    import logging

    import ack_bench as ab
    import common

    from bot.app import build_app, prepare_database
    from bot.settings import Settings, configure_logging
    from bot.web import slack_events
    from tests.fakes import slack_requests as sr
    from tests.fakes.slack_api import BOT_TOKEN, FakeSlack

    configure_logging("INFO")
    import bot.adapters.slack.app as slack_app

    slack_app.ACK_BUDGET_SECONDS = a.ack_budget  # no "One moment" detours when the machine is slow
    logfile = open(a.log, "w")
    for h in logging.getLogger().handlers:
        if hasattr(h, "setStream"):
            h.setStream(logfile)
    async with contextlib.AsyncExitStack() as stack:
        fake = stack.enter_context(FakeSlack())
        url = stack.enter_context(common.database(a.db))
        settings = Settings(
            database_url=url,
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=sr.SIGNING_SECRET,
            slack_api_url=fake.api_url,
        )
        await prepare_database(settings)
        app = build_app(settings)
        stack.push_async_callback(app.close)
        for listener in getattr(app.slack, "_async_listeners", ()):
            # Bolt answers 404 to a request not acked within 3 s: under valgrind the first
            # measured requests can take that long (instrumenting code afresh)
            listener.ack_timeout = max(listener.ack_timeout, int(a.ack_budget))
        ids = await ab.seed(app.engine, a.users, a.seed) or {}
        if not ids:  # old bench: read the ids back
            from sqlalchemy import text

            async with app.engine.connect() as c:
                rows = (await c.execute(text("select id, name from contacts order by id"))).all()
            for cid, name in rows:
                if name.startswith("Seeded Person "):
                    ids.setdefault(int(name[14:17]), []).append(cid)
        web = app.web
        resp_url = fake.response_url("bench")

        def make(i):
            user = i % a.users
            kinds = 2 if a.mix == "commands" else 4
            kind = (i + i // a.users) % kinds
            seeded = ids.get(user) or [0]
            pick = (i // a.users) % len(seeded)
            if a.only is not None:
                kind = a.only
            if kind == 3:
                return sr.block_action(
                    "rc:snooze:1.1", str(seeded[pick]), user=ab.user_id(user), response_url=resp_url
                ), b""
            if kind == 0:
                text_, exp = "due", b"due"
            elif kind == 1:
                text_, exp = (
                    f"add Loadtest Contact {i:07d} every 2 months -- from the bench",
                    b"Added",
                )
            else:
                text_, exp = f"log Seeded Person {user:03d}-{pick:03d} -- from the bench", b"Logged"
            return sr.slash_command(
                text_, user=ab.user_id(user), response_url=resp_url, trigger_id=f"T.{i}"
            ), exp

        counter = [0]
        late = [0]
        sizes = []
        prepared = {}

        def prepare(n):
            # signed before measuring: the load generator's work is not the server's
            prepared.clear()
            for i in range(counter[0], counter[0] + n):
                body, exp = make(i)
                headers = sr.signed_headers(body, content_type="application/x-www-form-urlencoded")
                prepared[i] = (body.encode(), headers, exp)

        async def one():
            i = counter[0]
            counter[0] += 1
            body, headers, exp = prepared.pop(i)
            r = await slack_events(Req(web, body, headers))
            b_ = r.body
            out = b_ if isinstance(b_, bytes) else (b_._value if hasattr(b_, "_value") else b"")
            if isinstance(out, str):
                out = out.encode()
            sizes.append(len(out))
            if r.status == 200 and b"One moment" in out:
                late[0] += 1
            elif r.status != 200 or exp not in out:
                raise RuntimeError(f"bad answer {r.status} {out[:200]!r}")

        async def run(n):
            if a.concurrency <= 1:
                for _ in range(n):
                    await one()
            else:
                left = [n]

                async def worker():
                    while left[0] > 0:
                        left[0] -= 1
                        await one()

                await asyncio.gather(*(worker() for _ in range(a.concurrency)))

        try:
            await measured_phases(a, prepare, run, late, sizes, counter)
        except BaseException:
            import traceback

            traceback.print_exc()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(1)


async def measured_phases(a, prepare, run, late, sizes, counter):
    if True:
        prepare(a.warmup)
        await run(a.warmup)
        await asyncio.sleep(0.5)
        # The warm-up clicks' work (run after their ack) must be done before measuring, or
        # its first-time costs (a user's row looked up, statements compiled) are counted.
        with contextlib.suppress(ImportError):
            from bot.adapters.slack import inflight

            await inflight.drain()

        async def handshake(step):
            if not a.handshake:
                return
            d = Path(a.handshake)
            (d / f"{step}-request").write_text(str(os.getpid()))
            while not (d / f"{step}-ok").exists():
                await asyncio.sleep(0.05)

        prof = cProfile.Profile(time.process_time) if a.profile else None
        compiles = {}
        if a.trace_compiles:
            from sqlalchemy.sql import compiler as _sc

            _orig = _sc.SQLCompiler.__init__
            _busy = [False]

            def _init(self, dialect, statement, *args, **kw):
                if not _busy[0]:
                    _busy[0] = True
                    try:
                        key = (
                            type(statement).__name__ + " " + " ".join(str(statement).split())[:200]
                        )
                    except Exception as e:
                        key = type(statement).__name__ + " ?" + repr(e)[:50]
                    finally:
                        _busy[0] = False
                    compiles[key] = compiles.get(key, 0) + 1
                return _orig(self, dialect, statement, *args, **kw)

            _sc.SQLCompiler.__init__ = _init
        results = []
        for r in range(a.rounds):
            sizes.clear()
            prepare(a.requests)
            if r == 0:
                await handshake("start")
            if prof:
                prof.enable()
            c0 = time.process_time()
            w0 = time.perf_counter()
            await run(a.requests)
            c1 = time.process_time()
            w1 = time.perf_counter()
            if prof:
                prof.disable()
            results.append((c1 - c0) / a.requests * 1000)
            print(
                f"{ROOT.name} {a.db} {a.mix} round {r}: {results[-1]:.3f} ms CPU/request, wall {(w1 - w0) / a.requests * 1000:.3f} ms, mean answer {sum(sizes) / len(sizes):.0f} B, late {late[0]}",
                flush=True,
            )
        if a.handshake:
            await asyncio.sleep(
                0.5
            )  # background work of the measured requests (time zone touches, response_url posts)
            # A click's work runs after its ack, in Bolt's task: wait for all of it, or a slow
            # run (SQLite's writers queue) stops counting with clicks still to do.
            with contextlib.suppress(ImportError):
                from bot.adapters.slack import inflight

                await inflight.drain()
        await handshake("end")
        for k, v in sorted(compiles.items(), key=lambda x: -x[1]):
            print(f"COMPILE {v:6d} {k}")
        if prof:
            prof.dump_stats(a.profile)
        print(
            f"RESULT {ROOT.name} {a.db} {a.mix} min {min(results):.3f} median {sorted(results)[len(results) // 2]:.3f}"
        )
        await asyncio.sleep(1.0)  # let background touches finish


p = argparse.ArgumentParser()
p.add_argument("--db", default="sqlite")
p.add_argument("--mix", default="commands")
p.add_argument("--requests", type=int, default=1000)
p.add_argument("--warmup", type=int, default=300)
p.add_argument("--rounds", type=int, default=3)
p.add_argument("--users", type=int, default=20)
p.add_argument("--seed", type=int, default=20)
p.add_argument("--profile", default="")
p.add_argument("--concurrency", type=int, default=1)
p.add_argument("--only", type=int, default=None)
p.add_argument("--handshake", default="")
p.add_argument("--ack-budget", type=float, default=60.0)
p.add_argument("--trace-compiles", action="store_true")
p.add_argument("--log", default="/tmp/acks/server.log")
try:
    asyncio.run(main(p.parse_args()))
except BaseException:
    import traceback

    traceback.print_exc()
    sys.stdout.flush()
    os._exit(1)
