"""Predict, then find out: "Reached out", the one-tap prediction, what happened, next steps.

The service and the nudge buttons call these, so every way of reaching out (a morning card,
``reached <name>``, the due list, Home, the console) records the same outreach event, and
every logged conversation settles the outreach it answers.

Button values are untrusted: every id is looked up in the caller's own book, and an answer
outside the scale changes nothing.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from dateutil import parser as dateparser

from bot.core import nudge_actions
from bot.core.actions import Act
from bot.core.evidence import (
    OUTCOME_LABELS,
    Expectation,
    OutcomeTag,
    Outreach,
    StepStatus,
    parse_expectation,
    step_due_problem,
)
from bot.core.model import MAX_ID, Contact
from bot.core.nudges import (
    FOLLOW_UP_DAYS,
    STEP_LATER_DAYS,
    CardState,
    FollowUpState,
    NudgeContent,
    StepState,
)
from bot.core.outreach import reach_out
from bot.core.ports import ContactBook
from bot.core.predict_views import SKIP, expectation_phrase, prediction_actions, question
from bot.core.replies import Block, Outcome, Reply, Strong, message, section
from bot.core.text import parse_count

#: A conversation this long after reaching out no longer counts as the reply to it.
REPLY_WINDOW = timedelta(days=60)

NOT_A_CHOICE = "That answer isn't one of the choices — nothing was changed. Please tap a button."
EXPIRED = "That question has expired — the outreach may have been removed. Nothing was changed."


# --- reaching out and predicting -----------------------------------------------------------


async def reached(book: ContactBook, contact: Contact, today: date) -> Reply:
    """``reached <name>`` or a "Reached out" button outside a nudge: record it, then ask for
    a prediction in one tap (answering is optional; nothing waits for it). Marking someone
    reached out twice in a day (a double click) records one outreach."""
    if contact.reached_out_on == today:
        latest = await book.latest_outreach(contact.id)
        if latest is not None and latest.reached_on == today:
            return ask_reply(contact, latest)
    event = await reach_out(book, contact, today)
    return ask_reply(contact, event)


def ask_reply(contact: Contact, event: Outreach) -> Reply:
    """ "Marked … as reached out", and the one-tap question."""
    blocks: tuple[Block, ...] = (
        section(
            "✓ Marked ",
            Strong(contact.name),
            f" as reached out. I'll ask in {FOLLOW_UP_DAYS} days whether you heard back.",
        ),
        section(question(contact.first_name)),
        prediction_actions(Act.PREDICT, str(event.id)),
    )
    return Reply(summary=f"You reached out to {contact.name}", blocks=blocks)


def _split_answer(value: str) -> tuple[str, Expectation | None] | None:
    """``"<ref>:<answer>"`` → the ref and the expectation (``None`` for skip); ``None`` when
    the answer is not on the scale."""
    ref, _, answer = value.rpartition(":")
    if answer == SKIP:
        return ref, None
    expected = parse_expectation(answer)
    return (ref, expected) if expected is not None else None


async def predict_button(book: ContactBook, value: str) -> Outcome:
    """An answer to the question after ``reached`` (value ``"<outreach id>:<answer>"``)."""
    split = _split_answer(value)
    if split is None:
        return message(NOT_A_CHOICE)
    ref, expected = split
    outreach_id = parse_count(ref, below=MAX_ID)
    event = await book.outreach(outreach_id) if outreach_id is not None else None
    contact = await book.get(event.contact_id) if event is not None else None
    if event is None or contact is None:
        return message(EXPIRED)
    if expected is not None and _settled(event):
        return message(too_late(contact))
    if expected is not None:
        await book.set_outreach(
            event.id, expected=expected, actual=event.actual, replied_on=event.replied_on
        )
    return predicted_reply(contact, expected)


def _settled(event: Outreach) -> bool:
    """Whether the user already knows how the outreach turned out."""
    return event.actual is not None or event.replied_on is not None


def too_late(contact: Contact) -> str:
    """A guess made after finding out is not a prediction."""
    return (
        f"You've already heard how it went with {contact.first_name} — a guess only counts "
        "before you find out. Nothing was changed."
    )


def predicted_reply(contact: Contact, expected: Expectation | None) -> Reply:
    """What the user sees once they answered (or skipped) the question."""
    if expected is None:
        text = (
            f"No guess this time. I'll ask in {FOLLOW_UP_DAYS} days whether "
            f"{contact.first_name} replied."
        )
    else:
        text = (
            f"Noted: you expect {expectation_phrase(expected)} from {contact.first_name}. "
            f"Let's find out — I'll ask in {FOLLOW_UP_DAYS} days how it went."
        )
        if expected is Expectation.GLAD:
            text = (
                f"Noted: you expect {contact.first_name} to be glad to hear from you. "
                f"I'll ask in {FOLLOW_UP_DAYS} days how it went."
            )
        elif expected is Expectation.GO_OUT_OF_WAY:
            text = (
                f"Noted: you expect {contact.first_name} to go out of their way to help. "
                f"I'll ask in {FOLLOW_UP_DAYS} days how it went."
            )
    return Reply(summary=text, blocks=(section(text),))


async def card_predict(book: ContactBook, value: str, cmd: str) -> Outcome:
    """The answer on a morning card (value ``"<nudge id>:<contact id>:<answer>"``): record it
    on the contact's latest outreach; the card then moves on."""
    split = _split_answer(value)
    if split is None:
        return message(NOT_A_CHOICE)
    ref, expected = split
    loaded = await nudge_actions.load(book, ref)
    if loaded is None:
        return message(nudge_actions.EXPIRED)
    record, content, contact = loaded
    card = content.card(contact.id)
    if card is not None and card.state is CardState.REACHED:
        event = await book.latest_outreach(contact.id)
        if event is not None and expected is not None and not _settled(event):
            await book.set_outreach(
                event.id, expected=expected, actual=event.actual, replied_on=event.replied_on
            )
        card.state = CardState.PREDICTED
        await book.save_nudge_content(record.id, content.to_json())
    return await nudge_actions.rerender(book, record, content, cmd)


# --- finding out ----------------------------------------------------------------------------


async def follow_actual(book: ContactBook, value: str, today: date, cmd: str) -> Outcome:
    """ "Did you hear back?" answered in one tap with how they responded (value
    ``"<nudge id>:<contact id>:<response>"``): the outreach is settled, the question goes."""
    split = _split_answer(value)
    if split is None or split[1] is None or not split[1].replied:
        return message(NOT_A_CHOICE)
    ref, actual = split
    loaded = await nudge_actions.load(book, ref)
    if loaded is None:
        return message(nudge_actions.EXPIRED)
    record, content, contact = loaded
    question = content.followup(contact.id)
    if question is not None and question.state is FollowUpState.OPEN:
        event = await book.latest_outreach(contact.id)
        if event is not None and not _settled(event) and event.reached_on <= today:
            await book.set_outreach(
                event.id, expected=event.expected, actual=actual, replied_on=today
            )
        contact.drop_follow_up()
        await book.save(contact)
        question.state = FollowUpState.ANSWERED
        await book.save_nudge_content(record.id, content.to_json())
    return await nudge_actions.rerender(book, record, content, cmd)


async def settle(
    book: ContactBook,
    contact_id: int,
    on: date,
    response: Expectation | None,
    *,
    reached_out_on: date | None,
) -> Outreach | None:
    """A conversation on ``on`` answers the latest outreach before it (within
    :data:`REPLY_WINDOW`) that is not settled yet: they replied on ``on``, and responded as
    ``response`` says (when said). ``reached_out_on`` is the contact's latest "Reached out"
    (:attr:`Contact.reached_out_on`). Returns the outreach settled, if any."""
    if reached_out_on is None or reached_out_on > on or on - reached_out_on > REPLY_WINDOW:
        return None  # the contact's latest outreach can't be answered by this: no read needed
    event = await book.latest_outreach(contact_id)
    if event is None or event.reached_on > on or on - event.reached_on > REPLY_WINDOW:
        return None
    if event.replied_on is not None and event.actual is not None:
        return None  # settled already: a later conversation is not the reply
    actual = event.actual or response
    if actual is Expectation.NO_REPLY:
        actual = response if response is not None and response.replied else None
    await book.set_outreach(
        event.id, expected=event.expected, actual=actual, replied_on=event.replied_on or on
    )
    return event


# --- next steps -------------------------------------------------------------------------------


class StepDateError(ValueError):
    """A next step's date the user typed can't be used; the message says why."""


_IN = re.compile(r"^in\s+(\d{1,3})\s+(day|week)s?$")


def parse_step_due(text: str, today: date) -> date:
    """``"friday"``, ``"tomorrow"``, ``"in 3 days"``, ``"5 Dec"``, ``"2026-12-05"`` → a date
    from today to a year ahead; raises :class:`StepDateError` otherwise."""
    words = " ".join(text.split()).lower().removeprefix("by ").removeprefix("on ").strip()
    due: date | None = None
    if words in ("today", "tonight"):
        due = today
    elif words == "tomorrow":
        due = today + timedelta(days=1)
    elif words == "next week":
        due = today + timedelta(days=7)
    elif found := _IN.match(words):
        count = int(found.group(1))
        due = today + timedelta(days=count * (7 if found.group(2) == "week" else 1))
    else:
        try:
            due = date.fromisoformat(words)
        except ValueError:
            if re.search(r"[a-z]", words) and not re.search(r"\d+[/.]\d+", words):
                try:
                    default = datetime(today.year, today.month, today.day)
                    due = dateparser.parse(words, default=default).date()
                except (ValueError, OverflowError):
                    due = None
                if due is not None and due <= today and re.fullmatch(r"[a-z]+", words):
                    due += timedelta(days=7)  # a weekday name means the next one, not today
                elif due is not None and due < today and not re.search(r"\d{4}", words):
                    # "5 Jan" typed in December means next January.
                    try:
                        due = due.replace(year=due.year + 1)
                    except ValueError:  # 29 February, a year on
                        due = None
    if due is None:
        raise StepDateError(
            f"I couldn't read the date “{text.strip()[:40]}”. Try “friday”, “in 3 days” "
            "or 2026-12-05."
        )
    problem = step_due_problem(due, today)
    if problem:
        raise StepDateError(problem)
    return due


def step_ref(value: str) -> tuple[int, int] | None:
    """``"<nudge id>:<step id>"`` → both ids, or ``None``."""
    nudge, _, step = value.partition(":")
    nudge_id, step_id = parse_count(nudge, below=MAX_ID), parse_count(step, below=MAX_ID)
    if nudge_id is None or step_id is None:
        return None
    return nudge_id, step_id


async def step_action(book: ContactBook, act: Act, value: str, today: date, cmd: str) -> Outcome:
    """Done / Remind me in 3 days / Drop it on a next step shown in a morning nudge."""
    ref = step_ref(value)
    record = await book.nudge(ref[0]) if ref is not None else None
    if ref is None or record is None:
        return message(nudge_actions.EXPIRED)
    try:
        content = NudgeContent.from_json(record.content)
    except ValueError:
        return message(nudge_actions.EXPIRED)
    card = content.step(ref[1])
    step = await book.next_step(ref[1])
    if card is None or step is None:
        return message(nudge_actions.EXPIRED)
    if card.state is StepState.OPEN and step.status is not StepStatus.OPEN:
        # Settled from another nudge meanwhile: show it as it stands.
        card.state = StepState.DONE if step.status is StepStatus.DONE else StepState.DROPPED
        await book.save_nudge_content(record.id, content.to_json())
    elif card.state is StepState.OPEN:
        match act:
            case Act.STEP_DONE:
                await book.set_next_step(step.id, status=StepStatus.DONE, due_on=step.due_on)
                card.state = StepState.DONE
            case Act.STEP_LATER:
                again = today + timedelta(days=STEP_LATER_DAYS)
                await book.set_next_step(step.id, status=StepStatus.OPEN, due_on=again)
                card.state, card.until = StepState.LATER, again.isoformat()
            case Act.STEP_DROP:
                await book.set_next_step(step.id, status=StepStatus.DROPPED, due_on=step.due_on)
                card.state = StepState.DROPPED
        await book.save_nudge_content(record.id, content.to_json())
    return await nudge_actions.rerender(book, record, content, cmd)


def outcome_words(tags: frozenset[OutcomeTag]) -> str:
    """``"a referral and advice"`` for a confirmation line (empty when none)."""
    labels = [OUTCOME_LABELS[t] for t in OutcomeTag if t in tags]
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]
