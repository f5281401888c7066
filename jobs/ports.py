"""What the nudge runner needs from storage, as a protocol.

``storage.nudges.NudgeStore`` implements it on SQLite and PostgreSQL (``jobs.app`` wires it in,
so mypy checks it fits); ``tests/fakes/memory_nudges.py`` implements it in memory for the fast
runner tests, and ``tests/jobs/test_nudge_store_contract.py`` holds both to the same behaviour.
The values passed in and out are the plain ones of ``storage.records`` (no SQL there).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Protocol

from bot.core.evidence import ConversationFacts, Outreach
from bot.core.model import Contact
from bot.core.ports import Messenger, Sent
from bot.core.recap import RecapInputs
from bot.core.replies import Reply
from storage.records import AttemptOutcome, AttemptStart, ComposeInputs, NudgeState, Recipient


class NudgeStorePort(Protocol):
    """Workers, claims, compose reads and delivery writes of the morning pass: exactly the
    methods :class:`jobs.runner.NudgeRunner` calls."""

    # --- workers ------------------------------------------------------------------------------

    async def heartbeat(self, worker: str, host: str, pid: int, now: datetime) -> None:
        """Register or refresh a worker (a new one with its host and pid; a known one's
        heartbeat only); forget workers silent for a day."""
        ...

    async def remove_worker(self, worker: str) -> None:
        """Forget a worker that stopped cleanly."""
        ...

    async def workers(self) -> dict[str, tuple[str, int, datetime]]:
        """``{worker id: (host, pid, last heartbeat)}``."""
        ...

    # --- planning -----------------------------------------------------------------------------

    async def recipients(
        self, platforms: Iterable[str], *, after: int = 0, limit: int | None = None
    ) -> list[Recipient]:
        """Every user on these platforms not marked undeliverable; with ``limit``, one keyset
        page: the first ``limit`` of them by id above ``after``, in id order."""
        ...

    async def existing(
        self,
        days: Iterable[date],
        users: Sequence[int] | None = None,
        *,
        finished_content: bool = True,
    ) -> dict[tuple[int, date], NudgeState]:
        """Morning nudges already claimed for these local dates, by ``(user id, date)`` (with
        ``users``, only theirs); a nudge with an attempt that never finished has
        ``open_attempt`` set. ``finished_content=False``: a nudge sent or undeliverable comes
        with ``content=""`` (a pass only reuses an unfinished one's)."""
        ...

    async def claim(
        self,
        wanted: Sequence[tuple[int, date]],
        worker: str,
        now: datetime,
        *,
        page: int | None = None,
    ) -> dict[int, int]:
        """Claim a morning nudge per ``(user id, local date)`` — one per user, kind and date —
        and return ``{user id: nudge id}`` of the claims won (an existing nudge wins). With
        ``page`` (the first user id of the page ``wanted`` comes from), claim nothing when
        another worker is claiming that page at this moment, rather than wait for it."""
        ...

    async def refresh_statistics(self) -> None:
        """Have the database look at the nudges table again, after a pass claimed many: its
        planner otherwise plans the next passes' reads of the day's claims for the table as it
        last saw it (empty, on a server without autovacuum). Best effort: never raises."""
        ...

    async def take_over(self, state: NudgeState, worker: str, now: datetime) -> bool:
        """Compare-and-set: make ``worker`` the claimant (status claimed, ``claimed_at=now``)
        if the nudge still has ``state``'s worker and status; ``False`` otherwise."""
        ...

    # --- composing ----------------------------------------------------------------------------

    async def compose_inputs(
        self, users: dict[int, date], *, candidates_per_user: int
    ) -> dict[int, ComposeInputs]:
        """What composing each user's nudge for their local date needs (one batch)."""
        ...

    async def contacts_for(self, user_id: int, contact_ids: list[int]) -> dict[int, Contact]:
        """A user's contacts among ``contact_ids``, by id (others' are absent)."""
        ...

    # --- delivering ---------------------------------------------------------------------------

    async def start_attempts(self, attempts: Sequence[AttemptStart]) -> None:
        """Open attempts (an existing number is kept) and store the nudges' attempt count and
        content, before anything is sent."""
        ...

    async def record_outcomes(self, outcomes: Sequence[AttemptOutcome]) -> None:
        """Close attempts and update nudges, undeliverable users, cached DM channels
        (``cache_channel``) and prompt views, together."""
        ...

    async def set_dm_channels(self, channels: dict[int, str | None]) -> None:
        """Cache (or forget, with ``None``) users' DM channel ids."""
        ...

    async def record_delivery(
        self,
        starts: Sequence[AttemptStart],
        outcomes: Sequence[AttemptOutcome],
        channels: dict[int, str | None],
    ) -> None:
        """:meth:`start_attempts`, :meth:`record_outcomes` and :meth:`set_dm_channels` of many
        sends, in one transaction (none of them touches what another one in the group does)."""
        ...


class RecapStorePort(NudgeStorePort, Protocol):
    """The same, for weekly recaps (claims of kind "recap"), and what composing them needs:
    exactly the methods :class:`jobs.recap_runner.RecapRunner` calls."""

    async def recap_inputs(self, users: dict[int, date]) -> dict[int, RecapInputs]:
        """What composing each user's recap for their local recap day needs (one batch)."""
        ...

    async def evidence_history(
        self, user_id: int
    ) -> tuple[list[Outreach], list[ConversationFacts]]:
        """One user's outreach and conversations, for the chart that goes with their recap."""
        ...


class ChannelMessenger(Messenger, Protocol):
    """A messenger that can also post in a group's channel (``jobs.group_runner``)."""

    async def post_to_channel(
        self, channel: str, reference: str | None, reply: Reply, key: str
    ) -> Sent:
        """Post ``reply`` in the channel ``channel`` (Slack: its id; Teams: proactively, with
        the channel's stored conversation ``reference``), tagged with ``key`` where the
        platform lets :meth:`Messenger.find` look for it again."""
        ...


__all__ = ["ChannelMessenger", "NudgeStorePort", "RecapStorePort"]
