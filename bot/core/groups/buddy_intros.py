"""The practice-buddy intros: who your buddy is this week and one concrete thing to do together.

Our own words, several of them, picked by a number (the runner derives it from the group, the
week and the pair), so a retry says the same and neighbouring pairs and weeks differ. People's
names are plain text here (adapters escape them); nothing else typed by anyone is quoted —
no contacts, no notes, no goals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.replies import Reply, Strong, context, section
from bot.core.text import one_line

__all__ = ["SUGGESTIONS", "Suggestion", "buddy_intro", "join_names", "shared_intro"]

#: The longest name shown (a display name can be long).
_NAME_MAX = 60
#: Who a buddy is when the platform told us no name.
UNNAMED = "another member of the group"


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One thing to do together this week: a short title and how, in two or three sentences."""

    title: str
    how: str


SUGGESTIONS: tuple[Suggestion, ...] = (
    Suggestion(
        "Rehearse an opener",
        "Each of you reads out the first two lines of a message you have been putting off. "
        "The other says what sounded warm and what sounded stiff; then you both send yours "
        "the same day.",
    ),
    Suggestion(
        "Hold each other to your goal",
        "Tell each other how many people you mean to reach out to this week. Check in on "
        "Thursday: how far did you get, and what would make the last one easier?",
    ),
    Suggestion(
        "Practise the hardest question",
        "Ask each other “So, what are you looking for?” and answer out loud, twice. The "
        "second answer should be shorter and sound more like you.",
    ),
    Suggestion(
        "Fifteen minutes mid-week",
        "Book a short call for Wednesday: one thing that went well, one thing that is stuck, "
        "and one person each of you will contact before Friday.",
    ),
    Suggestion(
        "Fears against facts",
        "Before your next message goes out, tell each other what you expect to happen. On "
        "Friday, compare what you feared with what actually happened.",
    ),
    Suggestion(
        "Send one together",
        "Pick a time, open a chat with each other, and each send one message you have been "
        "meaning to send. It is easier with someone pressing send beside you.",
    ),
)


def join_names(names: Sequence[str]) -> str:
    """``"Ada"``, ``"Ada and Ben"``, ``"Ada, Ben and Cy"``."""
    shown = [_name(n) for n in names]
    if len(shown) <= 1:
        return "".join(shown)
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


def _name(name: str) -> str:
    text = one_line(name)
    if len(text) > _NAME_MAX:
        text = text[: _NAME_MAX - 1].rstrip() + "…"
    return text or UNNAMED


def suggestion(number: int) -> Suggestion:
    """The suggestion for ``number`` (any integer; it wraps around)."""
    return SUGGESTIONS[number % len(SUGGESTIONS)]


def shared_intro(group: str, names: Sequence[str], number: int, cmd: str) -> Reply:
    """The intro posted once in a conversation with all the buddies (Slack's group DM)."""
    idea = suggestion(number)
    trio = len(names) > 2
    who = join_names(names)
    head = (
        f"{who}: you're this week's practice buddies in {_name(group)} — a trio this time."
        if trio
        else f"{who}: you're practice buddies this week in {_name(group)}."
    )
    return _reply(head, idea, cmd, summary=f"Your practice buddies this week: {who}.")


def buddy_intro(group: str, buddies: Sequence[str], number: int, cmd: str) -> Reply:
    """The intro sent to one person in their own chat (Teams), naming their buddy or buddies."""
    idea = suggestion(number)
    who = join_names(buddies) if buddies else UNNAMED
    head = (
        f"This week your practice buddies in {_name(group)} are {who}."
        if len(buddies) > 1
        else f"This week your practice buddy in {_name(group)} is {who}."
    )
    return _reply(
        f"{head} They got the same message — say hello in a chat.",
        idea,
        cmd,
        summary=f"Your practice buddy this week: {who}.",
    )


def _reply(head: str, idea: Suggestion, cmd: str, *, summary: str) -> Reply:
    return Reply(
        summary=summary,
        blocks=(
            section(Strong(head)),
            section("One thing to try together this week — ", Strong(idea.title), ": ", idea.how),
            context(
                f"Not for you right now? `{cmd}group buddies off` stops the pairing from next "
                "week; nobody is told why."
            ),
        ),
    )
