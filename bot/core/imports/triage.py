"""Who in the pool is likely worth a conversation: the order of the triage and ``list pool``.

The kind of tie first when the user said it (a former boss, then a mentor, someone you managed
or a client, then peers and friends: :func:`bot.core.ranking.tie_value`), then senior people
(by the words of their title), then dormant ties (the longer since you were last in touch, or
else since you connected, the more a message is overdue); within that, by name.
"""

from __future__ import annotations

import re
from datetime import date

from bot.core.model import Contact
from bot.core.ranking import tie_value
from bot.core.relationships import Relationship, show_last_in_touch, years_since
from bot.core.text import fold

#: Title words and how senior they read; the first pattern that matches counts.
_TITLE_RANKS = (
    (
        5,
        re.compile(
            r"\b(chief|ceo|cfo|cto|coo|cio|cmo|cpo|ciso|president|founder|co-?founder|owner|"
            r"partner|managing director|general manager)\b",
            re.IGNORECASE,
        ),
    ),
    (4, re.compile(r"\b(svp|evp|avp|vp|vice[- ]president)\b", re.IGNORECASE)),
    (3, re.compile(r"\b(director|head)\b", re.IGNORECASE)),
    (2, re.compile(r"\b(manager|lead|principal)\b", re.IGNORECASE)),
)
#: Past this many years since connecting, older does not rank higher.
_DORMANT_CAP = 10


def seniority(contact: Contact) -> int:
    """0 (no title words we know) to 5 (C-level, founders, partners)."""
    return next((rank for rank, words in _TITLE_RANKS if words.search(contact.company_role)), 0)


def dormant_years(contact: Contact, today: date) -> int:
    """Whole years since you were last in touch (what the user said), else since you connected
    (0 when neither is known; 3 for "years ago")."""
    if contact.last_in_touch is not None:
        return years_since(contact.last_in_touch, today)
    if contact.connected_on is None:
        return 0
    return max(0, (today - contact.connected_on).days // 365)


def ranked(pool: list[Contact], today: date) -> list[Contact]:
    """The pool, likely valuable first."""
    return sorted(
        pool,
        key=lambda c: (
            -tie_value(c.relationship),
            -seniority(c),
            -min(dormant_years(c, today), _DORMANT_CAP),
            fold(c.name),
            c.id,
        ),
    )


def offer_order(pool: list[Contact], today: date) -> list[Contact]:
    """Who the morning nudge offers, best first: people not offered (declined) before."""
    return [c for c in ranked(pool, today) if c.skipped_on is None]


def why(contact: Contact) -> str:
    """``"Former boss · VP Engineering at Northwind · last in touch 2019"`` or ``"… · connected
    2014"`` (what is known of them)."""
    parts = [tie_label(contact)] if tie_label(contact) else []
    if contact.company_role:
        parts.append(contact.company_role)
    if contact.last_in_touch is not None:
        parts.append(f"last in touch {show_last_in_touch(contact.last_in_touch)}")
    elif contact.connected_on is not None:
        parts.append(f"connected {contact.connected_on.year}")
    return " · ".join(parts)


def tie_label(contact: Contact) -> str:
    """``"Former boss"`` (the form's label of their relationship); ``""`` for none or other."""
    if not contact.relationship or contact.relationship == Relationship.OTHER.value:
        return ""
    try:
        return Relationship(contact.relationship).label
    except ValueError:
        return ""
