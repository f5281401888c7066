"""What the buttons on a morning nudge do. Each click changes one card, once, and the message
is re-rendered in place so the DM shows what was done."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from bot.core import forms, outreach
from bot.core.actions import Act
from bot.core.cadence import Span, Unit
from bot.core.model import MAX_ID, Contact
from bot.core.nudges import (
    FOLLOW_UP_DAYS,
    CardState,
    FollowUpState,
    NudgeContent,
    render,
)
from bot.core.ports import ContactBook, NudgeRecord
from bot.core.replies import Form, MessageUpdate, Outcome, Reply, message
from bot.core.text import parse_count

EXPIRED = "That message is no longer active — its contact may have been removed."
_ACTIVE = (CardState.OPEN, CardState.OPENERS)
_FOLLOW_UP_AFTER = timedelta(days=FOLLOW_UP_DAYS)


def parse_ref(value: str) -> tuple[int, int] | None:
    """``"<nudge id>:<contact id>"`` → both ids, or ``None``."""
    nudge, _, contact = value.partition(":")
    nudge_id, contact_id = parse_count(nudge, below=MAX_ID), parse_count(contact, below=MAX_ID)
    if nudge_id is None or contact_id is None:
        return None
    return nudge_id, contact_id


async def load(book: ContactBook, value: str) -> tuple[NudgeRecord, NudgeContent, Contact] | None:
    """The caller's nudge and contact named by a button value, or ``None`` (refuse)."""
    ref = parse_ref(value)
    found = await _nudge(book, ref[0]) if ref is not None else None
    if ref is None or found is None or ref[1] not in found[1].contact_ids():
        return None
    record, content = found
    contact = await book.get(ref[1])
    if contact is None:
        return None
    return record, content, contact


async def card_action(book: ContactBook, act: Act, value: str, today: date, cmd: str) -> Outcome:
    """Carry out a card or follow-up button for the caller. Double clicks have one effect."""
    loaded = await load(book, value)
    if loaded is None:
        return message(EXPIRED)
    record, content, contact = loaded
    card = content.card(contact.id)
    question = content.followup(contact.id)
    if act in (Act.CARD_LOG, Act.FOLLOW_YES):
        kind = "card" if act is Act.CARD_LOG else "follow"
        contacts = [contact, *(await book.upcoming(limit=99))]
        form = forms.log_form(contacts, today, selected=contact)
        return _with_context(form, f"{kind}:{record.id}:{contact.id}")
    if card is not None and card.state in _ACTIVE:
        match act:
            case Act.CARD_REACHED:
                await outreach.reach_out(book, contact, today)
                card.state = CardState.REACHED
            case Act.CARD_OPENERS:
                card.state = CardState.OPENERS
            case Act.CARD_SNOOZE_WEEK | Act.CARD_SNOOZE_MONTH:
                span = Span(1, Unit.WEEKS if act is Act.CARD_SNOOZE_WEEK else Unit.MONTHS)
                contact.snooze(span, today)
                await book.save(contact)
                card.state, card.until = CardState.SNOOZED, contact.next_due_on.isoformat()
            case Act.CARD_SKIP:
                contact.skip(today)
                await book.save(contact)
                card.state = CardState.SKIPPED
    if question is not None and question.state is FollowUpState.OPEN:
        match act:
            case Act.FOLLOW_LATER:
                ask_on = contact.ask_again_later(today, _FOLLOW_UP_AFTER)
                await book.save(contact)
                question.state, question.until = FollowUpState.LATER, ask_on.isoformat()
            case Act.FOLLOW_DROP:
                contact.drop_follow_up()
                await book.save(contact)
                await outreach.no_reply(book, contact.id)
                question.state = FollowUpState.DROPPED
    await book.save_nudge_content(record.id, content.to_json())
    return await rerender(book, record, content, cmd)


async def mark_logged(
    book: ContactBook, context: str, contact_id: int, cmd: str, notice: Reply
) -> Reply | MessageUpdate:
    """After a log form opened from a nudge: show the card or question as logged."""
    kind, _, value = context.partition(":")
    ref = parse_ref(value)
    if kind not in ("card", "follow") or ref is None or ref[1] != contact_id:
        return notice
    found = await _nudge(book, ref[0])
    if found is None:
        return notice
    record, content = found
    card, question = content.card(contact_id), content.followup(contact_id)
    if kind == "card" and card is not None:
        card.state = CardState.LOGGED
    elif kind == "follow" and question is not None:
        question.state = FollowUpState.LOGGED
    else:
        return notice
    await book.save_nudge_content(record.id, content.to_json())
    updated = await rerender(book, record, content, cmd)
    if isinstance(updated, MessageUpdate):
        return MessageUpdate(updated.channel, updated.message_id, updated.message, notice)
    return notice


async def rerender(
    book: ContactBook, record: NudgeRecord, content: NudgeContent, cmd: str
) -> Reply | MessageUpdate:
    """The nudge as it looks now: a message update, or a reply where no message exists."""
    contacts = await book.get_many(content.contact_ids())
    reply = render(content, contacts, nudge_id=record.id, cmd=cmd)
    if record.channel and record.message_id:
        return MessageUpdate(record.channel, record.message_id, reply)
    return reply


async def _nudge(book: ContactBook, nudge_id: int) -> tuple[NudgeRecord, NudgeContent] | None:
    """The caller's nudge and its content, or ``None`` if missing or unreadable."""
    record = await book.nudge(nudge_id)
    if record is None:
        return None
    try:
        return record, NudgeContent.from_json(record.content)
    except ValueError:
        return None


def _with_context(form: Form, context: str) -> Form:
    return replace(form, context=context)
