"""The weekly pool offer on the morning nudge: "Add Chen Wei, connected 2014, to your circle?"

The morning nudge offers one pool contact on Mondays (the first weekday of the week, so at
most once a week): a former boss or another tie the user named first, then the one longest out
of touch, never someone declined before. What is offered is
stored with the nudge (:class:`PoolOffer`), so the message can be re-rendered after a click
without reading the pool again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from bot.core.actions import Act
from bot.core.model import Contact
from bot.core.relationships import Relationship, show_last_in_touch
from bot.core.replies import Actions, Block, Button, Divider, Strong, context, section

#: Mondays: once a week, on the day most people plan it.
OFFER_WEEKDAY = 0


def offer_day(day: date) -> bool:
    """Whether a nudge on ``day`` may offer a pool contact."""
    return day.weekday() == OFFER_WEEKDAY


class OfferState(StrEnum):
    """What the user did with the offer."""

    OPEN = "open"
    ADDED = "added"
    DECLINED = "declined"


@dataclass(slots=True)
class PoolOffer:
    """One pool contact offered on a nudge."""

    contact_id: int
    name: str
    year: int | None = None
    state: OfferState = OfferState.OPEN
    #: "your former boss" (the relationship the user named), or "".
    tie: str = ""
    #: "2019", "March 2019" or "years ago": when the user was last in touch, or "".
    last_in_touch: str = ""

    @classmethod
    def of(cls, contact: Contact) -> PoolOffer:
        """The offer of ``contact``."""
        year = contact.connected_on.year if contact.connected_on is not None else None
        tie = ""
        if contact.relationship and contact.relationship != Relationship.OTHER.value:
            try:
                tie = Relationship(contact.relationship).phrase
            except ValueError:
                tie = ""
        touch = show_last_in_touch(contact.last_in_touch) if contact.last_in_touch else ""
        return cls(contact.id, contact.name, year, tie=tie, last_in_touch=touch)

    def to_data(self) -> dict[str, Any]:
        """As stored in the nudge's JSON."""
        data: dict[str, Any] = {
            "id": self.contact_id,
            "name": self.name,
            "year": self.year,
            "state": self.state,
        }
        if self.tie:
            data["tie"] = self.tie
        if self.last_in_touch:
            data["last_in_touch"] = self.last_in_touch
        return data

    @classmethod
    def from_data(cls, data: Any) -> PoolOffer | None:
        """Read back; ``None`` for nothing or anything malformed (the nudge still renders)."""
        if not isinstance(data, dict):
            return None
        try:
            year = data.get("year")
            return cls(
                int(data["id"]),
                str(data["name"]),
                int(year) if year is not None else None,
                OfferState(data.get("state", "open")),
                tie=str(data.get("tie") or ""),
                last_in_touch=str(data.get("last_in_touch") or ""),
            )
        except (KeyError, TypeError, ValueError):
            return None


def offer_blocks(offer: PoolOffer, nudge_id: int) -> list[Block]:
    """The offer as it looks now: a question with Add / Not now, or what was done."""
    if offer.last_in_touch:
        when = f", last in touch {offer.last_in_touch},"
    else:
        when = f", connected {offer.year}," if offer.year else ""
    if offer.tie:
        when = f" ({offer.tie}){when}"
    value = f"{nudge_id}:{offer.contact_id}"
    match offer.state:
        case OfferState.ADDED:
            return [Divider(), context("✓ Added ", Strong(offer.name), " to your circle.")]
        case OfferState.DECLINED:
            return [
                Divider(),
                context(offer.name, " stays in your pool; I won't offer them again."),
            ]
    return [
        Divider(),
        section("From your pool: add ", Strong(offer.name), f"{when} to your circle?"),
        Actions(
            (
                Button("Add", Act.POOL_OFFER_ADD, value, style="primary"),
                Button("Not now", Act.POOL_OFFER_NOT_NOW, value),
            )
        ),
    ]
