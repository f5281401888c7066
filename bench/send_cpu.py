"""CPU per morning-nudge send on Slack, measured inside one process: where a send's CPU goes.

A send, as the morning pass makes it (``jobs.runner``: ``_prepare`` then ``Messenger.post``), is
the core's rendering of a composed nudge (``bot.core.nudges.render``), its Block Kit
(``bot.adapters.slack.render``) and the ``chat.postMessage`` call through the real
:class:`bot.adapters.slack.messenger.SlackMessenger` (``slack_sdk`` and aiohttp). This script
composes ``--users`` realistic nudges (contacts drawn like ``bench/nudge_bench.py``'s), then
posts ``--sends`` of them with ``--concurrency`` at once to :class:`tests.fakes.slack_api.FakeSlack`
in a child process (answering after ``--latency`` seconds, with the posted message echoed back
as Slack does), and prints this process's CPU per send, with its parts measured apart in the
same run: the core's rendering, Block Kit alone, and the whole send. The group-committed
database writes of a send are not in it (``bench/nudge_bench.py`` measures the whole pass).

It runs against any checkout: run it from the checkout to measure, with that checkout's
Python, giving this file's path (the code under test is imported from the working directory):

    uv run python bench/send_cpu.py --sends 3000 --rounds 3
    cd /tmp/base && .venv/bin/python /work/wt-sends/bench/send_cpu.py --sends 3000 --rounds 3
    uv run python bench/send_cpu.py --profile /tmp/send.prof      # cProfile, CPU-time timer

The machine is shared and noisy, so for before/after comparisons count instructions instead:
``bench/send_cpu_callgrind.sh <checkout> <out> [args]`` runs this under callgrind with
instrumentation on only around the measured sends (``--handshake``) and prints the total.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path.cwd()  # the checkout measured: its code, its fake Slack
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

DAY = date(2026, 11, 30)


def serve_fake(config: dict[str, Any]) -> None:
    """``fake`` child: the fake Slack Web API until told to quit."""
    import common

    from tests.fakes.slack_api import FakeSlack

    slack = FakeSlack(latency=config["latency"]).start()
    try:
        common.serve(slack.port, {"count": lambda: len(slack.calls_to("chat.postMessage"))})
    finally:
        slack.stop()


def nudges(users: int, contacts: int, seed: int) -> list[tuple[Any, dict[int, Any], int]]:
    """``(content, contacts, nudge id)`` for ``users`` users: each with ``contacts`` contacts
    drawn like the nudge benchmark's, composed by the core as the morning pass does."""
    import nudge_bench

    from bot.core.cadence import Span, Unit
    from bot.core.model import Contact, UserRef
    from bot.core.nudges import Activity, compose_for

    rng = random.Random(seed)
    pool = [nudge_bench.contact_profile(rng, DAY) for _ in range(500)]
    names = [f"{first} {last}" for last in nudge_bench.LAST for first in nudge_bench.FIRST]
    out = []
    for n in range(1, users + 1):
        people = []
        for j in range(contacts):
            (role, how, notes, count, unit, last, due, last_note, created, skipped, reached,
             follow) = pool[rng.randrange(len(pool))]  # fmt: skip
            people.append(
                Contact(
                    n * 1000 + j,
                    names[rng.randrange(len(names))],
                    Span(count, Unit(unit)),
                    company_role=role,
                    how_known=how,
                    notes=notes,
                    last_contacted_on=last,
                    next_due_on=due,
                    last_note=last_note,
                    created_on=created,
                    skipped_on=skipped,
                    reached_out_on=reached,
                    follow_up_on=follow,
                    relationship=rng.choice(nudge_bench.RELATIONSHIPS),
                )
            )
        due = [c for c in people if c.next_due_on <= DAY]
        activity = Activity(contacts, rng.randint(0, 8), DAY - timedelta(days=9), None)
        content, chosen = compose_for(
            UserRef("slack", "T1", f"U{n}"), DAY, cards=3, candidates=due, followups=[],
            activity=activity, prompt_views={},
        )  # fmt: skip
        out.append((content, chosen, n))
    return out


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    import common
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.adapters.slack import render as blockkit
    from bot.adapters.slack.messenger import SlackMessenger
    from bot.core.nudges import render
    from bot.settings import configure_logging
    from tests.fakes.slack_api import BOT_TOKEN

    configure_logging("INFO")  # as the clock process runs: library loggers at INFO
    composed = nudges(args.users, args.contacts, args.seed)
    fake = common.FakeChild(__file__, {"latency": args.latency}, what="fake Slack")
    cmd = "/reconnect "
    try:
        # As jobs.app.build_messengers builds it (the checkout's own, when it has one).
        try:
            from bot.settings import Settings
            from jobs.app import build_messengers

            settings = Settings(
                database_url="sqlite+aiosqlite:///:memory:",
                slack_bot_token=BOT_TOKEN,
                slack_api_url=f"http://127.0.0.1:{fake.port}/api/",
            )
            messenger = build_messengers(settings, None)["slack"]  # type: ignore[arg-type]
        except Exception:  # an older checkout: the client as jobs.app built it then
            messenger = SlackMessenger(
                AsyncWebClient(
                    token=BOT_TOKEN,
                    base_url=f"http://127.0.0.1:{fake.port}/api/",
                    timeout=15,
                    retry_handlers=[],
                )
            )

        # Under callgrind a busy machine can hold an answer longer than the client's 15 s.
        messenger.client.timeout = args.timeout

        async def send(i: int) -> None:
            content, contacts, uid = composed[i % len(composed)]
            reply = render(content, contacts, nudge_id=i + 1, cmd=cmd)
            await messenger.post(f"U{uid}", reply, f"reconnect-nudge-{i + 1}")

        async def sends(count: int) -> None:
            queue = iter(range(count))

            async def worker() -> None:
                for i in queue:
                    await send(i)

            await asyncio.gather(*(worker() for _ in range(args.concurrency)))

        await sends(min(200, args.sends))  # warm up: connections, caches, first compiles
        rounds: list[dict[str, float]] = []
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        for _ in range(args.rounds):
            figures: dict[str, float] = {}
            cpu = time.process_time()
            replies = [render(c, p, nudge_id=n, cmd=cmd) for c, p, n in composed]
            figures["core_render_ms"] = (time.process_time() - cpu) / len(composed) * 1000
            cpu = time.process_time()
            for reply in replies:
                blockkit.message(reply)
            figures["blockkit_ms"] = (time.process_time() - cpu) / len(replies) * 1000
            figures["json_bytes"] = statistics.mean(
                len(json.dumps(blockkit.message(r)).encode()) for r in replies[:200]
            )
            del replies
            handshake(args.handshake, "start")
            if profiler is not None:
                profiler.enable()
            started, cpu = time.perf_counter(), time.process_time()
            await sends(args.sends)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - started
            if profiler is not None:
                profiler.disable()
            handshake(args.handshake, "end")
            figures["send_ms"] = cpu / args.sends * 1000
            figures["wall_s"] = wall
            rounds.append(figures)
        if profiler is not None:
            profiler.dump_stats(args.profile)
        await messenger.close()
        posted = fake.ask("count")
    finally:
        fake.close()
    return {"rounds": rounds, "posted": posted}


def handshake(directory: str, what: str) -> None:
    """With ``--handshake``: say ``what`` is about to happen (``start``/``end`` of the measured
    sends) and wait until callgrind has been switched (see send_cpu_callgrind.sh)."""
    if not directory:
        return
    import os

    Path(directory, f"{what}-request").write_text(str(os.getpid()))
    while not Path(directory, f"{what}-ok").exists():
        time.sleep(0.05)


def main() -> int:
    if sys.argv[1:2] == ["fake"]:
        serve_fake(json.loads(sys.argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--sends", type=int, default=3000, help="posts measured per round")
    add("--rounds", type=int, default=3)
    add("--users", type=int, default=300, help="distinct composed nudges (posted in turn)")
    add("--contacts", type=int, default=50)
    add("--concurrency", type=int, default=100)
    add("--latency", type=float, default=0.05, help="fake Slack delay, seconds")
    add("--seed", type=int, default=1)
    add("--timeout", type=int, default=15, help="the Web API client's timeout, seconds")
    add("--profile", default="", metavar="FILE", help="cProfile (CPU time) of the sends")
    add("--handshake", default="", metavar="DIR", help="callgrind toggling (send_cpu_callgrind.sh)")
    args = parser.parse_args()
    result = asyncio.run(measure(args))
    for n, figures in enumerate(result["rounds"], 1):
        print(
            f"round {n}: send {figures['send_ms']:.3f} ms CPU per send (core render "
            f"{figures['core_render_ms']:.3f} ms, Block Kit {figures['blockkit_ms']:.3f} ms, "
            f"{figures['json_bytes']:.0f} bytes of JSON) · {args.sends} sends in "
            f"{figures['wall_s']:.2f} s",
            flush=True,
        )
    sends = [r["send_ms"] for r in result["rounds"]]
    print(f"RESULT {json.dumps({'send_ms': sends, 'posted': result['posted']})}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
