"""Words for the ranking fields: the tie and "last in touch" on cards, the add reply's rotating
prompt, and what a morning with nobody due offers instead of "Nobody is due"."""

from __future__ import annotations

from datetime import date

from bot.core.model import Contact
from bot.core.relationships import Relationship, show_last_in_touch

# Short reframes after an add (hurdles 1 and 6), taken in turn so 25 adds don't repeat one
# line 25 times. ``{first}`` is the contact's first name.
_ADDED = (
    "Would you mind if {first} got in touch out of the blue? They likely won't mind either.",
    "People are gladder to hear from an old colleague than we expect.",
    "A short hello is enough to restart a tie.",
    "Picture {first} smiling at your name in their inbox.",
    "You'd take {first}'s call. Give them the same chance.",
)


def added_prompt(contact: Contact) -> str:
    """One short prompt for the add reply, rotating with the contact (ids grow with adds)."""
    return _ADDED[contact.id % len(_ADDED)].replace("{first}", contact.first_name)


def tie_lines(contact: Contact) -> list[tuple[str, str]]:
    """Labelled lines for a card: who they are to you, and when you were last in touch."""
    lines: list[tuple[str, str]] = []
    if contact.relationship in _KNOWN:
        lines.append(("Who they are", Relationship(contact.relationship).label))
    if contact.last_in_touch is not None and contact.last_contacted_on is None:
        lines.append(("Last in touch", show_last_in_touch(contact.last_in_touch)))
    return lines


_KNOWN = frozenset(r.value for r in Relationship if r is not Relationship.OTHER)

# A morning with no card: something useful to do, different on consecutive days.
_NOBODY_DUE = (
    "Everyone is up to date. Who's a former boss or colleague you haven't talked to in years? "
    "Dormant ties often give the freshest advice — add one with `{cmd}add <name> as former boss "
    "last years ago`.",
    "Nobody is due today. Heard good news about someone? Note it with `{cmd}win <name> -- "
    "<their news>` and I'll help you congratulate them.",
    "Your list is up to date. Think of someone you helped along, or who helped you, and add "
    "them — a first message to an old tie is the most welcome kind.",
    "All caught up. Pick one person from `{cmd}list` and send a two-line note for no "
    "particular reason — casual contact keeps ties alive.",
    "Nobody is due today. Who helped you early in your career? A short thank-you is the "
    "easiest message there is — add them and I'll remind you.",
)


def nothing_due_text(day: date, cmd: str) -> str:
    """What a morning with no card and no question says: a different useful step each day
    (five of them, so no gap between weekday mornings repeats one)."""
    return _NOBODY_DUE[day.toordinal() % len(_NOBODY_DUE)].replace("{cmd}", cmd)
