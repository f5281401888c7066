"""Replies for ``opener`` and ``prep``, and the one-line opener shown wherever a contact appears.

``opener <name>`` answers with two or three drafts, each its own paragraph so it copies cleanly,
and the plain-text version as the notification text; an *Email it* link when an address is
known. ``prep <name>`` is for the minutes before a call (hurdles 4, 5 and 7): what you know, what
you learned last time, three curious questions and one listening cue.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.core import dates
from bot.core.actions import Act
from bot.core.model import Contact, Conversation
from bot.core.openers import copy_text, first_opener, mailto, openers, questions, seed_for
from bot.core.reflection import QUESTION, WHY
from bot.core.replies import (
    Actions,
    Block,
    Button,
    Divider,
    Em,
    Header,
    Inline,
    Reply,
    Strong,
    context,
    section,
)
from bot.core.text import shorten

#: Listening cues for ``prep``: one is shown, chosen per contact and day.
LISTENING_CUES = (
    f"Listen for what they mention twice. {WHY}",
    "Let a pause sit a moment longer than feels natural — people often add the important part "
    "then.",
    "Ask one follow-up question before you say anything about yourself.",
    "Notice what makes them speak faster or lean in, and ask more about that.",
)
_KNOWN_MAX = 300
#: Slack's limit on a button's url; a longer mailto link is left out rather than cut.
_LINK_MAX = 3000


def email_of(contact: Contact) -> str | None:
    """The contact's email address, when one is known (the import adds an ``email`` field; until
    then contacts have none)."""
    email = getattr(contact, "email", None)
    return email if isinstance(email, str) and email else None


def opener_line(contact: Contact, today: date) -> list[Inline]:
    """One opener to show under a contact in a list: ``["\\n💬 ", "Hi Dana, …"]``."""
    first = first_opener(contact, today=today)
    return ["\n💬 ", Em(first)] if first else []


def opener_reply(contact: Contact, today: date, *, email: str | None = None) -> Reply:
    """Two or three openers for ``contact``, copy-ready, with an email link if ``email``."""
    drafts = openers(contact, today=today)
    cid = str(contact.id)
    blocks: list[Block] = [
        section("Openers for ", Strong(contact.name), " — pick one and make it yours:"),
    ]
    blocks.extend(section(draft) for draft in drafts)
    blocks.append(context(Em("Ask, then listen — people like to talk about what they care about.")))
    buttons = [Button("Prepare", Act.PREP, cid), Button("Log conversation", Act.LOG_FORM, cid)]
    link = mailto(email, drafts[0]) if drafts else None
    if link is not None and len(link) <= _LINK_MAX:
        buttons.insert(0, Button("Email it", Act.OPEN_LINK, url=link, style="primary"))
    blocks.append(Actions(tuple(buttons)))
    return Reply(summary=copy_text(drafts), blocks=tuple(blocks))


def prep_reply(contact: Contact, history: Sequence[Conversation], today: date, cmd: str) -> Reply:
    """What to have in mind before talking with ``contact``; ``history`` is newest first."""
    cid = str(contact.id)
    blocks: list[Block] = [Header(shorten(f"Before you talk with {contact.name}", 150))]
    known: list[Inline] = [Strong("What you know")]
    for label, value in (
        ("Work", contact.company_role),
        ("How you know each other", contact.how_known),
        ("Wins & interests", contact.notes),
    ):
        if value:
            known.extend((f"\n{label}: ", shorten(value, _KNOWN_MAX)))
    if len(known) == 1:
        known.append(
            f"\nNothing noted yet — `{cmd}edit {contact.name}` adds their work and interests."
        )
    blocks.append(section(*known))
    blocks.append(section(*_last_time(history, today, cmd, contact.name)))
    asked = questions(contact, today=today)
    lines: list[Inline] = [Strong("Three curious questions")]
    for number, question in enumerate(asked, 1):
        lines.append(f"\n{number}. {question}")
    blocks.append(section(*lines))
    cue = LISTENING_CUES[seed_for(contact.id, today) % len(LISTENING_CUES)]
    blocks.append(Divider())
    blocks.append(context("👂 ", Em(cue)))
    blocks.append(
        Actions(
            (
                Button("Openers", Act.OPENERS, cid),
                Button("Log conversation", Act.LOG_FORM, cid, style="primary"),
            )
        )
    )
    return Reply(summary=f"Before you talk with {contact.name}", blocks=tuple(blocks))


def _last_time(history: Sequence[Conversation], today: date, cmd: str, name: str) -> list[Inline]:
    """What happened last time: the latest conversation's note and what was learned."""
    talks = [c for c in history if c.kind == "conversation"]
    if not talks:
        return [
            Strong("Last time"),
            "\nNo conversation logged yet — this one is the first. Keep it short and about them.",
        ]
    last = talks[0]
    parts: list[Inline] = [
        Strong("Last time"),
        f" ({dates.show(last.occurred_on, today)}, {dates.ago(last.occurred_on, today)})",
    ]
    learned = next((c.learned for c in talks if c.learned), "")
    if last.note:
        parts.append(f"\nYou talked about: {shorten(last.note, _KNOWN_MAX)}")
    if learned:
        parts.append(f"\nYou learned: {shorten(learned, _KNOWN_MAX)}")
    else:
        parts.append(
            f"\nNothing learned was noted. {QUESTION} `{cmd}log {name} -- learned: …` keeps it."
        )
    return parts
