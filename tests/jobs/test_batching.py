"""The group commit of the delivery writes (jobs.batching.GroupCommitter)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from jobs.batching import GroupCommitter


class _Writes:
    """Records each group; the first write is held until ``release``."""

    def __init__(self) -> None:
        self.groups: list[list[int]] = []
        self.writing = asyncio.Event()
        self.held = asyncio.Event()

    async def write(self, items: Sequence[int]) -> None:
        self.groups.append(list(items))
        if len(self.groups) == 1:
            self.writing.set()
            await self.held.wait()


@pytest.mark.parametrize(("linger", "groups"), [(False, [[1], [2], [3]]), (True, [[1], [2, 3]])])
async def test_lingering_groups_what_arrives_during_and_just_after_a_write(
    linger: bool, groups: list[list[int]]
) -> None:
    writes = _Writes()
    committer = GroupCommitter(writes.write, max_wait=0.5, linger=linger)
    first = committer.add(1)
    await writes.writing.wait()  # the first group waited max_wait, and is being written
    second = committer.add(2)  # arrives while the first group is being written
    writes.held.set()
    await first
    third = committer.add(3)  # arrives just after: lingering, it joins the second group
    await asyncio.gather(second, third)
    await committer.close()
    assert writes.groups == groups


async def test_an_item_not_waited_for_is_written_at_close_and_failures_reach_its_future() -> None:
    written: list[int] = []

    async def write(items: Sequence[int]) -> None:
        if 13 in items:
            raise ValueError("refused")
        written.extend(items)

    committer = GroupCommitter(write, max_wait=0.01, linger=True)
    kept = committer.add(1)
    await committer.close()
    assert written == [1] and kept.done() and kept.exception() is None
    failing = GroupCommitter(write, max_wait=0.01, linger=True)
    refused = failing.add(13)
    await failing.close()
    assert isinstance(refused.exception(), ValueError)
