"""What a logged conversation adds to the evidence: how they responded, what came of it, and
a next step — from the one-line ``log`` command, the log form, or a "which Dana?" button.

Everything here is validated again wherever it comes from (a button's JSON is untrusted): a
bad value gets a clear answer and nothing is logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from bot.core import commands as c
from bot.core import dates, forms
from bot.core.evidence import (
    NEXT_STEP_MAX,
    Expectation,
    OutcomeTag,
    join_outcomes,
    parse_expectation,
    parse_outcomes,
    step_due_problem,
)
from bot.core.model import Contact, Conversation
from bot.core.ports import ContactBook
from bot.core.predict import StepDateError, outcome_words, parse_step_due, settle
from bot.core.predict_views import expectation_phrase
from bot.core.replies import Reply, context
from bot.core.text import clean, fold, one_line, storable

BAD_RESPONSE = "That response isn't one of the choices — nothing was logged. Please try again."


@dataclass(frozen=True, slots=True)
class LogFacts:
    """The evidence part of a log entry (all optional)."""

    response: Expectation | None = None
    outcomes: frozenset[OutcomeTag] = frozenset()
    step: str = ""
    step_due: date | None = None

    def apply(self, conversation: Conversation) -> Conversation:
        """The conversation with its response and outcomes."""
        if self.response is None and not self.outcomes:
            return conversation
        return replace(conversation, response=self.response, outcomes=self.outcomes)

    def encode(self) -> dict[str, str]:
        """As extra values of a "which contact?" button (only what is set)."""
        out: dict[str, str] = {}
        if self.response is not None:
            out["response"] = self.response.value
        if self.outcomes:
            out["outcomes"] = join_outcomes(self.outcomes)
        if self.step and self.step_due is not None:
            out["step"], out["step_due"] = self.step, self.step_due.isoformat()
        return out


NONE = LogFacts()


def _step_text(text: str) -> str | None:
    """A next step's text, cleaned; ``None`` when too long."""
    step = storable(one_line(text))
    return step if len(step) <= NEXT_STEP_MAX else None


def from_command(command: c.Log, today: date) -> LogFacts | str:
    """The facts of a one-line ``log``; a message (nothing to log) when the step is bad."""
    due = None
    step = ""
    if command.step:
        checked = _step_text(command.step)
        if checked is None:
            return f"Please keep the next step under {NEXT_STEP_MAX} characters."
        step = checked
        try:
            due = parse_step_due(command.step_when, today)
        except StepDateError as exc:
            return f"{exc} Nothing was logged."
    return LogFacts(command.response, command.outcomes, step, due)


async def typed_name(book: ContactBook, command: c.Log, name: str) -> str:
    """The name to look up: the whole typed name when a contact is called exactly that (a
    name that ends like a phrase, "Wendy Went Well"); otherwise ``name``."""
    if command.typed_name and command.typed_name != name:
        wanted = fold(command.typed_name)
        if any(fold(n) == wanted for _, n in await book.names()):
            return command.typed_name
    return name


def for_name(command: c.Log, name: str, facts: LogFacts) -> LogFacts:
    """Drop the response taken from the name when the whole typed name is the contact's."""
    return replace(facts, response=None) if name == command.typed_name != command.name else facts


def from_entry(entry: forms.LogEntry) -> LogFacts:
    """The facts of a submitted log form (validated by :func:`forms.read_log`)."""
    return LogFacts(entry.response, entry.outcomes, entry.step, entry.step_due)


def decode(data: Mapping[str, Any], today: date) -> LogFacts | str:
    """Facts carried by a "which contact?" button, checked again; a message when forged."""
    raw = data.get("response")
    response = parse_expectation(str(raw)) if raw is not None else None
    if raw is not None and response is None:
        return BAD_RESPONSE
    outcomes = parse_outcomes(str(data.get("outcomes", "")))
    step, due = "", None
    if data.get("step"):
        checked = _step_text(clean(str(data["step"])))
        try:
            due = date.fromisoformat(str(data.get("step_due", "")))
        except ValueError:
            return "That next step's date isn't valid — nothing was logged."
        if checked is None:
            return "That next step can't be kept — nothing was logged. Please log it again."
        if problem := step_due_problem(due, today):
            return f"{problem} Nothing was logged."
        step = checked
    return LogFacts(response, outcomes, step, due)


async def record(book: ContactBook, contact: Contact, on: date, facts: LogFacts) -> None:
    """After the conversation is logged: it answers the open outreach, and the next step is
    kept."""
    await settle(book, contact.id, on, facts.response, reached_out_on=contact.reached_out_on)
    if facts.step and facts.step_due is not None:
        await book.add_next_step(contact.id, facts.step, facts.step_due)


def confirm(reply: Reply, contact: Contact, facts: LogFacts, today: date) -> Reply:
    """``reply`` with a line saying what was noted (nothing added when nothing was)."""
    parts = []
    if facts.response is not None:
        parts.append(f"Response: {expectation_phrase(facts.response)}")
    if facts.outcomes:
        parts.append(f"What came of it: {outcome_words(facts.outcomes)}")
    if facts.step and facts.step_due is not None:
        when = "today" if facts.step_due == today else f"on {dates.show(facts.step_due, today)}"
        parts.append(f"Next step “{facts.step}” — I'll remind you {when}")
    if not parts:
        return reply
    line = context("📈 " + " · ".join(parts) + ".")
    return Reply(summary=reply.summary, blocks=(*reply.blocks, line), files=reply.files)
