"""Phase timings of a morning pass: wall and CPU time and memory, reported on the run summary.

Operators read them in the ``nudges.pass`` log line; the benchmarks read them off the summary
instead of wrapping the runner's private methods.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20 if hasattr(os, "sysconf") else 0.0


@dataclass(frozen=True, slots=True)
class Phase:
    """One phase of a pass, measured in this process."""

    started: float  # time.perf_counter() at the start
    wall_s: float
    cpu_s: float
    rss_mb: float | None  # resident memory at the end (None where /proc is not available)
    peak_rss_mb: float  # the process's peak resident memory so far, at the end
    #: time.perf_counter() at the end of a phase made of several stretches (see
    #: :func:`accumulated`); ``None`` for one stretch, which ends at ``started + wall_s``.
    finished: float | None = None

    @property
    def ended(self) -> float:
        """time.perf_counter() at the end (of the last stretch)."""
        return self.finished if self.finished is not None else self.started + self.wall_s


def current_rss_mb() -> float | None:
    """Resident memory of this process now, in MiB (Linux; ``None`` elsewhere)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_MB
    except (OSError, IndexError, ValueError):
        return None


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB else


@contextmanager
def measured(phases: dict[str, Phase], name: str) -> Iterator[None]:
    """Record the wall and CPU time and memory of the enclosed block as ``phases[name]``."""
    started, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        phases[name] = Phase(
            started=started,
            wall_s=time.perf_counter() - started,
            cpu_s=time.process_time() - cpu,
            rss_mb=current_rss_mb(),
            peak_rss_mb=peak_rss_mb(),
        )


@contextmanager
def accumulated(phases: dict[str, Phase], name: str) -> Iterator[None]:
    """Add the enclosed block to ``phases[name]`` as one more stretch of that phase.

    A streamed pass plans and composes one page of users at a time while earlier pages are
    being sent: its "plan" and "compose" phases are the sums of those stretches (started at
    the first, ended at the last). Their wall and CPU time include whatever the event loop
    ran meanwhile, while the stretch waited for the database."""
    before = phases.get(name)
    with measured(phases, name):
        yield
    if before is not None:
        now = phases[name]
        phases[name] = replace(
            now,
            started=before.started,
            wall_s=before.wall_s + now.wall_s,
            cpu_s=before.cpu_s + now.cpu_s,
            finished=now.ended,
        )
