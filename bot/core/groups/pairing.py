"""Pairing a group's opted-in members into practice buddies for one week.

Deterministic: the same members, history and seed give the same pairs, so two clocks (or a
retry) would agree, and tests can replay a season week by week.

How: members are ordered by a shuffle seeded per group and per "round" (a round ends when
everyone has met everyone), and the weeks of a round-robin tournament over that order (the
circle method) are the candidates. Each candidate is scored by how often its pairs have met
already, counted from the last time everyone had met everyone; the cheapest wins, earliest on
a tie. A round-robin's weeks never share a pair, so while the members stay the same no pair
repeats until everyone has met everyone. When members come and go, a small search looks for
a week of pairs who have not met yet before settling for the cheapest candidate. With an odd
count, the one left over joins the pair that has met them least: a trio.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import combinations

__all__ = ["Pair", "met_counts", "pair_up"]

#: A pair (or a trio) of members' ids, ascending.
Pair = tuple[int, ...]

#: How many steps the search for a repeat-free week may take (a group has ≤ 40 members).
_SEARCH_STEPS = 2_000
#: How many members the search tries as the odd one out.
_ODD_TRIES = 6


def met_counts(weeks: Iterable[Sequence[Pair]]) -> Counter[tuple[int, int]]:
    """How often each two members were buddies (pairs, and each two of a trio)."""
    counts: Counter[tuple[int, int]] = Counter()
    for week in weeks:
        for group in week:
            for a, b in combinations(sorted(group), 2):
                counts[(a, b)] += 1
    return counts


def pair_up(members: Iterable[int], met: Counter[tuple[int, int]], seed: int) -> list[Pair]:
    """This week's pairs of ``members`` (trio for an odd count; nobody alone unless there is
    only one member, who gets nobody), given how often each two ``met`` before."""
    people = sorted(set(members))
    if len(people) < 2:
        return []
    if len(people) == 3:
        return [tuple(people)]
    # Only current members count: someone who left no longer holds anyone back.
    counts = {pair: met.get(pair, 0) for pair in combinations(people, 2)}
    base = min(counts.values())  # > 0 once everyone has met everyone (a new round begins)
    cost = {pair: n - base for pair, n in counts.items()}
    order = list(people)
    random.Random(f"{seed}:{base}").shuffle(order)
    candidates = [_with_trio(week, cost) for week in _round_robin(order)]
    best_index = min(range(len(candidates)), key=lambda i: (_score(candidates[i], cost), i))
    best = candidates[best_index]
    if _score(best, cost)[0] > 0:
        fresh = _search(order, cost)
        if fresh is not None and _score(fresh, cost) < _score(best, cost):
            best = fresh
    base_pairs, extra = best
    pairs: list[Pair] = list(base_pairs)
    if extra is not None:
        at = _trio_at(pairs, extra, cost)
        pairs[at] = (*pairs[at], extra)
    return sorted(tuple(sorted(p)) for p in pairs)


#: A week before the odd one out joins: its pairs, and who is left over (or ``None``).
_Week = tuple[list[tuple[int, int]], int | None]


def _round_robin(order: list[int]) -> list[list[tuple[int, int | None]]]:
    """The weeks of a round-robin over ``order`` (``None``: sits out, for an odd count)."""
    players: list[int | None] = list(order)
    if len(players) % 2:
        players.append(None)
    n = len(players)
    weeks = []
    for _ in range(n - 1):
        weeks.append([(players[i], players[n - 1 - i]) for i in range(n // 2)])
        players = [players[0], players[-1], *players[1:-1]]
    return [[_ordered(a, b) for a, b in week] for week in weeks]


def _ordered(a: int | None, b: int | None) -> tuple[int, int | None]:
    if a is None:
        assert b is not None
        return (b, None)
    return (a, b)


def _with_trio(week: list[tuple[int, int | None]], cost: dict[tuple[int, int], int]) -> _Week:
    """A round-robin week as pairs and whoever sits out (they join a pair: a trio)."""
    pairs = [(a, b) for a, b in week if b is not None]
    out = [a for a, b in week if b is None]
    return pairs, (out[0] if out else None)


def _trio_at(pairs: Sequence[Pair], extra: int, cost: dict[tuple[int, int], int]) -> int:
    """The pair the odd one out joins: the one that met them least, earliest on a tie."""
    return min(range(len(pairs)), key=lambda i: (sum(cost[_key(extra, m)] for m in pairs[i]), i))


def _score(week: _Week, cost: dict[tuple[int, int], int]) -> tuple[int, int]:
    """(repeats among the pairs, repeats the odd one out brings to their trio): pairs who met
    before matter most; a trio, where the count is odd, may have to repeat a little."""
    pairs, extra = week
    repeats = sum(cost[_key(a, b)] for a, b in pairs)
    if extra is None:
        return repeats, 0
    return repeats, min(sum(cost[_key(extra, m)] for m in pair) for pair in pairs)


def _search(order: list[int], cost: dict[tuple[int, int], int]) -> _Week | None:
    """A week in which no two paired members met before, found by a bounded depth-first
    search that pairs the hardest-to-pair member first (for an odd count, trying the few
    hardest-to-pair members as the odd one out, keeping the trio that repeats least);
    ``None`` if none was found."""
    steps = 0

    def fresh(member: int, among: list[int]) -> list[int]:
        return [m for m in among if m != member and not cost[_key(member, m)]]

    def solve(left: list[int]) -> list[tuple[int, int]] | None:
        nonlocal steps
        if not left:
            return []
        steps += 1
        if steps > _SEARCH_STEPS:
            return None
        first = min(left, key=lambda m: (len(fresh(m, left)), left.index(m)))
        for partner in fresh(first, left):
            found = solve([m for m in left if m not in (first, partner)])
            if found is not None:
                return [(first, partner), *found]
        return None

    if len(order) % 2 == 0:
        found = solve(order)
        return (found, None) if found is not None else None
    best: _Week | None = None
    hardest = sorted(order, key=lambda m: (len(fresh(m, order)), order.index(m)))
    for extra in hardest[:_ODD_TRIES]:
        steps = 0
        pairs = solve([m for m in order if m != extra])
        if pairs is not None and (
            best is None or _score((pairs, extra), cost) < _score(best, cost)
        ):
            best = (pairs, extra)
    return best


def _key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)
