"""Instructions per nudge sent by a whole morning pass, less deciding: callgrind counts.

The machine is shared and noisy, so CPU seconds of a pass wander by tens of percent between
runs; instruction counts do not. This seeds ``--users`` users × ``--contacts`` contacts (as
``bench/nudge_bench.py`` does), then for each database runs two ``run`` children of the
production runner (:func:`jobs.app.build_runner`) under ``valgrind --tool=callgrind``, with
instrumentation switched on only around the measured call (a handshake over files with
``callgrind_control``, as ``bench/send_cpu_callgrind.sh`` does):

* ``decide``: ``NudgeRunner.decide_all`` — plan, claim and compose every page, send nothing;
* ``pass``: ``NudgeRunner.run_once`` — the whole streamed pass against the fake Slack (a child
  process of its own, not counted), from a reset database.

``--modes decide`` counts deciding alone (no pass; per user instead of per send): the figure
issue 14's deciding work is judged by.

Instructions per send = (pass − decide) / nudges sent: the Slack send path *and* the rest of
the pass (attempt and outcome writes, tasks, queues, locks), without deciding. The database
server's and the fake's CPU are not in it (other processes). Under callgrind the child runs
~50 times slower, so the Slack client's timeout is raised to 300 s.

It runs against any checkout: run it from the checkout to measure (its ``.venv``), giving
this file's path (the code under test is imported from the working directory):

    uv run python bench/pass_cpu.py --users 1000 --contacts 50 --db both
    cd /tmp/base && .venv/bin/python /work/wt-passcpu/bench/pass_cpu.py --db sqlite
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path.cwd()  # the checkout measured: its code, its fake Slack, its bench helpers
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

RUN_TIMEOUT = 3600.0


def serve_fake(config: dict[str, Any]) -> None:
    import nudge_bench

    nudge_bench.serve_fake(config)


def run(config: dict[str, Any]) -> None:
    """``run`` child (under callgrind): one measured call, between two handshakes."""
    import asyncio

    print("RESULT " + json.dumps(asyncio.run(_run(**config))), flush=True)


async def _run(
    url: str, api_url: str, concurrency: int, at: str, mode: str, handshake: str = "",
    profile: str = "",
) -> Any:  # fmt: skip
    from datetime import datetime

    import common

    from jobs.app import build_runner

    settings = common.runner_settings(url, api_url, concurrency)
    runner = build_runner(settings, clock=lambda: datetime.fromisoformat(at))
    for messenger in runner.messengers.values():
        client = getattr(messenger, "client", None)
        if client is not None:
            client.timeout = 300  # callgrind slows this process ~50 times, not the fake
    await runner.store.workers()  # connect once, as a running scheduler would have
    writes = _count_writes(runner.store)
    _handshake(handshake, "start")
    profiler = cProfile.Profile(time.process_time) if profile else None
    if profiler is not None:
        profiler.enable()
    started, cpu = time.perf_counter(), time.process_time()
    if mode == "decide":
        summary = await runner.decide_all()
    else:
        summary = await runner.run_once()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    _handshake(handshake, "end")
    await runner.stop()
    await runner.close()
    await runner.store.engine.dispose()
    return {"due": summary.due, "sent": summary.sent, "line": summary.line(), "wall_s": wall,
            "cpu_s": cpu, "writes": writes}  # fmt: skip


def _count_writes(store: Any) -> dict[str, int]:
    """Counts the delivery writes' transactions and their rows, by method (whichever of them
    the checkout's runner calls): how well the group commit groups."""
    counts: dict[str, int] = {}
    names = ("start_attempts", "record_outcomes", "set_dm_channels", "record_delivery")
    for name in names:
        write = getattr(store, name, None)
        if write is None:
            continue

        def counting(*args: Any, _name: str = name, _write: Any = write) -> Any:
            counts[_name] = counts.get(_name, 0) + 1
            rows = sum(len(a) for a in args)
            counts[_name + "_rows"] = counts.get(_name + "_rows", 0) + rows
            return _write(*args)

        setattr(store, name, counting)
    return counts


def _handshake(directory: str, what: str) -> None:
    if not directory:
        return
    Path(directory, f"{what}-request").write_text(str(os.getpid()))
    while not Path(directory, f"{what}-ok").exists():
        time.sleep(0.05)


def counted(command: list[str], out: str) -> tuple[int, dict[str, Any]]:
    """Run ``command`` (a ``run`` child) under callgrind, counting only between its handshakes;
    the instructions counted and the child's result."""
    with tempfile.TemporaryDirectory(prefix="pass_cpu_") as shake:
        config = json.loads(command[-1])
        command = [*command[:-1], json.dumps({**config, "handshake": shake})]
        valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                    f"--callgrind-out-file={out}"]  # fmt: skip
        with open(out + ".stdout", "w") as stdout, open(out + ".stderr", "w") as stderr:
            child = subprocess.Popen([*valgrind, *command], stdout=stdout, stderr=stderr, cwd=ROOT)
            try:
                deadline = time.monotonic() + RUN_TIMEOUT
                for what, switch in (("start", ["-i", "on"]), ("end", ["-i", "off"])):
                    request = Path(shake, f"{what}-request")
                    while not request.exists():
                        if child.poll() is not None or time.monotonic() > deadline:
                            raise RuntimeError(f"the run child died: see {out}.stderr")
                        time.sleep(0.2)
                    pid = request.read_text()
                    control = ["callgrind_control", *switch, pid]
                    subprocess.run(control, check=True, capture_output=True)
                    if what == "start":
                        subprocess.run(["callgrind_control", "-z", pid], check=True,
                                       capture_output=True)  # fmt: skip
                    else:
                        subprocess.run(["callgrind_control", "-d", pid], check=True,
                                       capture_output=True)  # fmt: skip
                    Path(shake, f"{what}-ok").touch()
                child.wait(RUN_TIMEOUT)
            finally:
                if child.poll() is None:
                    child.kill()
                    child.wait()
    total = 0
    for path in Path(out).parent.glob(Path(out).name + "*"):
        if path.suffix in (".stdout", ".stderr"):
            continue
        for line in path.read_text(errors="replace").splitlines():
            # "totals:" of each part (the dump at the end, and what followed it, none);
            # a part's "summary:" can wrap around after the zeroing, so it is not used.
            if line.startswith("totals:"):
                total += int(line.split()[1])
    text = Path(out + ".stdout").read_text()
    found = [ln[len("RESULT ") :] for ln in text.splitlines() if ln.startswith("RESULT ")]
    if child.returncode != 0 or not found:
        raise RuntimeError(f"the run child failed ({child.returncode}): see {out}.stderr")
    return total, json.loads(found[0])


def native(
    script: str, base: dict[str, Any], latency: float, url: Any, out: str = "", mode: str = "pass"
) -> dict[str, Any]:
    """One pass (or deciding alone), not under callgrind; with ``out``, profiled with cProfile
    (CPU time) into that file."""
    import common

    common.reset(url, dm_channels="cold", suggestions=True)
    fake = common.FakeChild(script, {"latency": latency}, what="fake Slack")
    try:
        config = {**base, "mode": mode, "profile": out}
        config["api_url"] = f"http://127.0.0.1:{fake.port}/api/"
        [(result, _)] = common.run_children(
            [[sys.executable, script, "run", json.dumps(config)]], RUN_TIMEOUT
        )
    finally:
        fake.close()
    return result


def main() -> int:
    if sys.argv[1:2] in (["fake"], ["run"]):
        (serve_fake if sys.argv[1] == "fake" else run)(json.loads(sys.argv[2]))
        return 0
    import common
    import nudge_bench

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--users", type=int, default=1000)
    add("--contacts", type=int, default=50)
    add("--db", choices=tuple(common.KINDS), default="both")
    add("--latency", type=float, default=0.0, help="fake Slack delay, seconds")
    add("--concurrency", type=int, default=100)
    add("--seed", type=int, default=1)
    add("--out", default="", help="keep the callgrind files with this prefix")
    add("--json", default="", help="also write the results to this file")
    add("--modes", default="decide,pass",
        help="what to count: decide (deciding alone), pass, or both (comma-separated)")  # fmt: skip
    add("--profile", default="", metavar="FILE", help="instead: cProfile one pass (CPU time)")
    add("--native", type=int, default=0, metavar="N",
        help="instead: N rounds of deciding and a pass not under callgrind, in CPU seconds")  # fmt: skip
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    if not modes or set(modes) - {"decide", "pass"}:
        parser.error("--modes: decide, pass or decide,pass")
    at = common.morning()
    script = str(Path(__file__).resolve())
    print(
        f"pass CPU: {args.users:,} users × {args.contacts} contacts, fake Slack latency "
        f"{args.latency * 1000:.0f} ms, concurrency {args.concurrency}; code "
        f"{common.revision()} ({ROOT})",
        flush=True,
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="pass_cpu_out_") as keep:
        prefix = args.out or str(Path(keep) / "cg")
        for kind in common.KINDS[args.db]:
            with common.database(kind, prefix="rc_pass_cpu_") as url:
                nudge_bench.seed(url, args.users, args.contacts, at.date(), args.seed)
                base = {
                    "url": url.render_as_string(hide_password=False),
                    "concurrency": args.concurrency,
                    "at": at.isoformat(),
                }
                if args.profile:
                    out = f"{args.profile}.{kind}"
                    mode = "decide" if modes == ["decide"] else "pass"
                    result = native(script, base, args.latency, url, out, mode=mode)
                    print(f"  profiled: {result['line']}; writes {result['writes']} → {out}")
                    continue
                if args.native:
                    for _ in range(args.native):
                        decide = native(script, base, args.latency, url, mode="decide")
                        result = native(script, base, args.latency, url)
                        per_send = (result["cpu_s"] - decide["cpu_s"]) / max(1, result["sent"])
                        print(
                            f"  {kind} native: pass {result['cpu_s']:.2f} s CPU "
                            f"({result['wall_s']:.2f} s), decide {decide['cpu_s']:.2f} s → "
                            f"{per_send * 1000:.3f} ms CPU per send; writes {result['writes']}",
                            flush=True,
                        )
                    continue
                figures: dict[str, Any] = {"db": kind}
                for mode in modes:
                    common.reset(url, dm_channels="cold", suggestions=True)
                    fake = common.FakeChild(script, {"latency": args.latency}, what="fake Slack")
                    try:
                        config = {**base, "mode": mode}
                        config["api_url"] = f"http://127.0.0.1:{fake.port}/api/"
                        command = [sys.executable, script, "run", json.dumps(config)]
                        started = time.perf_counter()
                        figures[mode], result = counted(command, f"{prefix}.{kind}.{mode}")
                        figures[f"{mode}_result"] = result
                        figures[f"{mode}_callgrind_s"] = time.perf_counter() - started
                    finally:
                        fake.close()
                if "pass" not in modes:
                    decided = figures["decide_result"]
                    figures.update({"pass": 0, "sent": 0, "per_send": 0})
                    results.append(figures)
                    print(
                        f"  {kind}: decide {figures['decide'] / 1e6:,.0f} M instructions, "
                        f"{figures['decide'] / args.users / 1e6:.3f} M per user; "
                        f"{decided['line']}; {decided['cpu_s']:.2f} s CPU under callgrind",
                        flush=True,
                    )
                    continue
                figures.setdefault("decide", 0)  # --modes pass: deciding is not subtracted
                state = common.database_state(url)
                sent = figures["pass_result"]["sent"]
                figures["sent"] = sent
                figures["database"] = state
                figures["per_send"] = (figures["pass"] - figures["decide"]) / max(1, sent)
                results.append(figures)
                print(
                    f"  {kind}: pass {figures['pass'] / 1e6:,.0f} M instructions, decide "
                    f"{figures['decide'] / 1e6:,.0f} M, sent {sent} → "
                    f"{figures['per_send'] / 1e6:.3f} M instructions per send (less deciding)\n"
                    f"    {figures['pass_result']['line']}; attempts "
                    f"{state['attempts_by_outcome']}; writes {figures['pass_result']['writes']}",
                    flush=True,
                )
    print("RESULT " + json.dumps([{k: r[k] for k in ("db", "decide", "pass", "sent",
                                                      "per_send")} for r in results]))  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
