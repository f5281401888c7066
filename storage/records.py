"""What the nudge store hands the scheduler and takes back: states, claims, attempts, outcomes.

Plain values, no SQL: ``jobs.runner`` builds and reads them, ``storage.nudges`` stores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from bot.core.courage import EvidenceHint
from bot.core.evidence import NextStep
from bot.core.model import Contact, UserRef
from bot.core.nudges import Activity, NudgeContent, compose_for
from bot.core.ports import DeliveryKind
from bot.core.recap import RecapPrefs
from bot.core.schedule import NudgePrefs

#: The kind of nudge the morning pass sends (``nudges.kind``).
MORNING = "morning"
#: The kind of the weekly recap (``bot.core.recap``), sent by the same machinery.
RECAP = "recap"


class NudgeStatus(StrEnum):
    """A nudge's ``status`` column: claimed → sent | failed | undeliverable.

    The values are what the database stores; a status read back is a plain ``str`` that
    compares equal to its member.
    """

    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    UNDELIVERABLE = "undeliverable"


#: Statuses after which a nudge is never sent again (passes over it, and its content unread).
FINISHED = frozenset({NudgeStatus.SENT, NudgeStatus.UNDELIVERABLE})


class AttemptResult(StrEnum):
    """How a delivery attempt ended (``delivery_attempts.outcome``), when the runner decides it.

    A failed ``post`` is recorded with its ``DeliveryError.kind`` instead (ratelimited,
    transient, permanent).
    """

    SENT = "sent"
    FOUND_EXISTING = "found_existing"  # an earlier, in-doubt attempt had arrived after all
    ABANDONED = "abandoned"  # a dead worker's in-doubt attempt that never arrived
    GAVE_UP = "gave_up"  # out of attempts for this pass
    ERROR = "error"  # a bug while delivering


@dataclass(frozen=True, slots=True)
class Recipient:
    """A user who may receive nudges."""

    id: int
    user: UserRef
    prefs: NudgePrefs
    dm_channel: str | None
    #: When the weekly recap comes (read only by the recap pass).
    recap: RecapPrefs | None = None


@dataclass(frozen=True, slots=True)
class NudgeState:
    """An existing nudge row, as the planner sees it."""

    id: int
    user_id: int
    day: date
    status: str  # a NudgeStatus value
    worker: str
    attempts: int
    content: str
    claimed_at: datetime
    open_attempt: bool = False  # an attempt started and never finished: the send is in doubt


#: Defaults shared by every :class:`ComposeInputs` (immutable, so sharing is safe): a pass
#: makes one set of inputs per user, and building these each time cost ~1.2 µs of ~1.9.
_NO_ACTIVITY = Activity(0, 0, None, None)
_NO_EVIDENCE = EvidenceHint()


@dataclass(slots=True)
class ComposeInputs:
    """What composing one user's nudge needs."""

    candidates: list[Contact] = field(default_factory=list)
    followups: list[Contact] = field(default_factory=list)
    activity: Activity = _NO_ACTIVITY
    prompt_views: dict[str, int] = field(default_factory=dict)
    #: Someone from the pool to offer for the circle (on offer days only; storage.pool_offers).
    pool_offer: Contact | None = None
    #: The weekly goal's progress, "2 of 3 this week" (empty without a goal).
    goal: str = ""
    #: Open next steps due on the user's day (earliest first, at most ``MAX_STEPS``).
    next_steps: list[tuple[NextStep, Contact]] = field(default_factory=list)
    #: Predictions made, and a fear that turned out better (bot.core.courage).
    evidence: EvidenceHint = _NO_EVIDENCE

    def compose(
        self, user: UserRef, day: date, cards: int
    ) -> tuple[NudgeContent, dict[int, Contact]]:
        """``user``'s nudge for ``day`` from these inputs (:func:`bot.core.nudges.compose_for`):
        the one place that hands every input over, for the morning pass and the console."""
        content, contacts = compose_for(
            user,
            day,
            cards=cards,
            candidates=self.candidates,
            followups=self.followups,
            activity=self.activity,
            prompt_views=self.prompt_views,
            pool_offer=self.pool_offer,
            next_steps=self.next_steps,
            evidence=self.evidence,
        )
        if not content.welcome:
            content.goal = self.goal
        return content, contacts


class AttemptStart(NamedTuple):
    """A delivery attempt about to be made, for :meth:`NudgeStore.start_attempts`."""

    nudge_id: int
    number: int
    worker: str
    at: datetime
    content: str  # the nudge's content as stored (JSON)


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """The end of one delivery attempt, for :meth:`NudgeStore.record_outcomes`."""

    nudge_id: int
    user_id: int
    number: int  # 0: no attempt to close (the nudge's status changes only)
    outcome: AttemptResult | DeliveryKind  # how it ended; a failed post: the error's kind
    detail: str = ""
    status: NudgeStatus | None = None  # the nudge's new status, if it changes
    channel: str | None = None
    message_id: str | None = None
    prompt_id: str = ""
    at: datetime | None = None
    # A sent morning nudge: the contacts its cards suggested, and its local day (fair rotation).
    suggested: tuple[int, ...] = ()
    day: date | None = None
    #: ``channel`` is where the user's DM conversation turned out to be: cache it on the user
    #: in the same transaction (instead of a write of its own before the outcome's).
    cache_channel: bool = False


__all__ = [
    "MORNING",
    "RECAP",
    "AttemptOutcome",
    "AttemptResult",
    "AttemptStart",
    "ComposeInputs",
    "NudgeState",
    "NudgeStatus",
    "Recipient",
]
