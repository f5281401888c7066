"""The core's domain types: who is asking, and the contacts they keep.

The rules for keeping in touch live here, on :class:`Contact`: logging a conversation, reaching
out, snoozing, skipping, following up and editing. They change the contact in memory only;
the service stores the result (and any :class:`Conversation` a rule returns).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.core.cadence import DEFAULT_CADENCE, Span, horizon, later
from bot.core.evidence import Expectation, OutcomeTag
from bot.core.names import address

#: Limits on what users type, chosen to fit every platform's display limits with room to spare.
NAME_MAX = 80
#: Longest search key of a name (storage: ``contacts.name_key`` is VARCHAR(240)). The key is the
#: name folded for matching (:func:`bot.core.text.fold`), which can be longer than the name:
#: NFKD spells some single characters out (U+FDFA, ﷺ, becomes 18 letters).
NAME_KEY_MAX = 240
SHORT_FIELD_MAX = 200
NOTES_MAX = 1500
#: Longest e-mail address (RFC 5321's path limit) and LinkedIn profile URL kept (imports).
EMAIL_MAX = 254
URL_MAX = 500
#: The due date of a contact in the pool (imported, not yet chosen): never due, so no query
#: that looks for due contacts (the morning pass, ``due``) can pick one up by mistake. Far
#: enough from ``date.max`` that date arithmetic on it cannot overflow.
POOL_DUE = date(9000, 1, 1)
COMMAND_MAX = 3000
#: Ids are BIGINT: anything outside (0, 2**63) cannot name a contact (or a nudge).
MAX_ID = 2**63


@dataclass(frozen=True, slots=True)
class UserRef:
    """A person on one platform: ``UserRef("slack", "T123", "U456")``.

    ``workspace_id`` is a Slack team id or a Teams tenant id; together the three fields identify
    the owner of every contact, and every storage query is scoped by them.
    """

    platform: str
    workspace_id: str
    user_id: str


@dataclass(slots=True)
class Contact:
    """Someone the user wants to stay in touch with."""

    id: int
    name: str
    cadence: Span = DEFAULT_CADENCE
    company_role: str = ""
    how_known: str = ""
    notes: str = ""
    last_contacted_on: date | None = None
    next_due_on: date = field(default_factory=date.today)
    last_note: str = ""
    created_on: date = field(default_factory=date.today)
    skipped_on: date | None = None
    reached_out_on: date | None = None
    follow_up_on: date | None = None
    #: What they like to be called ("" = worked out from the name: see :mod:`bot.core.names`).
    preferred_name: str = ""
    # From imports (LinkedIn, Google Contacts, vCard).
    email: str = ""
    linkedin_url: str = ""
    connected_on: date | None = None
    #: Imported but not chosen yet: in the pool, with no cadence (due :data:`POOL_DUE`).
    in_pool: bool = False
    # Issue 10 (ranking): what the user remembers of the tie, their latest news, and when the
    # morning nudge last suggested them (fair rotation). Appended last: positional rows
    # (``storage.dialect``) fill the fields above in order.
    relationship: str = ""  # a :class:`~bot.core.relationships.Relationship` value, or ""
    last_in_touch: date | None = None  # before Reconnect; YEARS_AGO when only "years ago"
    win: str = ""  # their latest news or win ("got promoted to VP")
    win_on: date | None = None
    suggested_on: date | None = None  # the last morning nudge that suggested them
    suggested_before_on: date | None = None  # the one before that

    @property
    def first_name(self) -> str:
        """What to call them in friendly replies: their preferred name, else the first given
        name ("Dana"), "Dr. Okafor" for a titled name, "Li" for "WANG Li"."""
        return address(self.name, self.preferred_name) or self.name.split(" ", 1)[0]

    def days_overdue(self, today: date) -> int:
        """Days since the contact fell due (0 when due today, negative when not yet due)."""
        return (today - self.next_due_on).days

    # --- rules -----------------------------------------------------------------------------

    def log_conversation(self, on: date, note: str = "", learned: str = "") -> Conversation:
        """You talked on ``on``: the cadence restarts from then (unless a newer conversation is
        already logged), the note becomes the last note, and no follow-up question is pending.
        Returns the conversation to record."""
        if self._restart_cadence(on):
            self.last_note = note or learned or self.last_note
        self.follow_up_on = None  # you talked: no need to ask whether they replied
        return Conversation(self.id, on, note, learned)

    def reach_out(self, today: date, *, follow_up_after: timedelta) -> Conversation:
        """ "Reached out" today: counts as contact (restarts the cadence, as a conversation
        does) and asks ``follow_up_after`` later whether they replied. Returns the outreach to
        record."""
        self._restart_cadence(today)
        self.reached_out_on = today
        self.follow_up_on = later(today, follow_up_after)
        return Conversation(self.id, today, kind="outreach")

    def snooze(self, span: Span, today: date) -> bool:
        """Not now: due ``span`` after today, or after the due date if that is later — but never
        past the :func:`~bot.core.cadence.horizon` (two years from today). Returns whether the
        horizon cut the snooze short."""
        wanted = span.after(max(today, self.next_due_on))
        self.next_due_on = min(wanted, horizon(today))
        return wanted > self.next_due_on

    def skip(self, today: date) -> None:
        """ "Not this one" on today's nudge: left out of today's nudges, due date unchanged."""
        self.skipped_on = today

    def ask_again_later(self, today: date, after: timedelta) -> date:
        """Ask whether they replied again ``after`` from today; returns that day."""
        self.follow_up_on = ask_on = min(later(today, after), horizon(today))
        return ask_on

    def drop_follow_up(self) -> None:
        """Stop asking whether they replied."""
        self.follow_up_on = None

    def apply(self, draft: ContactDraft) -> None:
        """Take the edited details. A new cadence counts from the last conversation, if any."""
        cadence_changed = draft.cadence != self.cadence
        self.name = draft.name
        self.company_role = draft.company_role
        self.how_known = draft.how_known
        self.notes = draft.notes
        self.preferred_name = draft.preferred_name
        self.cadence = draft.cadence
        self.relationship = draft.relationship
        self.last_in_touch = draft.last_in_touch
        if draft.win != self.win:
            self.win, self.win_on = draft.win, draft.win_on if draft.win else None
        if cadence_changed and self.last_contacted_on is not None:
            self.next_due_on = draft.cadence.after(self.last_contacted_on)

    def record_win(self, text: str, on: date) -> None:
        """Their latest news or win, noted on ``on`` (replaces the previous one)."""
        self.win, self.win_on = text, on

    def mark_suggested(self, on: date) -> None:
        """A morning nudge suggested them on ``on`` (a second suggestion that day is the same)."""
        if self.suggested_on != on:
            self.suggested_before_on, self.suggested_on = self.suggested_on, on

    def _restart_cadence(self, on: date) -> bool:
        """Restart the cadence from ``on`` if that is the newest contact; whether it did."""
        if self.last_contacted_on is not None and on < self.last_contacted_on:
            return False
        self.last_contacted_on = on
        self.next_due_on = self.cadence.after(on)
        return True


@dataclass(frozen=True, slots=True)
class ContactDraft:
    """The fields of a contact being added or edited, already validated."""

    name: str
    cadence: Span = DEFAULT_CADENCE
    company_role: str = ""
    how_known: str = ""
    notes: str = ""
    preferred_name: str = ""
    relationship: str = ""
    last_in_touch: date | None = None
    win: str = ""
    win_on: date | None = None  # the day the win was entered

    def new_contact(self, contact_id: int, *, due_on: date, today: date) -> Contact:
        """The contact this draft becomes when added as ``contact_id``, first due ``due_on``."""
        return Contact(
            id=contact_id,
            name=self.name,
            cadence=self.cadence,
            company_role=self.company_role,
            how_known=self.how_known,
            notes=self.notes,
            preferred_name=self.preferred_name,
            next_due_on=due_on,
            created_on=today,
            relationship=self.relationship,
            last_in_touch=self.last_in_touch,
            win=self.win,
            win_on=(self.win_on or today) if self.win else None,
        )


@dataclass(frozen=True, slots=True)
class Conversation:
    """One logged conversation with a contact."""

    contact_id: int
    occurred_on: date
    note: str = ""
    learned: str = ""
    kind: str = "conversation"  # or "outreach": "Reached out" on a morning card
    #: How they responded (the prediction scale), when the user said.
    response: Expectation | None = None
    #: What came of it (several tags may apply).
    outcomes: frozenset[OutcomeTag] = frozenset()


class DuplicateContactError(Exception):
    """Raised by storage when the owner already has a contact with the same folded name."""

    def __init__(self, existing: Contact) -> None:
        super().__init__(existing.name)
        self.existing = existing


class ContactGone(LookupError):
    """Raised by storage when a contact vanished under a request (removed by a concurrent one).

    The core adds the contact's ``name`` when it knows it, to say who was just removed.
    """

    def __init__(self, contact_id: int, name: str | None = None) -> None:
        super().__init__(f"no such contact for this owner: {contact_id}")
        self.contact_id = contact_id
        self.name = name
