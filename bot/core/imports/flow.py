"""The import and the pool as the service runs them: one transaction per file or click.

:func:`import_file` parses outside the transaction (in a thread: 20,000 rows take a moment of
CPU), then deduplicates and writes in one transaction, so a file is imported whole or not at
all. The pool handlers take the request's book, local date and command prefix.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import date as dt_date
from datetime import timedelta

from bot.core import dates
from bot.core.cadence import DEFAULT_CADENCE
from bot.core.dates import Clock
from bot.core.imports import triage, views
from bot.core.imports.merge import plan, skipped
from bot.core.imports.parse import parse_file
from bot.core.imports.people import ImportRefused
from bot.core.model import MAX_ID, UserRef
from bot.core.ports import ContactBook, Store
from bot.core.replies import Outcome, Reply, message
from bot.core.text import parse_count

__all__ = ["Handler", "ImportRefused", "how_to_import", "import_file"]

how_to_import = views.how_to_import

#: A pool button's handler: the request's book, local date, command prefix, and the value.
Handler = Callable[[ContactBook, dt_date, str, str], Awaitable[Outcome]]


async def import_file(store: Store, clock: Clock, user: UserRef, data: bytes, cmd: str) -> Reply:
    """Import one file for ``user``; the reply is the report (or why nothing changed)."""
    # "Last in touch" may not be in the future: a day ahead of UTC allows every time zone (the
    # user's own date needs their book, which is opened after parsing).
    latest = clock().date() + timedelta(days=1)
    try:
        parsed = await asyncio.to_thread(parse_file, data, latest)
    except ImportRefused as exc:
        return message(exc.message)
    problems = skipped(parsed.problems)
    if not parsed.people:
        return views.nothing_to_import(problems)

    async def work(book: ContactBook) -> Reply:
        today = dates.local_today(clock(), book.timezone)
        existing = await book.everyone()
        changes = plan(existing, parsed.people)
        await book.import_people(changes.new, changes.updated, today=today)
        pool_size = sum(1 for c in existing if c.in_pool) + len(changes.new)
        return views.report(
            parsed.format, changes, problems, pool_size, cmd, left_out=skipped(parsed.left_out)
        )

    return await store.in_book(user, work)


async def triage_page(book: ContactBook, today: dt_date, cmd: str, offset: int = 0) -> Outcome:
    """The triage form at ``offset`` (from the start when past the end)."""
    ranked = triage.ranked(await book.pool(), today)
    if not ranked:
        return views.empty_pool(cmd)
    if offset >= len(ranked):
        offset = 0
    return views.triage_form(ranked, offset, today)


async def list_pool(book: ContactBook, today: dt_date, cmd: str, page: int = 1) -> Reply:
    """A page of ``list pool``."""
    ranked = triage.ranked(await book.pool(), today)
    return views.pool_list(ranked, page, cmd) if ranked else views.empty_pool(cmd)


async def submit_triage(
    book: ContactBook, today: dt_date, cmd: str, context: str, values: Mapping[str, str | None]
) -> Reply:
    """The ticked people join the circle. Only ids the form showed count (its context is
    handed back by the platform and re-checked), and only the owner's pool contacts move."""
    offset_text, _, shown_text = context.partition(":")
    offset = parse_count(offset_text, below=1_000_000) or 0
    shown = {i for i in (_id(x) for x in shown_text.split(",")) if i is not None}
    ticked = [i for i in (_id(x) for x in (values.get(views.PEOPLE) or "").split(",")) if i]
    chosen = await book.join_circle(
        [i for i in ticked if i in shown], cadence=DEFAULT_CADENCE, today=today
    )
    left = len(await book.pool())
    # The people not ticked stay where they were in the order; the next page follows them.
    next_offset = offset + len(shown) - len(chosen)
    return views.joined_reply(chosen, left, next_offset, DEFAULT_CADENCE, cmd)


# --- buttons: (book, today, cmd, value) ----------------------------------------------------


async def triage_button(book: ContactBook, today: dt_date, cmd: str, value: str) -> Outcome:
    """ "Pick who matters" / "Next page" (value: the offset)."""
    offset = 0 if value.strip() == "0" else parse_count(value, below=1_000_000) or 0
    return await triage_page(book, today, cmd, offset)


async def list_button(book: ContactBook, today: dt_date, cmd: str, value: str) -> Outcome:
    """A page of ``list pool`` (value: the page)."""
    return await list_pool(book, today, cmd, parse_count(value, below=100_000) or 1)


async def add_button(book: ContactBook, today: dt_date, cmd: str, value: str) -> Outcome:
    """ "Add" one pool contact to the circle (value: the contact id)."""
    contact_id = _id(value)
    moved = await book.join_circle(
        [contact_id] if contact_id else [], cadence=DEFAULT_CADENCE, today=today
    )
    return views.added_from_pool(moved[0], DEFAULT_CADENCE) if moved else views.not_in_pool()


async def not_now_button(book: ContactBook, today: dt_date, cmd: str, value: str) -> Outcome:
    """ "Not now" on a pool offer: stays in the pool, not offered again."""
    contact_id = _id(value)
    declined = await book.pool_decline(contact_id, today) if contact_id else None
    return views.not_now(declined) if declined is not None else views.not_in_pool()


def _id(text: str) -> int | None:
    return parse_count(text, below=MAX_ID)
