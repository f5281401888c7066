"""The core's domain types: who is asking, and the contacts they keep."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bot.core.cadence import DEFAULT_CADENCE, Span

#: Limits on what users type, chosen to fit every platform's display limits with room to spare.
NAME_MAX = 80
SHORT_FIELD_MAX = 200
NOTES_MAX = 1500
COMMAND_MAX = 3000


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

    @property
    def first_name(self) -> str:
        """The first word of the name, for friendly replies."""
        return self.name.split(" ", 1)[0]

    def days_overdue(self, today: date) -> int:
        """Days since the contact fell due (0 when due today, negative when not yet due)."""
        return (today - self.next_due_on).days


@dataclass(frozen=True, slots=True)
class ContactDraft:
    """The fields of a contact being added or edited, already validated."""

    name: str
    cadence: Span = DEFAULT_CADENCE
    company_role: str = ""
    how_known: str = ""
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Conversation:
    """One logged conversation with a contact."""

    contact_id: int
    occurred_on: date
    note: str = ""
    learned: str = ""
    kind: str = "conversation"  # or "outreach": "Reached out" on a morning card


class DuplicateContactError(Exception):
    """Raised by storage when the owner already has a contact with the same folded name."""

    def __init__(self, existing: Contact) -> None:
        super().__init__(existing.name)
        self.existing = existing
