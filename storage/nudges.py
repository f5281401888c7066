"""Persistence for the nudge scheduler: who may get a nudge, claims, attempts and outcomes.

Everything here is written for thousands of users per pass: set-based queries in batches, and
writes that callers group into few transactions (see ``jobs.batching``). The store is put
together from one module per concern:

* ``storage.nudge_claims`` — worker heartbeats, who is due, claims and take-overs;
* ``storage.compose_reads`` — what composing each nudge needs;
* ``storage.delivery`` — attempts, outcomes and cached DM channels;
* ``storage.dialect`` — the SQLite and PostgreSQL ways of doing them;
* ``storage.records`` — the values passed in and out, and the status enums.
"""

from __future__ import annotations

from storage.compose_reads import ComposeReads
from storage.delivery import DeliveryWrites
from storage.nudge_claims import ClaimStore
from storage.records import (
    MORNING,
    AttemptOutcome,
    AttemptResult,
    AttemptStart,
    ComposeInputs,
    NudgeState,
    NudgeStatus,
    Recipient,
)


class NudgeStore(ClaimStore, ComposeReads, DeliveryWrites):
    """Set-based queries and writes for the scheduler."""


__all__ = [
    "MORNING",
    "AttemptOutcome",
    "AttemptResult",
    "AttemptStart",
    "ComposeInputs",
    "NudgeState",
    "NudgeStatus",
    "NudgeStore",
    "Recipient",
]
