"""The buttons of the weekly pool offer on a morning nudge: Add, or Not now. Each changes the
offer once and re-renders the nudge in place, like the nudge's other buttons."""

from __future__ import annotations

from datetime import date

from bot.core.cadence import DEFAULT_CADENCE
from bot.core.imports.offer_view import OfferState
from bot.core.nudge_actions import EXPIRED, parse_ref, rerender
from bot.core.nudges import NudgeContent
from bot.core.ports import ContactBook
from bot.core.replies import Outcome, message


async def add_offered(book: ContactBook, today: date, cmd: str, value: str) -> Outcome:
    """ "Add": the offered pool contact joins the circle."""
    return await _answer(book, today, cmd, value, add=True)


async def decline_offered(book: ContactBook, today: date, cmd: str, value: str) -> Outcome:
    """ "Not now": the offered contact stays in the pool and is not offered again."""
    return await _answer(book, today, cmd, value, add=False)


async def _answer(book: ContactBook, today: date, cmd: str, value: str, *, add: bool) -> Outcome:
    ref = parse_ref(value)
    record = await book.nudge(ref[0]) if ref is not None else None
    if ref is None or record is None:
        return message(EXPIRED)
    try:
        content = NudgeContent.from_json(record.content)
    except ValueError:
        return message(EXPIRED)
    offer = content.offer
    if offer is None or offer.contact_id != ref[1]:
        return message(EXPIRED)
    if offer.state is OfferState.OPEN:  # a double click changes nothing the second time
        if add:
            moved = await book.join_circle([offer.contact_id], cadence=DEFAULT_CADENCE, today=today)
            done = bool(moved)
        else:
            done = await book.pool_decline(offer.contact_id, today) is not None
        if not done:
            return message("That person isn't in your pool any more — already added, or removed.")
        offer.state = OfferState.ADDED if add else OfferState.DECLINED
        await book.save_nudge_content(record.id, content.to_json())
    return await rerender(book, record, content, cmd)
