"""Who in the pool is likely worth a conversation: the order of the triage and ``list pool``.

Former bosses and senior peers first (by the words of their title), then dormant ties (the
longer ago you connected, the more a message is overdue); within that, by name.
"""

from __future__ import annotations

import re
from datetime import date

from bot.core.model import Contact
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
    """Whole years since you connected (0 when unknown)."""
    if contact.connected_on is None:
        return 0
    return max(0, (today - contact.connected_on).days // 365)


def ranked(pool: list[Contact], today: date) -> list[Contact]:
    """The pool, likely valuable first."""
    return sorted(
        pool,
        key=lambda c: (
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
    """``"VP Engineering at Northwind · connected 2014"`` (what is known of the two)."""
    parts = [contact.company_role] if contact.company_role else []
    if contact.connected_on is not None:
        parts.append(f"connected {contact.connected_on.year}")
    return " · ".join(parts)
