"""*Share with my group*: a member's win, offered after they log it, shared only on a click.

The text shared is built from what the member logged — the outcome and what they learned —
never their notes, and without the contact's name: the contact did not choose to be named in
a channel. :func:`scrub` takes every spelling of the contact's name out of the member's words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Protocol

from bot.core.evidence import Expectation, OutcomeTag, parse_expectation, parse_outcomes
from bot.core.groups.coach_ports import GroupInfo, SharedLog
from bot.core.model import Contact, UserRef
from bot.core.predict import outcome_words
from bot.core.replies import (
    Actions,
    Block,
    Button,
    Choice,
    Form,
    FormKind,
    Reply,
    SelectField,
    TextField,
    context,
)
from bot.core.text import clean, one_line, shorten, storable, visible

#: The button's action; its value is ``"<group id>:<contact id>:<YYYY-MM-DD>"``.
SHARE_ACTION = "group.share"
#: *Edit, then share*: opens the form; its value is ``"<contact id>:<YYYY-MM-DD>"``.
EDIT_ACTION = "group.share_edit"
TEXT = "text"
GROUP = "group"
#: ``group_wins.text`` is VARCHAR(500).
WIN_MAX = 500
#: What stands in for the contact's name in a shared win.
STAND_IN = "my contact"
#: Outcomes worth sharing, most notable first (the win's ``kind`` is the first present).
SHAREABLE = (OutcomeTag.OFFER, OutcomeTag.INTERVIEW, OutcomeTag.REFERRAL, OutcomeTag.INTRODUCTION)
WENT_WELL = "went well"
#: One button per group, at most this many (a member is rarely in more than one or two).
MAX_GROUP_BUTTONS = 5


class ShareOffers(Protocol):
    """What the service asks after a conversation is logged (``bot.core.service``)."""

    async def offer(
        self,
        user: UserRef,
        contact: Contact,
        on: date,
        learned: str,
        outcomes: frozenset[OutcomeTag],
        response: Expectation | None,
        reply: Reply,
    ) -> Reply:
        """``reply`` with *Share with my group* buttons when the log is a win and the member
        is in a group; ``reply`` unchanged otherwise."""
        ...


def win_kind(outcomes: Iterable[OutcomeTag], response: Expectation | None) -> str | None:
    """What makes a logged conversation a win worth offering, or ``None``."""
    tags = frozenset(outcomes)
    for tag in SHAREABLE:
        if tag in tags:
            return tag.value
    if response is not None and response.warm:
        return WENT_WELL
    return None


def win_text(
    outcomes: Iterable[OutcomeTag], response: Expectation | None, learned: str, names: Sequence[str]
) -> str:
    """The win in the member's words, without any of ``names`` (the contact's)."""
    shared = frozenset(t for t in outcomes if t in SHAREABLE)
    if shared:
        head = f"Got {outcome_words(shared)}."
    elif response is not None and response.warm:
        head = "Had a conversation that went well."
    else:
        head = "Had a conversation."
    said = _sentence(scrub(one_line(learned), names))
    text = f"{head} What I learned: {said}" if said else head
    return shorten(text, WIN_MAX)


def text_of(log: SharedLog) -> tuple[str, str] | None:
    """``(kind, text)`` of a logged conversation read back, or ``None`` if it isn't a win."""
    outcomes = parse_outcomes(log.outcomes)
    response = parse_expectation(log.response) if log.response else None
    kind = win_kind(outcomes, response)
    if kind is None:
        return None
    names = [n for n in (log.contact_name, log.preferred_name) if n]
    return kind, win_text(outcomes, response, log.learned, names)


#: Name parts that are also everyday words: only taken out when written as a name
#: (capitalised), so "Will said he will call" keeps its verb.
_EVERYDAY = frozenset(
    {
        "will", "may", "mark", "bill", "grace", "hope", "rose", "joy", "art", "june", "april",
        "august", "sue", "pat", "rob", "jack", "faith", "don", "ray", "eve", "dawn", "summer",
        "hunter", "sky", "chase", "frank", "rich", "lane", "king", "page", "young", "long",
        "brown", "green", "white", "black", "hill", "wood", "stone", "bell", "love", "day",
        "price", "banks", "cash", "the", "and", "van", "von", "de", "da", "del", "la", "le",
        "di", "du", "of",
    }
)  # fmt: skip


def scrub(text: str, names: Sequence[str]) -> str:
    """``text`` with every mention of the contact replaced by "my contact": the full name, the
    preferred name and each part of the name in any case — except parts that are everyday
    words ("Will", "May"), taken out only when capitalised — possessives included ("Dana's" →
    "my contact's"). Better to take out a word too many than to leave a name in a channel."""
    out = text
    wholes = sorted({n.strip() for n in names if n.strip()}, key=len, reverse=True)
    for whole in wholes:
        out = _word(whole, re.IGNORECASE).sub(STAND_IN, out)
    parts = {p.strip(".,") for n in wholes for p in n.split()}
    for part in sorted((p for p in parts if len(p) >= 2), key=len, reverse=True):
        flags = 0 if part.casefold() in _EVERYDAY else re.IGNORECASE
        out = _word(part, flags).sub(STAND_IN, out)
    # "Dana Whitfield" written as "Dana W. Whitfield" leaves two stand-ins in a row.
    out = re.sub(rf"{STAND_IN}(?:\s+\w\.?)?\s+{STAND_IN}", STAND_IN, out)
    # A sentence that starts with the stand-in starts with a capital.
    return re.sub(rf"(^|[.!?]\s+){STAND_IN}", lambda m: m.group(1) + "My contact", out)


def _word(name: str, flags: int) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w@]){re.escape(name)}(?!\w)", flags)


def _sentence(text: str) -> str:
    """``text`` as a sentence: a capital first, a full stop last unless it has an ending."""
    text = text.strip().strip("-–—:;, ").strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in '.!?…”")' else f"{text}."


def offer_blocks(
    groups: Sequence[GroupInfo], contact_id: int, on: date, text: str
) -> tuple[Block, ...]:
    """The offer under a logged win: what would be shared, and a button per group."""
    shown = groups[:MAX_GROUP_BUTTONS]
    value = f"{contact_id}:{on.isoformat()}"
    buttons: tuple[Button, ...]
    if len(shown) == 1:
        buttons = (Button("Share with my group", SHARE_ACTION, f"{shown[0].id}:{value}"),)
    else:
        buttons = tuple(
            Button(f"Share with {shorten(g.name, 40)}", SHARE_ACTION, f"{g.id}:{value}")
            for g in shown
        )
    buttons = (*buttons, Button("Edit, then share", EDIT_ACTION, value))
    where = "your group" if len(shown) == 1 else "one of your groups"
    line = context(
        f"🎉 Want to share this win with {where}? Only if you like — nothing is shared unless "
        f"you click. They would read: “{text}”"
    )
    return (line, Actions(buttons))


def parse_value(value: str) -> tuple[int, int, date] | None:
    """``(group id, contact id, day)`` from a share button's value; ``None`` when forged."""
    group, _, rest = value.partition(":")
    contact, _, day = rest.partition(":")
    if not (group.isascii() and group.isdigit() and contact.isascii() and contact.isdigit()):
        return None
    if len(group) > 18 or len(contact) > 18:
        return None
    try:
        on = date.fromisoformat(day)
    except ValueError:
        return None
    return int(group), int(contact), on


def with_offer(reply: Reply, blocks: tuple[Block, ...]) -> Reply:
    """``reply`` followed by ``blocks``."""
    return Reply(summary=reply.summary, blocks=(*reply.blocks, *blocks), files=reply.files)


def parse_edit_value(value: str) -> tuple[int, date] | None:
    """``(contact id, day)`` from an *Edit, then share* value or form context."""
    parsed = parse_value(f"0:{value}")
    return (parsed[1], parsed[2]) if parsed is not None else None


def edit_form(groups: Sequence[GroupInfo], contact_id: int, on: date, text: str) -> Form:
    """The win's text to change before sharing, and the group (when there are several)."""
    fields: tuple[TextField | SelectField, ...] = (
        TextField(
            TEXT, "What your group will read", initial=text, multiline=True, max_length=WIN_MAX
        ),
    )
    if len(groups) > 1:
        choices = tuple(Choice(str(g.id), shorten(g.name, 75)) for g in groups[:20])
        fields = (SelectField(GROUP, "Share with", choices, initial=choices[0].value), *fields)
    return Form(
        kind=FormKind.SHARE_WIN,
        title="Share a win",
        submit_label="Share",
        fields=fields,
        context=f"{contact_id}:{on.isoformat()}",
        intro=(
            "Your group will read this in the week's wins thread. The contact's name is left "
            "out — add it only if they'd be glad to be named."
        ),
    )


def read_text(values: Mapping[str, str | None]) -> str | dict[str, str]:
    """The member's edited win (their words, one paragraph); or field errors."""
    text = one_line(storable(clean(values.get(TEXT) or "")))
    if not visible(text):
        return {TEXT: "Please write a few words about your win."}
    if len(text) > WIN_MAX:
        return {TEXT: f"Please keep it under {WIN_MAX} characters ({len(text)} now)."}
    return text
