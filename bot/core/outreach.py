"""Recording "Reached out" and "no reply": the outreach events behind the evidence.

Kept free of the nudge buttons' module so both it and :mod:`bot.core.predict` can use them.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.core.evidence import Expectation, Outreach
from bot.core.model import Contact, ContactGone
from bot.core.nudges import FOLLOW_UP_DAYS
from bot.core.ports import ContactBook

FOLLOW_UP_AFTER = timedelta(days=FOLLOW_UP_DAYS)


async def reach_out(book: ContactBook, contact: Contact, today: date) -> Outreach:
    """Mark ``contact`` reached out today: restart the cadence, schedule the follow-up question
    and record the outreach event (with the previous contact date, to tell dormant ties)."""
    previous = contact.last_contacted_on
    try:
        await book.log(contact.reach_out(today, follow_up_after=FOLLOW_UP_AFTER))
        event = await book.record_outreach(contact.id, today, previous_contact_on=previous)
    except ContactGone as exc:
        raise ContactGone(exc.contact_id, contact.name) from exc
    await book.save(contact)
    return event


async def no_reply(book: ContactBook, contact_id: int) -> None:
    """The user let go of waiting: the latest unsettled outreach got no reply."""
    event = await book.latest_outreach(contact_id)
    if event is not None and event.actual is None and event.replied_on is None:
        await book.set_outreach(
            event.id, expected=event.expected, actual=Expectation.NO_REPLY, replied_on=None
        )
