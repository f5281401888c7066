"""Extra lines on the morning nudge: the gentle path for an anxious non-starter (a visualisation
before the cards, a micro-step on the first card) and the congratulations opener on a card
for a contact's recent win."""

from __future__ import annotations

from datetime import date

from bot.core.model import Contact
from bot.core.replies import Block, Em, Strong, context, section
from bot.core.wins import congratulate_opener, is_recent

#: Courage prompts that already are a visualisation: no second one on the same morning.
_VISUALISING = frozenset({"courage-01", "courage-02", "courage-05"})

# Rehearse the good version (hurdle 6). ``{first}``: the first card's first name.
_VISUALISATIONS = (
    "Before you look at the cards: close your eyes for ten seconds and picture {first} "
    "reading your message and smiling.",
    "Picture the good version: {first} replies, glad you wrote, and suggests a call. That "
    "happens far more often than we expect.",
    "Imagine {first} telling a friend tonight, “guess who got in touch today?” — pleased, "
    "not puzzled.",
)


def prompt_id_visualises(prompt_id: str) -> bool:
    """Whether today's prompt is itself a visualisation."""
    return prompt_id in _VISUALISING


def visualisation(first_name: str, day: date) -> str:
    """A short visualisation before the cards, a different one on consecutive days."""
    line = _VISUALISATIONS[day.toordinal() % len(_VISUALISATIONS)]
    return line.replace("{first}", first_name)


def extra_card_lines(contact: Contact, day: date, *, micro_step: bool) -> list[Block]:
    """Lines an open card gets before its buttons: the congratulations opener for a recent
    win, and (first card, gentle path) today's one micro-step."""
    blocks: list[Block] = []
    # Fresh news, not ``ranking.congratulate``: once sent, the nudge has marked the card
    # suggested, and a card re-rendered after a click must keep its message.
    if is_recent(contact, day):
        blocks.append(section(Strong("You could send:"), "\n", congratulate_opener(contact)))
    if micro_step:
        blocks.append(
            context(
                Em(
                    f"Today's whole task: open a message to {contact.first_name} and type "
                    "only the greeting. The rest comes easier once you've started."
                )
            )
        )
    return blocks
