"""Predict, then find out: recording "Reached out", the prediction and what happened.

The service and the nudge buttons call these so every way of reaching out (a morning card,
``reached <name>``, the due list, Home, the console) records the same outreach event.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.core.evidence import Outreach
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
