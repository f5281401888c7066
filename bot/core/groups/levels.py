"""What a group member chose to share with the coach and the group.

Each level includes everything of the levels before it. Members' contacts, notes and
conversation notes are never shared at any level.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["DEFAULT_LEVEL", "SharingLevel"]


class SharingLevel(StrEnum):
    """A member's sharing level, stored by its value."""

    MEMBERSHIP = "membership"
    """The coach sees that I'm in the group."""
    NUMBERS = "numbers"
    """Also my weekly numbers: outreach, replies, conversations, goal met."""
    NAMES = "names"
    """Also whom I reached out to."""
    OUTCOMES = "outcomes"
    """Also outcomes and next steps."""

    @property
    def rank(self) -> int:
        """0 for membership only up to 3 for numbers, names and outcomes."""
        return _ORDER.index(self)

    def allows(self, other: SharingLevel) -> bool:
        """Whether this level includes ``other`` (e.g. ``NAMES.allows(NUMBERS)``)."""
        return self.rank >= other.rank

    @classmethod
    def parse(cls, text: str) -> SharingLevel | None:
        """A level from its value, its number (1–4) or a word of it; ``None`` if unknown."""
        word = text.strip().casefold()
        if word.isdigit() and 1 <= int(word) <= len(_ORDER):
            return _ORDER[int(word) - 1]
        stem = word.removesuffix(" only").rstrip("s")
        for level in _ORDER:
            if stem == level.value.rstrip("s") or (stem == "member" and level is cls.MEMBERSHIP):
                return level
        return None


_ORDER = (
    SharingLevel.MEMBERSHIP,
    SharingLevel.NUMBERS,
    SharingLevel.NAMES,
    SharingLevel.OUTCOMES,
)

DEFAULT_LEVEL = SharingLevel.NUMBERS
