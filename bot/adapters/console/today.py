"""Today's morning nudge, in the console: composed and rendered as the scheduler does it.

In Slack or Teams the nudge arrives as a DM at the user's local time. The console has no DM,
so it shows the nudge on demand (at start, and with ``today``). The nudge is stored like a
sent one (one per user and local day), so its buttons work through the core exactly as in a
DM, and ``today`` shows it again with what was done. A stored nudge with no card and no
question (the welcome, or "nobody is due") is composed afresh once there is something to show.
"""

from __future__ import annotations

import os
from datetime import date

from bot.core import dates
from bot.core.model import Contact, UserRef
from bot.core.nudges import NudgeContent, render
from bot.core.ports import Store
from bot.core.replies import Reply
from bot.core.service import Caller
from jobs.ports import NudgeStorePort
from storage.records import AttemptOutcome, AttemptResult, AttemptStart, ComposeInputs, NudgeStatus

#: Candidates ranked beyond the number of cards (as the morning pass does).
_EXTRA_CANDIDATES = 3
PLATFORM = "console"


class TodayNudge:
    """Composes, stores and renders the console user's nudge for their local today."""

    def __init__(self, store: Store, nudges: NudgeStorePort, clock: dates.Clock) -> None:
        self.store = store
        self.nudges = nudges
        self.clock = clock
        self.worker = f"console:{os.getpid()}"

    async def __call__(self, caller: Caller) -> Reply:
        """Today's nudge for the caller (stored, so its buttons work)."""
        return await self.reply(caller.user, caller.command)

    async def reply(self, user: UserRef, cmd: str) -> Reply:
        """Today's nudge for ``user`` (stored, so its buttons work)."""
        async with self.store.book(user, write=False):
            pass  # the user's row exists from here on
        recipient = next(
            (r for r in await self.nudges.recipients([user.platform]) if r.user == user), None
        )
        if recipient is None:  # marked undeliverable: cannot happen on the console
            raise LookupError("the console user is not a nudge recipient")
        uid, prefs = recipient.id, recipient.prefs
        day = dates.local_today(self.clock(), prefs.timezone)
        state = (await self.nudges.existing([day])).get((uid, day))
        if state is not None and state.content:
            try:
                stored = NudgeContent.from_json(state.content)
            except ValueError:
                stored = None
            if stored is not None and (stored.cards or stored.followups):
                contacts = await self.nudges.contacts_for(uid, stored.contact_ids())
                return render(stored, contacts, nudge_id=state.id, cmd=cmd)
        inputs = (
            await self.nudges.compose_inputs(
                {uid: day}, candidates_per_user=prefs.cards + _EXTRA_CANDIDATES
            )
        ).get(uid, ComposeInputs())
        content, contacts = _compose(user, day, prefs.cards, inputs)
        now = self.clock()
        if state is None:
            won = await self.nudges.claim([(uid, day)], self.worker, now)
            if uid not in won:  # another console on the same account got there first
                return await self.reply(user, cmd)
            nudge_id, number = won[uid], 1
        else:
            nudge_id, number = state.id, state.attempts + 1
        await self.nudges.start_attempts(
            [AttemptStart(nudge_id, number, self.worker, now, content.to_json())]
        )
        await self.nudges.record_outcomes(
            [
                AttemptOutcome(
                    nudge_id,
                    uid,
                    number,
                    AttemptResult.SENT,
                    status=NudgeStatus.SENT,
                    channel=PLATFORM,
                    message_id=f"{PLATFORM}-{nudge_id}",
                    prompt_id=content.prompt_id,
                    at=now,
                    suggested=tuple(c.contact_id for c in content.cards),
                    day=day,
                )
            ]
        )
        return render(content, contacts, nudge_id=nudge_id, cmd=cmd)


def _compose(
    user: UserRef, day: date, cards: int, inputs: ComposeInputs
) -> tuple[NudgeContent, dict[int, Contact]]:
    """As the morning pass composes (``jobs.runner``)."""
    return inputs.compose(user, day, cards)
