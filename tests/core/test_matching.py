"""Fuzzy name matching."""

import pytest

from bot.core.matching import match

NAMES = [
    (1, "Dana Whitfield"),
    (2, "Dana Scully"),
    (3, "Zoë Ó Briain"),
    (4, "李小龍"),
    (5, "Marcus Chen"),
    (6, "Danielle Roy"),
]


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("Dana Whitfield", {1}),
        ("dana whitfield", {1}),
        ("  DANA   WHITFIELD ", {1}),
        ("dnaa whitfeld", {1}),
        ("whitfeild", {1}),
        ("d whit", {1}),
        ("dana", {1, 2}),
        ("zoe", {3}),
        ("zoe o briain", {3}),
        ("李小龍", {4}),
        ("marcsu", {5}),
        ("chen", {5}),
        ("nobody like this", set()),
        ("", set()),
    ],
)
def test_match(query: str, ids: set[int]) -> None:
    assert {cid for cid, _ in match(query, NAMES)} == ids


def test_exact_name_wins_over_prefixes() -> None:
    names = [(1, "Dan"), (2, "Dana Scully"), (3, "Daniel Ek")]
    assert match("dan", names) == [(1, "Dan")]


def test_whole_first_name_wins_over_longer_names() -> None:
    names = [(1, "Dan Brooks"), (2, "Dana Whitfield"), (3, "Daniel Ek")]
    assert match("dan", names) == [(1, "Dan Brooks")]
    assert {cid for cid, _ in match("da", names)} == {1, 2, 3}
