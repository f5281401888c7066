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

from bot.core import wins
from bot.core.cadence import Unit
from bot.core.model import Contact
from bot.core.openers import first_interest
from bot.core.relationships import YEARS_AGO, Relationship, years_since

_UNIT_DAYS = {Unit.DAYS: 1, Unit.WEEKS: 7, Unit.MONTHS: 30}

#: How much each kind of tie is worth reviving: a former boss or mentor knows your work best
#: and can vouch for it; someone you managed or a client saw you deliver.
_TIE_VALUE = {
    Relationship.BOSS.value: 4,
    Relationship.MENTOR.value: 3,
    Relationship.REPORT.value: 2,
    Relationship.CLIENT.value: 2,
    Relationship.PEER.value: 1,
    Relationship.FRIEND.value: 1,
}
#: How warm (easy to approach) each kind of tie feels, for an anxious first step.
_WARMTH = {
    Relationship.FRIEND.value: 3,
    Relationship.PEER.value: 2,
    Relationship.MENTOR.value: 1,
}
#: Suggested at most twice in any seven days, unless the user asks (``due``, ``today``).
WEEK = 7


@dataclass(frozen=True, slots=True)
class Pick:
    """A contact chosen for today's nudge, with its score and a one-line reason."""

    contact: Contact
    score: float
    why: str


def tie_value(relationship: str) -> int:
    """How much a kind of tie is worth reviving (0 for none or "other", 4 for a former boss);
    the pool's triage and weekly offer order by it too."""
    return _TIE_VALUE.get(relationship, 0)


def in_touch_since(contact: Contact) -> date | None:
    """When the tie was last live: the last logged contact, else the user's "last in touch"."""
    return contact.last_contacted_on or contact.last_in_touch


def value_points(contact: Contact) -> int:
    """The contact's lasting value (0–9), independent of today: the kind of tie, how long it
    had been dormant when added or last talked to, and something to talk about.

    Storage keeps it in ``contacts.value_points`` (and :func:`rotation_key` from it), so the
    morning pass's SQL orders every eligible contact by it, not only the most overdue few.
    """
    # Written without min()/max() or generator calls: the morning pass ranks 80,000 contacts.
    points = _TIE_VALUE.get(contact.relationship, 0)
    since = contact.last_contacted_on or contact.last_in_touch
    if since is None:
        points += 1  # never talked since joining the list: a first message is worth a lot
    elif since == YEARS_AGO:
        points += 4
    else:
        # As of the latest date a save knows (not today, nor the last suggestion, which SQL
        # sets without recomputing): the stored points then always equal this function's.
        asof = contact.created_on
        last = contact.last_contacted_on
        if last is not None and last > asof:
            asof = last
        days = (asof - since).days
        points += 4 if days >= 3 * 365 else 2 if days >= 365 else 0
    if contact.notes or contact.how_known or contact.win:
        points += 1  # something to talk about makes the first message easier
    return points


def rotation_key(contact: Contact) -> int:
    """Fair rotation order among eligible contacts: lower comes first.

    Never suggested comes before suggested (most valuable first); after that, least recently
    suggested first, with each value point worth a day's head start. So someone shown and not
    acted on yields to everyone else, and valuable ties come round a little more often.
    Storage keeps it in ``contacts.rotation_key``.
    """
    shown = contact.suggested_on.toordinal() if contact.suggested_on else 0
    return shown - value_points(contact)


def within_weekly_limit(contact: Contact, today: date) -> bool:
    """Whether suggesting ``contact`` today keeps them at no more than two suggestions in any
    seven days."""
    before = contact.suggested_before_on
    return before is None or (today - before).days >= WEEK


def congratulate(contact: Contact, today: date) -> bool:
    """A recent win not yet congratulated through a nudge: worth a card even if not due."""
    return (
        bool(contact.win)
        and wins.is_recent(contact, today)
        and (
            contact.suggested_on is None
            or contact.win_on is None
            or contact.suggested_on < contact.win_on
        )
    )


def eligible(contact: Contact, today: date) -> bool:
    """Due (or with a win to congratulate), not set aside for today, not waiting for a reply,
    and not suggested twice this week already: who may be suggested.

    The morning pass reads only eligible contacts (``storage.compose_reads``), so
    :func:`rank` does not check again.
    """
    return (
        (contact.next_due_on <= today or congratulate(contact, today))
        and contact.skipped_on != today
        and contact.follow_up_on is None
        and within_weekly_limit(contact, today)
    )


def score(contact: Contact, today: date) -> float:
    """How much reaching out to ``contact`` today is worth (higher is better)."""
    # Written without min()/max() calls: the morning pass scores a hundred thousand contacts.
    cadence_days = contact.cadence.count * _UNIT_DAYS[contact.cadence.unit]
    late = (today - contact.next_due_on).days
    lateness = 0.0 if late <= 0 else late / cadence_days
    value = 1.0 + (lateness if lateness < 3.0 else 3.0) + _TIE_VALUE.get(contact.relationship, 0)
    since = contact.last_contacted_on or contact.last_in_touch
    if since is None:
        value += 0.75
    else:
        days = (today - since).days
        value += 3.0 if days >= 3 * 365.25 else 1.5 if days >= 365.25 else 0.0
    if contact.notes or contact.how_known:
        value += 0.5
    if contact.suggested_on is not None:
        shown = (today - contact.suggested_on).days
        if shown < WEEK:
            value -= 4.0 - shown * 0.5  # shown lately and not acted on: let others go first
    if contact.win and congratulate(contact, today):
        value += 6.0  # news is perishable: congratulate while it's fresh
    return value


def warmth(contact: Contact, today: date) -> float:
    """How easy ``contact`` is to approach (higher is easier), for a first, anxious step:
    a friend or peer, someone you talked with lately, someone you know things about."""
    value = float(_WARMTH.get(contact.relationship, 0))
    since = in_touch_since(contact)
    if since is not None and since != YEARS_AGO:
        days = (today - since).days
        value += 2.0 if days < 365 else 1.0 if days < 3 * 365 else 0.0
    if contact.notes or contact.how_known:
        value += 1.0
    if congratulate(contact, today):
        value += 2.0  # congratulating is the easiest message there is
    return value


def why(contact: Contact, today: date) -> str:
    """One line: why this person, today (their win, the tie, how long it's been)."""
    first = contact.first_name
    if congratulate(contact, today):
        return f"{wins.congratulate_title(contact)} — good news is the easiest reason to write."
    tie = _PHRASES.get(contact.relationship, "")
    since = contact.last_contacted_on or contact.last_in_touch
    if since is not None:
        years = years_since(since, today)
        if years >= 3:
            ago = "years ago" if since == YEARS_AGO else f"{years} years ago"
            who = f"{first}, {tie}," if tie else first
            return (
                f"You were last in touch with {who} {ago} — dormant ties often bring the "
                "freshest advice, and people are gladder to hear from you than you'd guess."
            )
        if years >= 1:
            who = f"{first} ({tie})" if tie else first
            return f"It's been over a year since you were in touch with {who}."
    if tie and contact.relationship == _BOSS:
        return f"{first} is {tie}: nobody can vouch for your work better."
    if tie and contact.relationship == _MENTOR:
        return f"{first} is {tie} — mentors like to hear how things turned out."
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


_PHRASES = {r.value: r.phrase for r in Relationship}
# Plain strings: an enum member's ``.value`` is a property call each time.
_BOSS = Relationship.BOSS.value
_MENTOR = Relationship.MENTOR.value


def rank(
    contacts: Sequence[Contact], today: date, *, limit: int, gentle: bool = False
) -> list[Pick]:
    """The best ``limit`` of ``contacts`` — all :func:`eligible` today — best first.

    A fresh win to congratulate comes first; then fair rotation (:func:`rotation_key`: never
    suggested before suggested, the most valuable first, then least recently suggested, with
    value as a head start), as the morning pass's SQL reads them; then today's :func:`score`
    (how overdue, how dormant). Last, a hash of the contact and the day — never name or id
    order — so equal contacts take turns. ``gentle`` (an anxious user who hasn't started):
    the warmest, easiest of them goes first.
    """
    day = today.toordinal()
    scored = [_order(c, today, day) for c in contacts]
    scored.sort()
    if gentle and scored:
        # Among equally warm contacts the one ahead in the rotation stays ahead.
        warmest = max(range(len(scored)), key=lambda i: (warmth(scored[i][6], today), -i))
        scored.insert(0, scored.pop(warmest))
    # The one-line reason is only worth writing for the contacts that make the cut.
    return [Pick(c, -minus, why(c, today)) for _, _, minus, _, _, _, c in scored[:limit]]


def _order(c: Contact, today: date, day: int) -> tuple[int, int, float, date, int, int, Contact]:
    """:func:`rank`'s sort key of ``c``: ``(0`` for a win to congratulate else ``1``,
    :func:`rotation_key`, ``-``:func:`score`, due date, a hash of the id and ``day``, the id,
    the contact ``)``.

    The three written out as one (what they share worked out once: the tie's value, when last
    in touch, the win): the morning pass orders ~6 candidates for every user. The arithmetic
    is theirs, in their order, so the floats are the same (``tests/core/test_ranking_order.py``).
    """
    congrats = bool(c.win) and congratulate(c, today)
    tie = _TIE_VALUE.get(c.relationship, 0)
    last = c.last_contacted_on
    since = last or c.last_in_touch
    talk = bool(c.notes or c.how_known)
    # value_points
    points = tie
    if since is None:
        points += 1
    elif since == YEARS_AGO:
        points += 4
    else:
        asof = c.created_on
        if last is not None and last > asof:
            asof = last
        dormant = (asof - since).days
        points += 4 if dormant >= 3 * 365 else 2 if dormant >= 365 else 0
    if talk or c.win:
        points += 1
    shown_on = c.suggested_on
    rotation = (shown_on.toordinal() if shown_on else 0) - points
    # score
    cadence_days = c.cadence.count * _UNIT_DAYS[c.cadence.unit]
    late = (today - c.next_due_on).days
    lateness = 0.0 if late <= 0 else late / cadence_days
    value = 1.0 + (lateness if lateness < 3.0 else 3.0) + tie
    if since is None:
        value += 0.75
    else:
        days = (today - since).days
        value += 3.0 if days >= 3 * 365.25 else 1.5 if days >= 365.25 else 0.0
    if talk:
        value += 0.5
    if shown_on is not None:
        shown = (today - shown_on).days
        if shown < WEEK:
            value -= 4.0 - shown * 0.5
    if congrats:
        value += 6.0
    # Integers only: ``hash`` of an int tuple is the same in every process (str hashes are not).
    # The id before the contact keeps the sort from ever comparing two contacts.
    return (0 if congrats else 1, rotation, -value, c.next_due_on, hash((c.id, day)), c.id, c)
