"""Three weeks of mornings for the two users of issue 10, on a controlled clock, on SQLite and
PostgreSQL: the real service adds and logs, the morning nudge is composed, stored and marked
sent as the scheduler does it (``TodayNudge``: compose reads, ranking, ``record_outcomes``).

* An anxious, laid-off VP adds 25 contacts on one day and then logs nothing.
* An energetic manager adds 8 and logs a conversation with the first card every morning.

Every contact must come up within a few mornings, nobody more than twice in any seven days, the
former boss and the dormant ties early; the non-starter sees no "overdue" and gets the gentle
path; the manager, once up to date, gets something useful instead of "Nobody is due".
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.console.render import render
from bot.adapters.console.today import TodayNudge
from bot.core.model import UserRef
from bot.core.nudges import NudgeContent
from bot.core.ranking_views import nothing_due_text
from bot.core.service import Caller, Reconnect
from storage.nudges import NudgeStore
from storage.repository import SqlStore
from tests.support import Clock

VP_CONTACTS = [
    "Marcus Hale as former boss last years ago",
    "Priya Natarajan as peer last 2019",
    "Tom Becker as client last March 2020",
    "Ines Duarte as mentor last years ago",
    "Owen Fraser as report last 2021-06",
    "Lena Park as peer",
    "Sam Ortiz as friend",
    "Grace Liu as report",
    "Hugo Brandt as client",
    "Nadia Karim",
    "Felix Wong",
    "Rosa Marquez",
    "Ben Adler",
    "Chloe Martin",
    "Diego Alvarez",
    "Emma Schultz",
    "Farid Haddad",
    "Greta Nilsson",
    "Henry Osei",
    "Isla Brennan",
    "Jonas Weber",
    "Kira Ivanova",
    "Leo Rossi",
    "Maya Cohen",
    "Noah Fischer",
]
DORMANT = {"Marcus Hale", "Priya Natarajan", "Tom Becker", "Ines Duarte"}
MANAGER_CONTACTS = [
    "Alice Stone as peer",
    "Bruno Costa as former boss last 2020",
    "Cara Doyle as friend",
    "Dev Patel as report",
    "Eva Lund as client",
    "Finn Walsh",
    "Gina Russo as mentor",
    "Hal Moore",
]
CMD = "/reconnect "
WIN_MORNING = 12  # by then the manager is up to date


def _name(line: str) -> str:
    return line.split(" as ")[0]


def _weekdays(start: date, count: int) -> list[date]:
    days: list[date] = []
    day = start
    while len(days) < count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days


def _at_most_twice_a_week(shown: dict[str, list[date]]) -> list[str]:
    """Names suggested three times within any seven days."""
    return [
        name
        for name, days in shown.items()
        for i in range(len(days) - 2)
        if (days[i + 2] - days[i]).days < 7
    ]


async def test_three_weeks_of_mornings_for_the_vp_and_the_manager(
    engine: AsyncEngine, clock: Clock
) -> None:
    store = SqlStore(engine)
    service = Reconnect(store, clock=clock)
    nudges = NudgeStore(engine)
    today = TodayNudge(store, nudges, clock)
    vp = Caller(UserRef("console", "local", "vp"), command=CMD)
    manager = Caller(UserRef("console", "local", "manager"), command=CMD)
    for line in VP_CONTACTS:
        await service.command(vp, f"add {line}")
    for line in MANAGER_CONTACTS:
        await service.command(manager, f"add {line} every 6 weeks")

    mornings = _weekdays(clock.now.date(), 15)
    shown: dict[str, dict[str, list[date]]] = {"vp": defaultdict(list), "mgr": defaultdict(list)}
    first_seen: dict[str, dict[str, int]] = {"vp": {}, "mgr": {}}
    texts: dict[str, list[str]] = {"vp": [], "mgr": []}
    for number, day in enumerate(mornings, start=1):
        clock.now = clock.now.replace(year=day.year, month=day.month, day=day.day, hour=8)
        for who, caller in (("vp", vp), ("mgr", manager)):
            reply = await today.reply(caller.user, CMD)
            text, _ = render(reply)
            texts[who].append(text)
            names = await _card_names(nudges, store, caller, day)
            for name in names:
                shown[who][name].append(day)
                first_seen[who].setdefault(name, number)
            if who == "mgr" and names:
                await service.command(manager, f"log {names[0]} -- coffee, she's hiring")
            if who == "mgr" and number == WIN_MORNING:
                # Up to date, and then some news: a congratulations card, though Cara isn't due.
                await service.command(manager, "win cara -- got promoted to VP")

    vp_names = {_name(line) for line in VP_CONTACTS}
    assert set(first_seen["vp"]) == vp_names  # everyone came up…
    assert max(first_seen["vp"].values()) <= 10  # …within ten mornings (25 people, 3 a day)
    assert first_seen["vp"]["Marcus Hale"] <= 2  # the former boss, early
    assert all(first_seen["vp"][name] <= 4 for name in DORMANT)  # and the dormant ties
    assert _at_most_twice_a_week(shown["vp"]) == []
    # Fair rotation: nobody hogs the cards, nobody is left out.
    counts = sorted(len(days) for days in shown["vp"].values())
    assert counts[-1] - counts[0] <= 2
    # The non-starter sees no "overdue" wording, and gets the gentle path.
    assert not any("overdue" in t or "days past" in t for t in texts["vp"])
    assert all("Today's whole task" in t for t in texts["vp"])
    assert not any("your draft" in t for t in texts["vp"])

    mgr_names = {_name(line) for line in MANAGER_CONTACTS}
    assert set(first_seen["mgr"]) == mgr_names
    assert max(first_seen["mgr"].values()) <= 4
    assert _at_most_twice_a_week(shown["mgr"]) == []
    # Up to date after logging everyone: something useful, never a week of "Nobody is due".
    idle = [
        (day, " ".join(t.split()))
        for day, t in zip(mornings, texts["mgr"], strict=True)
        if "Reached out" not in t
    ]
    assert len(idle) >= 3, "the manager logs every morning: up to date by the second week"
    suggestions = [nothing_due_text(day, CMD) for day, _ in idle]
    assert all(s in t for s, (_, t) in zip(suggestions, idle, strict=True))
    assert all(a != b for a, b in itertools.pairwise(suggestions))  # a different step each day
    assert not any("Nobody is due today — a good day" in t for _, t in idle)
    after = [" ".join(t.split()) for t in texts["mgr"][WIN_MORNING:]]
    assert "Congratulate Cara on getting promoted to VP" in after[0]
    assert "Hi Cara, I just heard you got promoted to VP — congratulations!" in after[0]
    assert not any("Congratulate Cara" in t for t in after[1:])  # once is enough
    assert not any("today's contact" in t.lower() for _, t in idle)


async def _card_names(nudges: NudgeStore, store: SqlStore, caller: Caller, day: date) -> list[str]:
    """The names on the caller's stored nudge for ``day``, in card order."""
    ids = {r.user: r.id for r in await nudges.recipients(["console"])}
    state = (await nudges.existing([day]))[(ids[caller.user], day)]
    content = NudgeContent.from_json(state.content)
    contacts = await nudges.contacts_for(ids[caller.user], [c.contact_id for c in content.cards])
    return [contacts[c.contact_id].name for c in content.cards]
