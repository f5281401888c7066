"""Time zones as people and platforms give them, and dates as people read them."""

import pytest

from bot.core import dates


@pytest.mark.parametrize(
    "name", ["America", "Europe", "Europe/", "x" * 300, "../etc/passwd", "localtime", "a\x00b", ""]
)
def test_a_name_that_is_not_a_zone_means_utc_and_never_raises(name: str) -> None:
    assert dates.zone(name).key == "UTC"


def test_known_zones_are_read_once_and_are_places() -> None:
    assert dates.known_zones() is dates.known_zones()
    assert "Europe/Paris" in dates.known_zones() and "localtime" not in dates.known_zones()
    assert dates.zone("Pacific/Kiritimati").key == "Pacific/Kiritimati"


def test_canonical_zone_forgives_case_and_spaces_but_not_regions() -> None:
    assert dates.canonical_zone("europe/paris") == "Europe/Paris"
    assert dates.canonical_zone(" America/New York ") == "America/New_York"
    assert dates.canonical_zone("America") is None
    assert dates.canonical_zone("x" * 300) is None


def test_unknown_zone_messages_are_specific() -> None:
    assert "America/New_York" in dates.unknown_zone_message("America")
    assert "region" in dates.unknown_zone_message("europe")
    assert "Europe/Paris" in dates.unknown_zone_message("Mars/Olympus")
