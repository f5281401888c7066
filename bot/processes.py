"""Whether a process on this host still runs: how a worker that died is told from one that is
busy (the clock's claims, the practice-buddy pass, Slack commands acknowledged early)."""

from __future__ import annotations

import os
import socket
import uuid


def worker_id(*, host_max: int | None = None) -> str:
    """``host:pid:random`` — unique per process, and readable in the database (the random
    part tells a restarted process that got the same pid, as in a container, from its
    predecessor). ``host_max`` cuts the host name to fit a column."""
    return f"{socket.gethostname()[:host_max]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` (on this host) still runs.

    A zombie — killed, but not yet reaped by its parent — still exists for ``kill(pid, 0)``,
    yet will never finish its claims: it counts as dead, so they are taken over at once rather
    than when its heartbeat goes stale.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    return process_state(pid) != "Z"


def process_state(pid: int) -> str | None:
    """The state letter of ``/proc/<pid>/stat`` (``R``, ``S``, ``Z``…), or ``None`` where it
    cannot be read (no ``/proc``, or the process is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return state_of(stat.read().decode("utf-8", "replace"))
    except OSError:
        return None


def state_of(stat: str) -> str | None:
    """The state field of a ``/proc/<pid>/stat`` line: ``pid (comm) state …``. The command
    name may itself hold spaces and parentheses, so the state is read after the *last* ``)``."""
    _, paren, rest = stat.rpartition(")")
    fields = rest.split()
    return fields[0] if paren and fields else None
