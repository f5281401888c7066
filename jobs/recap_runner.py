"""The weekly recap pass: the morning pass's machinery, for messages of kind "recap".

Everything that makes the morning nudge arrive exactly once — claims unique per user, kind and
local date; attempts written before each send; take-overs of dead workers' claims; looking for
an in-doubt send before sending again; retries and rate-limit waits — is
:class:`jobs.runner.NudgeRunner`'s, unchanged. This runner only says who is due (the user's
recap day and time, :func:`bot.core.recap.due_recap_day`), what each recap says (composed from
bulk reads, a batch of users per few statements) and how it looks.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import structlog

from bot.core.evidence_report import recap_chart
from bot.core.ports import Messenger
from bot.core.recap import (
    RecapContent,
    RecapInputs,
    RecapPrefs,
    compose_recap,
    due_recap_day,
    render_recap,
)
from bot.core.replies import Reply
from jobs.ports import RecapStorePort
from jobs.runner import Clock, NudgeConfig, NudgeRunner, _Job
from storage.records import RECAP, Recipient

log = structlog.get_logger(__name__)


class RecapRunner(NudgeRunner):
    """Runs weekly recap passes; one per process, beside the morning :class:`NudgeRunner`."""

    kind = RECAP

    def __init__(
        self,
        store: RecapStorePort,
        messengers: Mapping[str, Messenger],
        *,
        config: NudgeConfig | None = None,
        clock: Clock | None = None,
        wall_clock: Clock | None = None,
        worker: str | None = None,
    ) -> None:
        super().__init__(
            store, messengers, config=config, clock=clock, wall_clock=wall_clock, worker=worker
        )
        self.recaps: RecapStorePort = store

    def _due(self, recipient: Recipient, now: datetime) -> date | None:
        recap = recipient.recap or RecapPrefs()
        return due_recap_day(recap, recipient.prefs, now, self.config.grace)

    def _due_key(self, recipient: Recipient) -> Hashable:
        return recipient.recap, recipient.prefs

    async def _read_inputs(self, chunk: list[_Job]) -> Mapping[int, Any]:
        return await self.recaps.recap_inputs({job.recipient.id: job.day for job in chunk})

    def _compose_job(self, job: _Job, inputs: Mapping[int, Any]) -> None:
        recipient = job.recipient
        content = compose_recap(
            recipient.user, job.day, inputs.get(recipient.id) or RecapInputs(), recipient.recap
        )
        job.recap = content
        # Stored with the first attempt, before anything is sent.
        job.content = content.to_json()
        job.prompt_id = content.question_id

    async def _restore(self, job: _Job) -> bool:
        """Reuse a taken-over recap's stored content (what may already have been sent)."""
        try:
            content = RecapContent.from_json(job.content)
        except ValueError:
            return False
        job.recap = content
        job.prompt_id = content.question_id
        return True

    def _render(self, job: _Job) -> Reply | None:
        if job.recap is None:
            return None
        cmd = self.messengers[job.recipient.user.platform].command_prefix
        return render_recap(job.recap, cmd=cmd)

    async def _prepare(self, job: _Job) -> Reply | None:
        """The recap with its evidence chart (a PNG, when there is anything to draw).

        The chart is made here, per message as it is sent, not while composing: composing is
        the pass's bulk part (thousands of users in seconds), and a user's whole record is
        read only for the chart. One read and a few milliseconds of drawing, in a worker
        thread, overlap with other users' sends. A chart that fails is left out; the recap's
        text says what matters anyway."""
        reply = self._render(job)
        if reply is None or job.recap is None:
            return reply
        end = date.fromisoformat(job.recap.end)
        try:
            outreach, talks = await self.recaps.evidence_history(job.recipient.id)
            picture = await recap_chart(outreach, talks, end)
        except Exception:  # the recap goes out without its picture
            log.exception("recaps.chart_failed", user=job.recipient.id)
            return reply
        if picture is None:
            return reply
        return replace(reply, files=(*reply.files, picture))


__all__ = ["RecapRunner"]
