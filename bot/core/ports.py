"""What the core needs from storage, as protocols; ``storage.repository`` implements them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from bot.core.cadence import Span
from bot.core.evidence import ConversationFacts, Expectation, NextStep, Outreach, StepStatus
from bot.core.goals import GoalChange, Reach
from bot.core.model import Contact, ContactDraft, Conversation, UserRef
from bot.core.recap import RecapInputs, RecapPrefs
from bot.core.replies import Reply
from bot.core.schedule import NudgePrefs


@dataclass(frozen=True, slots=True)
class NudgeRecord:
    """A nudge that was sent to the user, as stored."""

    id: int
    day: date
    content: str
    channel: str | None
    message_id: str | None


@dataclass(frozen=True, slots=True)
class DueSummary:
    """Who is due (the first few, most overdue first) and the owner's counts, read together."""

    contacts: list[Contact]
    #: How many contacts are due on or before the day asked about (may exceed ``contacts``).
    total_due: int
    #: How many contacts the owner has.
    total: int


@dataclass(frozen=True, slots=True)
class UserData:
    """Everything stored about one user, for an export (``export``).

    ``profile`` is the user's settings; ``sections`` are named lists of records (``contacts``,
    ``conversations``, ``nudges``, and whatever later tables add), each a JSON-ready dict.
    """

    profile: dict[str, Any]
    sections: dict[str, list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Erased:
    """What ``delete my data`` removed (counts, for the confirmation)."""

    contacts: int = 0
    conversations: int = 0
    nudges: int = 0


class ContactBook(Protocol):
    """One user's contacts inside one transaction. Every method is scoped to that user.

    A ``ContactBook`` is only ever handed out for a single owner, so a contact id taken from a
    button or a form that belongs to someone else simply is not found.
    """

    timezone: str

    async def add(self, draft: ContactDraft, *, due_on: date, today: date) -> Contact:
        """Insert a contact; raises :class:`~bot.core.model.DuplicateContactError`."""
        ...

    async def get(self, contact_id: int) -> Contact | None:
        """The owner's contact with this id, or ``None``."""
        ...

    async def names(self) -> list[tuple[int, str]]:
        """``(id, name)`` of every contact, for fuzzy matching."""
        ...

    async def named(self, name: str) -> Contact | None:
        """The contact whose name is ``name`` exactly, ignoring case, accents and spacing (as
        :func:`~bot.core.text.fold` compares names), or ``None``. One look-up by the name's
        key: a typed full name then needs neither every name nor a fuzzy match."""
        ...

    async def page(self, *, offset: int, limit: int) -> list[Contact]:
        """Contacts in name order."""
        ...

    async def count(self) -> int:
        """How many contacts the owner has."""
        ...

    async def due_summary(self, today: date, *, limit: int) -> DueSummary:
        """At most ``limit`` contacts due on or before ``today`` (most overdue first, then by
        name), how many are due in all, and how many contacts there are: one read."""
        ...

    async def upcoming(self, *, limit: int) -> list[Contact]:
        """Contacts in due-date order, due or not (for pickers)."""
        ...

    async def save(self, contact: Contact) -> None:
        """Write back an edited contact; raises ``DuplicateContactError`` on a name clash."""
        ...

    async def delete(self, contact_id: int) -> bool:
        """Delete a contact and its conversations; ``False`` when there was none."""
        ...

    async def log(self, conversation: Conversation) -> None:
        """Record a conversation; raises :class:`~bot.core.model.ContactGone` when the contact
        is not (or no longer) there."""
        ...

    async def history(self, contact_id: int, *, limit: int) -> list[Conversation]:
        """The contact's latest ``limit`` conversations and outreaches (newest first)."""
        ...

    async def add_learned(self, contact_id: int, on: date, learned: str) -> bool:
        """Record ``learned`` on the contact's latest conversation of day ``on`` that has nothing
        learned yet; ``False`` (and no change) when there is none."""
        ...

    async def count_conversations(self) -> int:
        """How many conversations the owner has logged."""
        ...

    async def get_many(self, contact_ids: list[int]) -> dict[int, Contact]:
        """The owner's contacts among ``contact_ids``, by id (others are simply absent)."""
        ...

    async def prefs(self) -> NudgePrefs:
        """The owner's nudge settings (time zone included)."""
        ...

    async def save_prefs(self, prefs: NudgePrefs, *, timezone_from_user: bool) -> None:
        """Store nudge settings. ``timezone_from_user`` stops platform refreshes overriding it."""
        ...

    async def nudge(self, nudge_id: int) -> NudgeRecord | None:
        """The owner's nudge with this id, or ``None`` (someone else's is ``None`` too)."""
        ...

    async def save_nudge_content(self, nudge_id: int, content: str) -> None:
        """Store a nudge's updated content (card states)."""
        ...

    async def export_data(self) -> UserData:
        """Everything stored about the owner (see :class:`UserData`)."""
        ...

    async def erase_all(self) -> Erased:
        """Delete everything of the owner, their user row included, in this transaction."""
        ...

    # --- imports and the pool (bot.core.imports) -------------------------------------------

    async def everyone(self) -> list[Contact]:
        """Every contact, circle and pool: what an import deduplicates against."""
        ...

    async def import_people(
        self, new: Sequence[Contact], merged: Sequence[Contact], *, today: date
    ) -> None:
        """Put ``new`` people (ids ignored) in the pool and store the fields of ``merged``
        contacts; all in the book's transaction."""
        ...

    async def pool(self) -> list[Contact]:
        """Everyone in the pool (imported, not yet chosen for the circle)."""
        ...

    async def join_circle(
        self, contact_ids: Sequence[int], *, cadence: Span, today: date
    ) -> list[Contact]:
        """Move pool contacts among ``contact_ids`` into the circle, due ``today``; returns
        those moved."""
        ...

    async def pool_decline(self, contact_id: int, today: date) -> Contact | None:
        """Mark a pool contact as offered and declined today; ``None`` if not in the pool."""

    # --- the weekly goal and recap (bot.core.goals, bot.core.recap) ---------------------------

    async def goal_changes(self) -> list[GoalChange]:
        """Every weekly goal the owner has set, oldest week first."""
        ...

    async def set_goal(self, week: date, goal: int) -> None:
        """Make ``goal`` (0: none) the goal from the week starting ``week`` on, replacing any
        set for that week or later ones."""
        ...

    async def week_record(self, since: date) -> tuple[list[GoalChange], list[Reach]]:
        """Every goal set (oldest week first), and everyone reached ("Reached out" or a logged
        conversation) on or after ``since``: what the goal's progress and streak need."""
        ...

    async def recap_prefs(self) -> RecapPrefs:
        """When the owner's weekly recap comes."""
        ...

    async def save_recap_prefs(self, prefs: RecapPrefs) -> None:
        """Store when the weekly recap comes."""
        ...

    async def recap_inputs(self, day: date) -> RecapInputs:
        """What composing the owner's recap for the local date ``day`` needs."""
        ...

    # --- predictions, outcomes and next steps (bot.core.evidence) ---------------------------

    async def record_outreach(
        self, contact_id: int, reached_on: date, *, previous_contact_on: date | None
    ) -> Outreach:
        """Record a "Reached out" (no prediction yet); raises
        :class:`~bot.core.model.ContactGone` when the contact is not the owner's."""
        ...

    async def outreach(self, outreach_id: int) -> Outreach | None:
        """The owner's outreach with this id, or ``None``."""
        ...

    async def latest_outreach(self, contact_id: int) -> Outreach | None:
        """The owner's most recent outreach to this contact (latest date, then id), if any."""
        ...

    async def set_outreach(
        self,
        outreach_id: int,
        *,
        expected: Expectation | None,
        actual: Expectation | None,
        replied_on: date | None,
    ) -> bool:
        """Write an outreach's prediction and result; ``False`` when it is not the owner's."""
        ...

    async def evidence_history(
        self, since: date | None
    ) -> tuple[list[Outreach], list[ConversationFacts]]:
        """Outreach and logged conversations (not outreach rows) dated ``since`` or later
        (everything when ``None``), oldest first: what :func:`~bot.core.evidence.summarize`
        reads."""
        ...

    async def add_next_step(self, contact_id: int, text: str, due_on: date) -> NextStep:
        """Record an open next step; raises ``ContactGone`` when the contact is not the owner's."""
        ...

    async def next_step(self, step_id: int) -> NextStep | None:
        """The owner's next step with this id, or ``None``."""
        ...

    async def set_next_step(self, step_id: int, *, status: StepStatus, due_on: date) -> bool:
        """Change a next step's status and date; ``False`` when it is not the owner's."""
        ...

    async def next_steps_due(self, on: date, *, limit: int) -> list[NextStep]:
        """Open next steps due on or before ``on``, earliest first (then by id)."""
        ...

    async def open_next_steps(self, *, limit: int) -> list[NextStep]:
        """Open next steps, due or not, earliest first (then by id)."""
        ...


class Store(Protocol):
    """Hands out :class:`ContactBook` units of work and reports whether the database answers."""

    def book(
        self, user: UserRef, *, write: bool = True
    ) -> AbstractAsyncContextManager[ContactBook]:
        """A transaction over ``user``'s contacts: committed on exit, rolled back on error.

        ``write=False`` promises the transaction only reads (the store may run it alongside
        others); the user's row may still be created on first use.
        """
        ...

    async def in_book[T](
        self, user: UserRef, work: Callable[[ContactBook], Awaitable[T]], *, write: bool = True
    ) -> T:
        """Run ``work`` in :meth:`book`; a write that lost to a concurrent one (a serialization
        failure or deadlock the database resolved by aborting it) is run once more, afresh."""
        ...

    async def ping(self) -> bool:
        """``True`` when the database answers a trivial query."""
        ...

    async def set_timezone(self, user: UserRef, timezone: str) -> None:
        """Record the user's IANA time zone (from their platform profile)."""
        ...


class DeliveryKind(StrEnum):
    """What a failed delivery means for the next try (recorded as the attempt's outcome)."""

    RATELIMITED = "ratelimited"  # wait ``retry_after`` seconds; nothing was sent
    TRANSIENT = "transient"  # 5xx or a lost connection: it may or may not have been sent
    PERMANENT = "permanent"  # the user cannot be reached: stop trying


class DeliveryError(Exception):
    """A platform refused or failed to deliver a message: ``kind`` says what to do next,
    ``code`` is the platform's word."""

    def __init__(self, kind: DeliveryKind, code: str, retry_after: float | None = None) -> None:
        super().__init__(f"{kind}: {code}")
        self.kind = kind
        self.code = code
        self.retry_after = retry_after

    @property
    def permanent(self) -> bool:
        """Whether retrying is pointless."""
        return self.kind == DeliveryKind.PERMANENT

    @property
    def ratelimited(self) -> bool:
        """Whether this is a wait (429), not a failure."""
        return self.kind == DeliveryKind.RATELIMITED


@dataclass(frozen=True, slots=True)
class Sent:
    """A message that went out: the conversation it landed in, and its id there."""

    channel: str
    message_id: str


class Messenger(Protocol):
    """Sends proactive messages (the morning nudges) on one platform."""

    platform: str
    #: How commands are typed there, for hints in messages ("/reconnect ").
    command_prefix: str

    async def open_channel(self, user: UserRef) -> str:
        """The id of the direct-message conversation with ``user``."""
        ...

    def direct_address(self, user: UserRef) -> str | None:
        """Something :meth:`post` accepts as ``channel`` that reaches ``user``'s direct
        messages without opening the conversation first (Slack: the user id), or ``None``."""
        ...

    async def post(self, channel: str, reply: Reply, key: str) -> Sent:
        """Send ``reply``, tagged with ``key``; returns where it landed and its id."""
        ...

    async def find(self, channel: str, key: str, since: datetime) -> str | None:
        """The id of a message tagged ``key`` sent since ``since``, if one exists.

        Used after a crash or an ambiguous failure, so a retry never sends twice.
        """
        ...

    async def close(self) -> None:
        """Release connections (at shutdown)."""
        ...


class ConversationReferences(Protocol):
    """Where a platform that can't open a direct chat itself (Teams) reaches each user.

    A reference is the platform's opaque description of a personal chat (on Teams, a
    ``ConversationReference`` as JSON), captured when the user installs the app or writes to it.
    """

    async def save_reference(self, user: UserRef, conversation_id: str, reference: str) -> None:
        """Store (or refresh) where to reach ``user`` proactively; they are reachable again."""
        ...

    async def forget_reference(self, user: UserRef) -> None:
        """The app was removed from the user's personal scope: stop proactive messages."""
        ...

    async def reference_for_user(self, user: UserRef) -> tuple[str, str] | None:
        """``(conversation id, reference)`` for ``user``, if the bot can reach them."""
        ...

    async def reference_for_conversation(self, conversation_id: str) -> str | None:
        """The stored reference of a personal conversation, if any."""
        ...


@runtime_checkable
class Uninstalls(Protocol):
    """What happens to stored data when a platform says the app was removed."""

    async def erase_workspace(self, platform: str, workspace_id: str) -> int:
        """Delete every user of a workspace (the app was uninstalled); how many there were."""
        ...

    async def erase_users(self, platform: str, workspace_id: str, user_ids: list[str]) -> int:
        """Delete these users of a workspace (their tokens were revoked); how many there were."""
        ...
