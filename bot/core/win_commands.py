"""The ``add`` command's ranking fields and the ``win`` command: kept out of the service module
so it only dispatches to them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.core import commands as c
from bot.core.model import Contact, ContactDraft
from bot.core.ports import ContactBook
from bot.core.relationships import parse_last_in_touch
from bot.core.replies import Block, Reply, Strong, context, section
from bot.core.wins import congratulate_opener, congratulate_title


def draft_from_add(command: c.Add, today: date) -> ContactDraft:
    """The contact an ``add`` command describes (its name already checked).

    Raises :class:`~bot.core.relationships.WhenError` when ``last …`` is not a date we can
    place; nothing is added then.
    """
    assert command.name is not None
    draft = ContactDraft(
        name=command.name,
        notes=command.notes,
        preferred_name=command.preferred,
        relationship=command.relationship,
        last_in_touch=parse_last_in_touch(command.last_in_touch, today),
    )
    if command.cadence is not None:
        draft = replace(draft, cadence=command.cadence)
    return draft


async def save_win(book: ContactBook, contact: Contact, news: str, today: date) -> Reply:
    """Note ``contact``'s news as of ``today`` and show the congratulations it makes."""
    contact.record_win(news, today)
    await book.save(contact)
    return win_reply(contact)


def win_reply(contact: Contact) -> Reply:
    """ "Noted Dana's news" with the congratulations opener to send now or tomorrow."""
    blocks: list[Block] = [
        section("Noted ", Strong(contact.name), "'s news."),
        section(Strong(f"{congratulate_title(contact)}:"), "\n", congratulate_opener(contact)),
        context(
            "Good news is the easiest reason to get in touch. If you don't send it today, "
            "I'll suggest it in a morning nudge soon."
        ),
    ]
    return Reply(summary=f"Noted {contact.name}'s news", blocks=tuple(blocks))
