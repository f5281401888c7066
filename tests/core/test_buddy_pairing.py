"""Practice-buddy pairing: deterministic, everyone paired (a trio when odd), no pair repeated
until everyone has met everyone, and members who leave simply drop out."""

from __future__ import annotations

from itertools import combinations

import pytest

from bot.core.groups.pairing import Pair, met_counts, pair_up


def season(members: list[int], weeks: int, seed: int = 7) -> list[list[Pair]]:
    played: list[list[Pair]] = []
    for _ in range(weeks):
        played.append(pair_up(members, met_counts(played), seed))
    return played


@pytest.mark.parametrize("n", range(2, 17))
def test_everyone_is_paired_each_week_with_one_trio_when_odd(n: int) -> None:
    members = list(range(10, 10 + n))
    for week in season(members, 4):
        assert sorted(m for pair in week for m in pair) == members
        sizes = sorted(len(pair) for pair in week)
        assert sizes == [2] * (n // 2 - n % 2) + [3] * (n % 2) if n != 3 else sizes == [3]


@pytest.mark.parametrize("n", [2, 4, 6, 8, 10, 16, 24, 40])
def test_even_groups_never_repeat_a_pair_until_everyone_has_met(n: int) -> None:
    members = list(range(100, 100 + n))
    played = season(members, n - 1)
    seen: set[tuple[int, int]] = set()
    for week in played:
        for pair in week:
            assert pair not in seen, f"{pair} repeated before everyone met"
            seen.add(pair)  # type: ignore[arg-type]
    assert seen == set(combinations(members, 2))
    # Then a new round: still no pair twice within it.
    again = season(members, 2 * (n - 1))[n - 1 :]
    pairs = [p for week in again for p in week]
    assert len(pairs) == len(set(pairs))


@pytest.mark.parametrize("n", [5, 7, 9, 11, 13, 15])
def test_odd_groups_meet_everyone_within_a_round_robin(n: int) -> None:
    members = list(range(n))
    played = season(members, n)
    assert set(met_counts(played)) == set(combinations(members, 2))


def test_the_same_inputs_give_the_same_pairs_and_the_seed_varies_them() -> None:
    members = list(range(1, 13))
    assert season(members, 5, seed=3) == season(members, 5, seed=3)
    assert season(members, 1, seed=3) != season(members, 1, seed=4)


def test_a_member_who_leaves_is_not_paired_and_holds_nobody_back() -> None:
    members = [1, 2, 3, 4, 5, 6]
    played = season(members, 2)
    left = [1, 2, 3, 4, 5]  # 6 left mid-season
    week = pair_up(left, met_counts(played), seed=7)
    assert 6 not in {m for pair in week for m in pair}
    assert sorted(m for pair in week for m in pair) == left


def test_newcomers_meet_the_old_hands_and_only_the_unavoidable_pair_repeats() -> None:
    members = [1, 2, 3, 4]
    played = season(members, 3)  # everyone met everyone
    met = met_counts(played)
    week = pair_up([1, 2, 3, 4, 5, 6], met, seed=7)
    assert sum(met[pair] for pair in week) == 1  # two of the four old hands must meet again
    assert (5, 6) not in week


def test_fewer_than_two_members_make_no_pairs() -> None:
    assert pair_up([], met_counts([]), 1) == []
    assert pair_up([5], met_counts([]), 1) == []
    assert pair_up([5, 9], met_counts([]), 1) == [(5, 9)]
