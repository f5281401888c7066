"""Group commit: many concurrent writers, few transactions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence


class GroupCommitter[T]:
    """Collects items from many coroutines and writes them together.

    ``await submit(item)`` returns once a transaction containing ``item`` has committed (or
    raises what the write raised), so callers keep their ordering guarantees while the database
    sees one statement batch per ``max_items`` items or ``max_wait`` seconds.
    """

    def __init__(
        self, write: Callable[[Sequence[T]], Awaitable[None]], *, max_items: int = 200,
        max_wait: float = 0.01,
    ) -> None:  # fmt: skip
        self._write = write
        self._max_items = max_items
        self._max_wait = max_wait
        self._pending: list[tuple[T, asyncio.Future[None]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def submit(self, item: T) -> None:
        """Queue ``item`` and wait until it is written."""
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._wakeup.set()
        await future

    async def close(self) -> None:
        """Write what is pending and stop."""
        self._closed = True
        self._wakeup.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if self._pending and len(self._pending) < self._max_items and not self._closed:
                await asyncio.sleep(self._max_wait)  # let concurrent writers join the batch
            while self._pending:
                batch, self._pending = (
                    self._pending[: self._max_items],
                    self._pending[self._max_items :],
                )
                try:
                    await self._write([item for item, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                else:
                    for _, future in batch:
                        if not future.done():
                            future.set_result(None)
            if self._closed:
                return
