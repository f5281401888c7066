"""The collector during a pass (jobs/heap.py): paused while deciding, and still bounded."""

from __future__ import annotations

import gc
import weakref

import pytest

from jobs.heap import YOUNG, PassHeap


class _Node:
    """An object in a reference cycle with itself: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def _thawed() -> None:
    gc.unfreeze()  # what other tests left set aside is not this test's


def _cycles(n: int, freed: list[int]) -> list[_Node]:
    nodes = [_Node() for _ in range(n)]
    for node in nodes:
        weakref.finalize(node, freed.append, 1)
    return nodes


def test_cyclic_garbage_set_aside_page_after_page_is_collected_during_the_pass() -> None:
    heap = PassHeap(min_growth=1_000)
    freed: list[int] = []
    with heap.frozen():
        per_page = max(1_000, gc.get_freeze_count() // 20)
        pages = 40
        for _ in range(pages):
            # e.g. requests in flight when a page is set aside, done soon after: garbage the
            # collector cannot see while it stays frozen
            in_flight = _cycles(per_page, freed)
            with heap.paused():
                pass
            del in_flight
        assert heap.collections >= 2
        # Bounded: at most the last quarter's growth is still waiting (before: none was freed
        # until the pass ended, whatever its length).
        assert len(freed) >= pages * per_page // 2
    assert gc.get_freeze_count() == 0  # everything handed back at the end
    gc.collect()
    assert len(freed) == pages * per_page


def test_a_small_growth_is_not_collected_every_page() -> None:
    heap = PassHeap()
    freed: list[int] = []
    with heap.frozen():
        for _ in range(5):
            with heap.paused():
                kept = _cycles(100, freed)
            del kept
        assert heap.collections == 0
        assert freed == []  # still set aside: a few hundred objects are not worth a collection
    gc.collect()
    assert len(freed) == 500  # and collected as usual once the pass is over


def test_the_collector_is_paused_while_deciding_and_enabled_after() -> None:
    heap = PassHeap()
    with heap.frozen():
        with heap.paused():
            assert not gc.isenabled()
        assert gc.isenabled()


def test_the_frozen_objects_are_counted_every_few_pages_only() -> None:
    # Counting them walks every frozen object: a page's worth of growth waits for the count.
    heap = PassHeap(min_growth=1, check_every=3)
    freed: list[int] = []
    with heap.frozen():
        per_page = max(2_000, gc.get_freeze_count() // 3)  # grown by a quarter each page
        for page in range(1, 7):
            with heap.paused():
                kept = _cycles(per_page, freed)
            del kept
            assert heap.collections == page // 3
    gc.collect()


def test_young_collections_are_rarer_while_a_pass_sends_and_as_before_after() -> None:
    """Each send allocates thousands of short-lived containers (the answer's echoed message,
    Block Kit): at Python's 700 allocations a young collection ran several times a send,
    walking every request in flight. During a pass the threshold is ``YOUNG``; after it, what
    it was, even when the pass failed."""
    before = gc.get_threshold()
    with PassHeap().frozen():
        assert gc.get_threshold() == (max(before[0], YOUNG), *before[1:])
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), PassHeap().frozen():
        raise RuntimeError("the pass failed")
    assert gc.get_threshold() == before


def test_cyclic_garbage_made_while_sending_is_still_collected() -> None:
    freed: list[int] = []
    with PassHeap().frozen():
        for _ in range(10):
            _cycles(YOUNG // 4, freed)  # dropped at once: garbage for the collector
        assert len(freed) >= 5 * (YOUNG // 4)


def test_the_frozen_objects_are_looked_at_every_8000_users_whatever_the_page() -> None:
    from jobs.heap import check_every

    assert [check_every(size) for size in (2000, 1000, 500, 8000, 20_000)] == [4, 8, 16, 1, 1]
