"""Group commit: many concurrent writers, few transactions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence


class GroupCommitter[T]:
    """Collects items from many coroutines and writes them together.

    ``await submit(item)`` returns once a transaction containing ``item`` has committed (or
    raises what the write raised), so callers keep their ordering guarantees while the database
    sees one statement batch per ``max_items`` items or ``max_wait`` seconds.

    By default only the first batch after a quiet spell waits ``max_wait`` for company; the
    items that arrive while a batch is being written go out as soon as it is done. With
    ``linger`` every batch waits until its oldest item has waited ``max_wait`` (or it is full):
    for writers that are CPU-bound themselves, where the next batch would otherwise be only
    what arrived during one short write, and a transaction costs far more than a row.
    """

    def __init__(
        self, write: Callable[[Sequence[T]], Awaitable[None]], *, max_items: int = 200,
        max_wait: float = 0.01, linger: bool = False,
    ) -> None:  # fmt: skip
        self._write = write
        self._max_items = max_items
        self._max_wait = max_wait
        self._linger = linger
        self._pending: list[tuple[T, asyncio.Future[None]]] = []
        self._oldest = 0.0  # when the first of the pending items arrived (loop time)
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def submit(self, item: T) -> None:
        """Queue ``item`` and wait until it is written."""
        await self.add(item)

    def add(self, item: T) -> asyncio.Future[None]:
        """Queue ``item``; the future is done once it is written (or failed with what the
        write raised). :meth:`close` writes it if nobody waits for it."""
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if not self._pending:
            self._oldest = loop.time()
            self._wakeup.set()
        self._pending.append((item, future))
        return future

    async def close(self) -> None:
        """Write what is pending and stop."""
        self._closed = True
        self._wakeup.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            first = True
            while self._pending:
                if len(self._pending) < self._max_items and not self._closed:
                    if self._linger:
                        wait = self._oldest + self._max_wait - loop.time()
                    else:
                        wait = self._max_wait if first else 0.0
                    if wait > 0:
                        await asyncio.sleep(wait)  # let concurrent writers join the batch
                first = False
                batch, self._pending = (
                    self._pending[: self._max_items],
                    self._pending[self._max_items :],
                )
                # What is left over arrived while the batch was gathered: it waits afresh.
                self._oldest = loop.time()
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
