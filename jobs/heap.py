"""The garbage collector during a pass: kept out of deciding's way, and bounded.

Deciding allocates a few hundred thousand short-lived objects a page (rows, contacts, contents)
and no reference cycles; every allocation burst triggered collections that walked the whole
growing heap again. So the pass pauses the collector while it composes, and sets what a page
leaves alive aside (``gc.freeze``) instead of letting the next collection walk it.

What is frozen is never collected, though, and the sending side does make cycles (tasks,
futures, HTTP requests and answers that are in flight when a page is set aside). Left frozen
until the pass ends, that garbage grew with the users: +60 MB at 100,000. So once the frozen
objects have grown by a quarter (Python's own rule for its oldest generation) since the last
look, everything is handed back, collected once, and set aside again: memory stays bounded by
the pages alive, at the price of one full collection every few pages (~20–60 ms). Counting the
frozen objects walks all of them, so it is done every :data:`CHECK_EVERY` pages.

While the pass sends, young collections run every ``YOUNG`` allocations instead of Python's
700: a send allocates thousands of short-lived containers (its Block Kit, the ~5 KB message
Slack echoes back in every answer), so at 700 a young collection ran several times a send and
walked every request in flight each time — 6 % of a send's instructions in
``bench/pass_cpu.py``, 0.3 % at 20,000. Cyclic garbage waits for at most that many more
allocations before it is collected.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Collect once the frozen objects exceed what was alive after the last collection by this
#: fraction (and at least MIN_GROWTH objects, so a small heap is not collected every page).
GROWTH = 0.25
MIN_GROWTH = 50_000
#: Pages set aside between two looks at the frozen objects' number: ``gc.get_freeze_count``
#: walks every frozen object (~150,000 of them, 10–16 ms of cache misses a look, ~7 % of
#: deciding a page of 2,000 users on PostgreSQL), so it is asked every few pages, not every one.
CHECK_EVERY = 4
#: The same in users (:func:`check_every`): pages of 1,000 looked twice as often.
CHECK_EVERY_USERS = 8000


def check_every(page_size: int) -> int:
    """Pages between two looks at the frozen objects for pages of ``page_size`` users."""
    return max(1, round(CHECK_EVERY_USERS / max(1, page_size)))


#: Allocations between two young collections while a pass sends (Python's default: 700).
YOUNG = 20_000


class PassHeap:
    """The collector's settings for one pass (:meth:`frozen` around it, :meth:`paused` around
    each page's deciding)."""

    def __init__(self, *, min_growth: int = MIN_GROWTH, check_every: int = CHECK_EVERY) -> None:
        self._min_growth = min_growth
        self._check_every = check_every
        self._unchecked = 0
        self._limit = 0
        #: Full collections run because frozen objects had grown (for tests and logs).
        self.collections = 0

    @contextmanager
    def frozen(self) -> Iterator[PassHeap]:
        """Leave what existed before the pass out of the collector's walks during it (modules,
        SQLAlchemy's metadata, caches: hundreds of thousands of objects), and hand everything
        back when it ends, so nothing frozen can leak. Passes that overlap in one process only
        widen what is set aside until the first of them ends."""
        gc.freeze()
        self._limit = self._next_limit()
        threshold = gc.get_threshold()
        gc.set_threshold(max(threshold[0], YOUNG), *threshold[1:])
        try:
            yield self
        finally:
            gc.set_threshold(*threshold)
            gc.unfreeze()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No collections while deciding a page; what it left alive is set aside after, and
        collected with the rest once the frozen objects have grown enough (module docstring)."""
        if not gc.isenabled():
            yield
            return
        gc.disable()
        try:
            yield
        finally:
            gc.freeze()
            self._unchecked += 1
            if self._unchecked >= self._check_every:
                self._unchecked = 0
                self._collect_if_grown()
            gc.enable()

    def _collect_if_grown(self) -> None:
        """Hand everything back and collect once the frozen objects have grown enough."""
        if gc.get_freeze_count() > self._limit:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self.collections += 1
            self._limit = self._next_limit()

    def _next_limit(self) -> int:
        alive = gc.get_freeze_count()
        return alive + max(self._min_growth, int(alive * GROWTH))
