"""Sharing levels: each includes the ones before it, and people can type them loosely."""

import pytest

from bot.core.groups.levels import DEFAULT_LEVEL, SharingLevel


def test_each_level_includes_the_ones_before_it() -> None:
    levels = list(SharingLevel)
    for i, level in enumerate(levels):
        assert all(level.allows(lower) for lower in levels[: i + 1])
        assert not any(level.allows(higher) for higher in levels[i + 1 :])


def test_the_default_is_weekly_numbers() -> None:
    assert DEFAULT_LEVEL is SharingLevel.NUMBERS


@pytest.mark.parametrize(
    ("typed", "level"),
    [
        ("1", SharingLevel.MEMBERSHIP),
        ("membership only", SharingLevel.MEMBERSHIP),
        ("Numbers", SharingLevel.NUMBERS),
        ("name", SharingLevel.NAMES),
        ("4", SharingLevel.OUTCOMES),
        ("outcome", SharingLevel.OUTCOMES),
    ],
)
def test_typed_levels(typed: str, level: SharingLevel) -> None:
    assert SharingLevel.parse(typed) is level


@pytest.mark.parametrize("typed", ["", "0", "5", "everything", "numbers and names"])
def test_unknown_levels(typed: str) -> None:
    assert SharingLevel.parse(typed) is None
