"""The add, edit and log forms, and validation of what comes back from them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from bot.core.cadence import CADENCE_CHOICES, DEFAULT_CADENCE, CadenceError, Span, parse_cadence
from bot.core.evidence import (
    EXPECTATION_LABELS,
    NEXT_STEP_MAX,
    OUTCOME_LABELS,
    Expectation,
    OutcomeTag,
    parse_expectation,
    step_due_problem,
)
from bot.core.model import (
    NAME_KEY_MAX,
    NAME_MAX,
    NOTES_MAX,
    SHORT_FIELD_MAX,
    Contact,
    ContactDraft,
)
from bot.core.names import PREFERRED_MAX, clean_preferred, default_preferred
from bot.core.relationships import (
    Relationship,
    WhenError,
    parse_last_in_touch,
    parse_relationship,
    show_last_in_touch,
)
from bot.core.replies import (
    Choice,
    DateField,
    Form,
    FormKind,
    MultiSelectField,
    SelectField,
    TextField,
)
from bot.core.text import clean, fold, one_line, parse_count, visible
from bot.core.wins import WIN_MAX

# Field ids, shared by every adapter.
NAME, ROLE, HOW, NOTES, CADENCE = "name", "company_role", "how_known", "notes", "cadence"
CONTACT, DATE, NOTE, LEARNED = "contact", "occurred_on", "note", "learned"
PREFERRED = "preferred_name"
RESPONSE, OUTCOMES, STEP, STEP_DUE = "response", "outcomes", "next_step", "next_step_due"
RELATIONSHIP, LAST_IN_TOUCH, WIN = "relationship", "last_in_touch", "win"

Values = Mapping[str, str | None]


class FieldErrors(Exception):
    """Validation failed; ``errors`` maps field ids to friendly messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def contact_form(contact: Contact | None = None, *, name: str = "") -> Form:
    """The "Add contact" form, or "Edit contact" when ``contact`` is given."""
    current = contact.cadence if contact else DEFAULT_CADENCE
    choices = list(CADENCE_CHOICES)
    if current not in choices:
        choices.append(current)
    fields = (
        TextField(
            NAME,
            "Full name",
            contact.name if contact else name,
            placeholder="Dana Whitfield",
            max_length=NAME_MAX,
        ),
        TextField(
            PREFERRED,
            "What they like to be called",
            contact.preferred_name if contact else "",
            placeholder=_preferred_hint(contact),
            optional=True,
            max_length=PREFERRED_MAX,
        ),
        TextField(
            ROLE,
            "Company and role",
            contact.company_role if contact else "",
            placeholder="Former CFO at Brightline",
            optional=True,
            max_length=SHORT_FIELD_MAX,
        ),
        TextField(
            HOW,
            "How you know each other",
            contact.how_known if contact else "",
            placeholder="She was my boss at Brightline 2016–2020",
            optional=True,
            multiline=True,
            max_length=SHORT_FIELD_MAX,
        ),
        SelectField(
            RELATIONSHIP,
            "Who they are to you",
            tuple(Choice(r.value, r.label) for r in Relationship),
            initial=contact.relationship if contact and contact.relationship else None,
            optional=True,
        ),
        TextField(
            LAST_IN_TOUCH,
            "Last in touch (before Reconnect)",
            show_last_in_touch(contact.last_in_touch) if contact and contact.last_in_touch else "",
            placeholder="March 2019, or years ago",
            optional=True,
            max_length=40,
        ),
        TextField(
            NOTES,
            "Their wins and interests",
            contact.notes if contact else "",
            placeholder="Just promoted to COO; sails every summer; two kids in college",
            optional=True,
            multiline=True,
            max_length=NOTES_MAX,
        ),
        TextField(
            WIN,
            "Their latest news or win",
            contact.win if contact else "",
            placeholder="Got promoted to VP of Finance",
            optional=True,
            max_length=WIN_MAX,
        ),
        SelectField(
            CADENCE,
            "Keep in touch",
            tuple(Choice(s.encode(), _cadence_label(s)) for s in choices),
            initial=current.encode(),
        ),
    )
    if contact is None:
        return Form(FormKind.ADD_CONTACT, "Add contact", "Add", fields)
    return Form(FormKind.EDIT_CONTACT, "Edit contact", "Save", fields, context=str(contact.id))


def log_form(contacts: Sequence[Contact], today: date, selected: Contact | None = None) -> Form:
    """The "Log conversation" form: contact picker, date, note and what you learned."""
    options = list(contacts)
    if selected is not None:
        # The chosen contact goes first, so the picker's cap (100) can never drop it.
        options = [selected, *(c for c in options if c.id != selected.id)]
    fields = (
        SelectField(
            CONTACT,
            "Who did you talk to?",
            tuple(Choice(str(c.id), c.name) for c in options[:100]),
            initial=str(selected.id) if selected else None,
        ),
        DateField(DATE, "When", initial=today),
        TextField(
            NOTE,
            "What did you talk about?",
            optional=True,
            multiline=True,
            placeholder="Coffee; she's hiring a finance lead in Q3",
            max_length=NOTES_MAX,
        ),
        TextField(
            LEARNED,
            "What did you learn about them?",
            optional=True,
            multiline=True,
            placeholder="Her daughter started at Michigan; she's training for a regatta",
            max_length=NOTES_MAX,
        ),
        SelectField(
            RESPONSE,
            "How did they respond?",
            tuple(Choice(e.value, EXPECTATION_LABELS[e].capitalize()) for e in Expectation),
            optional=True,
        ),
        MultiSelectField(
            OUTCOMES,
            "What came of it?",
            tuple(Choice(t.value, OUTCOME_LABELS[t].capitalize()) for t in OutcomeTag),
            optional=True,
        ),
        TextField(
            STEP,
            "A next step they promised?",
            optional=True,
            placeholder="She'll introduce me to the CFO",
            max_length=NEXT_STEP_MAX,
        ),
        DateField(STEP_DUE, "Check on it by", optional=True),
    )
    return Form(
        FormKind.LOG_CONVERSATION,
        "Log conversation",
        "Log it",
        fields,
        intro="Listening is the best part of networking — note what you learned about them.",
    )


@dataclass(frozen=True, slots=True)
class LogEntry:
    """A validated "Log conversation" submission."""

    contact_id: int
    occurred_on: date
    note: str
    learned: str
    response: Expectation | None = None
    outcomes: frozenset[OutcomeTag] = frozenset()
    step: str = ""
    step_due: date | None = None


def read_contact(values: Values, today: date | None = None) -> ContactDraft:
    """Validate an add/edit submission (on the user's ``today``); raises :class:`FieldErrors`."""
    today = today or date.today()
    errors: dict[str, str] = {}
    name = one_line(values.get(NAME) or "")
    if not name:
        errors[NAME] = "Please enter their name."
    elif len(name) > NAME_MAX:
        errors[NAME] = f"Names can be at most {NAME_MAX} characters."
    elif problem := name_problem(name):
        errors[NAME] = problem
    preferred = clean_preferred(values.get(PREFERRED) or "")
    if len(preferred) > PREFERRED_MAX:
        errors[PREFERRED] = f"Please keep this under {PREFERRED_MAX} characters."
    role = one_line(values.get(ROLE) or "")
    how = clean(values.get(HOW) or "")
    notes = clean(values.get(NOTES) or "")
    for key, text, limit in (
        (ROLE, role, SHORT_FIELD_MAX),
        (HOW, how, SHORT_FIELD_MAX),
        (NOTES, notes, NOTES_MAX),
    ):
        if len(text) > limit:
            errors[key] = f"Please keep this under {limit} characters."
    cadence = DEFAULT_CADENCE
    raw = one_line(values.get(CADENCE) or "")  # quoted back in the error: cleaned first
    if raw:
        try:
            cadence = parse_cadence(raw)  # the form's values ("2 months") or "every 3 weeks"
        except CadenceError as exc:
            errors[CADENCE] = str(exc)
    relationship = ""
    raw_tie = one_line(values.get(RELATIONSHIP) or "")
    if raw_tie:
        tie = parse_relationship(raw_tie)
        if tie is None:
            errors[RELATIONSHIP] = "Please choose one of the options."
        else:
            relationship = tie.value
    last_in_touch = None
    try:
        last_in_touch = parse_last_in_touch(one_line(values.get(LAST_IN_TOUCH) or ""), today)
    except WhenError as exc:
        errors[LAST_IN_TOUCH] = str(exc)
    win = one_line(values.get(WIN) or "")
    if len(win) > WIN_MAX:
        errors[WIN] = f"Please keep this under {WIN_MAX} characters."
    if errors:
        raise FieldErrors(errors)
    return ContactDraft(
        name=name,
        cadence=cadence,
        company_role=role,
        how_known=how,
        notes=notes,
        preferred_name=preferred,
        relationship=relationship,
        last_in_touch=last_in_touch,
        win=win,
        win_on=today if win else None,
    )


def name_problem(name: str) -> str | None:
    """Why a cleaned, non-empty name of at most ``NAME_MAX`` characters can't be kept, or ``None``.

    A name must have something to see and to type back (not only accents or invisible
    characters: nobody could find that contact again), and its search key must fit storage.
    """
    if not visible(name):
        return (
            "That name has no letters or numbers I can show — only accents or invisible "
            "characters. Please type their name."
        )
    if len(fold(name)) > NAME_KEY_MAX:
        return (
            "That name uses characters that each stand for a whole phrase (like ﷺ), and "
            "it's too long for me to search by. Please shorten it."
        )
    return None


def read_log(values: Values, today: date) -> LogEntry:
    """Validate a log submission (the contact id is checked against the owner later)."""
    errors: dict[str, str] = {}
    raw_id = (values.get(CONTACT) or "").strip()
    contact_id = parse_count(raw_id, below=2**63)
    if contact_id is None:
        errors[CONTACT] = "Please choose who you talked to."
    occurred = today
    raw_date = (values.get(DATE) or "").strip()
    if raw_date:
        try:
            occurred = date.fromisoformat(raw_date)
        except ValueError:
            errors[DATE] = "Please pick a date."
        else:
            if occurred > today:
                errors[DATE] = "That date is in the future — log conversations once they happen."
            elif occurred < ten_years_before(today):
                errors[DATE] = "That's more than ten years ago — please check the date."
    note = clean(values.get(NOTE) or "")
    learned = clean(values.get(LEARNED) or "")
    for key, text in ((NOTE, note), (LEARNED, learned)):
        if len(text) > NOTES_MAX:
            errors[key] = f"Please keep this under {NOTES_MAX} characters."
    response, outcomes, step, step_due = _read_evidence(values, today, errors)
    if errors:
        raise FieldErrors(errors)
    assert contact_id is not None
    return LogEntry(contact_id, occurred, note, learned, response, outcomes, step, step_due)


def _read_evidence(
    values: Values, today: date, errors: dict[str, str]
) -> tuple[Expectation | None, frozenset[OutcomeTag], str, date | None]:
    """The response, outcomes and next step of a log submission; problems go in ``errors``."""
    raw_response = (values.get(RESPONSE) or "").strip()
    response = parse_expectation(raw_response)
    if raw_response and response is None:
        errors[RESPONSE] = "Please choose one of the answers."
    outcomes: set[OutcomeTag] = set()
    for raw in (values.get(OUTCOMES) or "").split(","):
        if raw.strip():
            try:
                outcomes.add(OutcomeTag(raw.strip()))
            except ValueError:
                errors[OUTCOMES] = "Please choose among the listed outcomes."
    step = one_line(values.get(STEP) or "")
    if len(step) > NEXT_STEP_MAX:
        errors[STEP] = f"Please keep the next step under {NEXT_STEP_MAX} characters."
    step_due: date | None = None
    raw_due = (values.get(STEP_DUE) or "").strip()
    if raw_due:
        try:
            step_due = date.fromisoformat(raw_due)
        except ValueError:
            errors[STEP_DUE] = "Please pick a date."
        else:
            if problem := step_due_problem(step_due, today):
                errors[STEP_DUE] = problem
    if step and raw_due == "":
        errors[STEP_DUE] = "When should I remind you? Pick a date."
    elif raw_due and not step and STEP_DUE not in errors:
        errors[STEP] = "What's the next step? Or clear the date."
    return response, frozenset(outcomes), step, step_due


def _preferred_hint(contact: Contact | None) -> str:
    """The form's hint: what we'd call them without a preferred name ("Dr. Okafor")."""
    default = default_preferred(contact.name) if contact else ""
    return f"Leave empty for “{default}”" if default else "Dana, or a nickname — empty: first name"


def ten_years_before(today: date) -> date:
    """The earliest day a conversation may be logged for: ten calendar years back (counting
    days would refuse the last two or three days of the ten years, for the leap days)."""
    try:
        return today.replace(year=today.year - 10)
    except ValueError:  # 29 February, ten years after a leap year: the 28th
        return today.replace(year=today.year - 10, day=28)


def _cadence_label(span: Span) -> str:
    label = span.every().capitalize()
    if span == Span(12, span.unit) and span.unit.value == "months":
        label = "Every year"
    return label + (" (recommended)" if span == DEFAULT_CADENCE else "")
