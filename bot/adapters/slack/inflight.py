"""Listeners still at work, so that shutting down waits for them.

Bolt acknowledges an event or a click and then runs its listener in a task of its own, which
nobody awaits: an app (or a test) that closes its database meanwhile would abandon the
listener mid-transaction, leaving the connection open with its locks ("idle in transaction"
on PostgreSQL, a held write lock on SQLite). Every listener is registered :func:`tracked`, and
:func:`drain` waits for those still running.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

_RUNNING: set[asyncio.Task[Any]] = set()

Listener = Callable[..., Awaitable[Any]]


def track(task: asyncio.Task[Any]) -> None:
    """Remember ``task`` until it is done."""
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)


def tracked(listener: Listener) -> Listener:
    """``listener``, remembered while it runs. Bolt reads the argument names to pass from the
    wrapped function (``inspect.unwrap``), so the wrapper takes whatever it is given."""

    @functools.wraps(listener)
    async def run(*args: Any, **kwargs: Any) -> Any:
        task = asyncio.current_task()
        if task is not None:
            track(task)
        return await listener(*args, **kwargs)

    return run


async def drain() -> None:
    """Wait for the tracked listeners of this event loop, except the caller's own task."""
    loop = asyncio.get_running_loop()
    current = asyncio.current_task()
    mine = [t for t in _RUNNING if t.get_loop() is loop and t is not current and not t.done()]
    if mine:
        await asyncio.wait(mine)
