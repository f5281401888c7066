"""``ranking.rank``'s written-out sort key equals the functions it stands for."""

from __future__ import annotations

import random
from datetime import date, timedelta

from bot.core.cadence import Span, Unit
from bot.core.model import Contact
from bot.core.ranking import _order, congratulate, rank, rotation_key, score
from bot.core.relationships import YEARS_AGO, Relationship

TODAY = date(2026, 11, 30)


def _maybe_day(rng: random.Random, spread: int) -> date | None:
    if rng.random() < 0.3:
        return None
    return TODAY - timedelta(days=rng.randint(-10, spread))


def _contacts(rng: random.Random, count: int) -> list[Contact]:
    ties = ["", "other", *(r.value for r in Relationship)]
    out = []
    for cid in range(1, count + 1):
        last = _maybe_day(rng, 3000)
        touch = YEARS_AGO if rng.random() < 0.15 else _maybe_day(rng, 4000)
        shown = _maybe_day(rng, 20)
        out.append(
            Contact(
                cid,
                rng.choice(["Dana Whitfield", "Li Wei", "Sam O'Neil"]),
                Span(rng.randint(1, 6), rng.choice(list(Unit))),
                company_role=rng.choice(["", "VP"]),
                how_known=rng.choice(["", "", "school"]),
                notes=rng.choice(["", "", "loves sailing"]),
                last_contacted_on=last,
                next_due_on=TODAY - timedelta(days=rng.randint(-5, 400)),
                created_on=TODAY - timedelta(days=rng.randint(0, 2000)),
                relationship=rng.choice(ties),
                last_in_touch=touch,
                win=rng.choice(["", "", "got promoted to VP"]),
                win_on=_maybe_day(rng, 40),
                suggested_on=shown,
                suggested_before_on=_maybe_day(rng, 30) if shown else None,
            )
        )
    return out


def test_the_sort_key_is_congratulate_rotation_score_due_and_a_hash() -> None:
    rng = random.Random(14)
    contacts = _contacts(rng, 3000)
    day = TODAY.toordinal()
    for c in contacts:
        expected = (
            0 if c.win and congratulate(c, TODAY) else 1,
            rotation_key(c),
            -score(c, TODAY),
            c.next_due_on,
            hash((c.id, day)),
            c.id,
            c,
        )
        assert _order(c, TODAY, day) == expected
    # Every branch of the key is reached by these contacts.
    firsts = {_order(c, TODAY, day)[0] for c in contacts}
    assert firsts == {0, 1}


def test_rank_orders_by_the_key() -> None:
    rng = random.Random(15)
    for _ in range(200):
        contacts = _contacts(rng, rng.randint(1, 9))
        picks = rank(contacts, TODAY, limit=3)
        day = TODAY.toordinal()
        keys = []
        for c in contacts:
            first = 0 if c.win and congratulate(c, TODAY) else 1
            due, mixed = c.next_due_on, hash((c.id, day))
            keys.append((first, rotation_key(c), -score(c, TODAY), due, mixed, c.id))
        expected = sorted(keys)[:3]
        assert [p.contact.id for p in picks] == [key[-1] for key in expected]
        assert [p.score for p in picks] == [-key[2] for key in expected]
