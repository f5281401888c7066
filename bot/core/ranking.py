"""Whom to suggest this morning, and why — ranked by value, not only by days overdue.

Long-dormant ties are worth more than they feel: advice from contacts dormant for three years or
more was as useful as, or more useful than, advice from current contacts (Levin, Walter &
Murnighan, 2011), and anxiety, not value, is what keeps people from them (Walter et al., 2015).
So dormancy raises a contact's rank instead of being a reason to give up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.core.cadence import Unit
from bot.core.model import Contact
from bot.core.openers import first_interest

_UNIT_DAYS = {Unit.DAYS: 1, Unit.WEEKS: 7, Unit.MONTHS: 30}


@dataclass(frozen=True, slots=True)
class Pick:
    """A contact chosen for today's nudge, with its score and a one-line reason."""

    contact: Contact
    score: float
    why: str


def eligible(contact: Contact, today: date) -> bool:
    """Due, not set aside for today, and not waiting for a reply: who may be suggested.

    The morning pass reads only eligible contacts (``storage.compose_reads``), so
    :func:`rank` does not check again.
    """
    return (
        contact.next_due_on <= today
        and contact.skipped_on != today
        and contact.follow_up_on is None
    )


def score(contact: Contact, today: date) -> float:
    """How much reaching out to ``contact`` today is worth (higher is better)."""
    # Written without min()/max() calls: the morning pass scores a hundred thousand contacts.
    cadence_days = contact.cadence.count * _UNIT_DAYS[contact.cadence.unit]
    late = (today - contact.next_due_on).days
    lateness = 0.0 if late <= 0 else late / cadence_days
    value = 1.0 + (lateness if lateness < 3.0 else 3.0)
    if contact.last_contacted_on is None:
        value += 0.75
    else:
        days = (today - contact.last_contacted_on).days
        value += 2.0 if days >= 3 * 365.25 else 1.0 if days >= 365.25 else 0.0
    if contact.notes or contact.how_known:
        value += 0.5  # something to talk about makes the first message easier
    return value


def why(contact: Contact, today: date) -> str:
    """One line: why this person, today."""
    first = contact.first_name
    if contact.last_contacted_on is not None:
        years = (today - contact.last_contacted_on).days // 365
        if years >= 3:
            return (
                f"You last talked {years} years ago — dormant ties often bring the freshest "
                "advice, and people are gladder to hear from you than you'd guess."
            )
        if years >= 1:
            return f"It's been over a year since you talked with {first}."
    interest = first_interest(contact.notes)
    if contact.last_contacted_on is None:
        added = (today - contact.created_on).days
        if interest:
            return f"You know what {first} cares about ({interest}) — a natural way in."
        if added >= 14:
            return f"You added {first} {added // 7} weeks ago and haven't reached out yet."
        return (
            f"New on your list — a first message to {first} is the hardest, and the most welcome."
        )
    overdue = (today - contact.next_due_on).days
    if interest:
        return f"Ask {first} about {interest}."
    if overdue > 0:
        return f"{overdue} days past your {contact.cadence.every()} rhythm with {first}."
    return f"Today is the day on your {contact.cadence.every()} rhythm with {first}."


def rank(contacts: Sequence[Contact], today: date, *, limit: int) -> list[Pick]:
    """The best ``limit`` of ``contacts`` — all :func:`eligible` today — best first (ties:
    most overdue, then name)."""
    scored = [(score(c, today), c) for c in contacts]
    scored.sort(key=lambda sc: (-sc[0], sc[1].next_due_on, sc[1].name.casefold()))
    # The one-line reason is only worth writing for the contacts that make the cut.
    return [Pick(c, value, why(c, today)) for value, c in scored[:limit]]
