"""Issue 10: relationship, last in touch, wins, fair rotation, overdue wording and the log bound —
through the parser, the forms and the service on the in-memory store."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from bot.core import commands as c
from bot.core import forms, prompts
from bot.core.model import Contact
from bot.core.nudges import Activity, compose, render
from bot.core.ranking import (
    eligible,
    rank,
    rotation_key,
    value_points,
    why,
    within_weekly_limit,
)
from bot.core.ranking_views import added_prompt, nothing_due_text
from bot.core.relationships import (
    YEARS_AGO,
    Relationship,
    WhenError,
    parse_last_in_touch,
    parse_relationship,
    show_last_in_touch,
)
from bot.core.replies import Form, FormErrors
from bot.core.service import Reconnect
from bot.core.views import status_line
from bot.core.wins import congratulate_opener, congratulate_title
from tests.core.test_service import ADA, BOB, buttons, contact_named, text
from tests.fakes.memory_store import MemoryStore
from tests.support import Clock

TODAY = date(2026, 11, 25)


@pytest.fixture
def store() -> MemoryStore:
    """The in-memory store."""
    return MemoryStore()


@pytest.fixture
def service(store: MemoryStore, clock: Clock) -> Reconnect:
    """The service on the in-memory store and the test clock (2026-11-25)."""
    return Reconnect(store, clock=clock)


def person(i: int, **kw: object) -> Contact:
    defaults: dict[str, object] = {"name": f"Person{i} Last", "next_due_on": TODAY,
                                   "created_on": TODAY - timedelta(days=3)}  # fmt: skip
    defaults.update(kw)
    return Contact(id=i, **defaults)  # type: ignore[arg-type]


# --- grammar ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "name", "tie", "last", "cadence"),
    [
        ("add Dana Whitfield as former boss last March 2019 every 2 months -- sails",
         "Dana Whitfield", "boss", "March 2019", "2 months"),
        ("add Dana every 2 months last 2019 as my mentor", "Dana", "mentor", "2019", "2 months"),
        ("add Dana last years ago as report", "Dana", "report", "years ago", None),
        ("add Laszlo Last", "Laszlo Last", "", "", None),
        ("add Dana as singer", "Dana as singer", "", "", None),
        ("add Ann Last Name every 2 weeks", "Ann Last Name", "", "", "2 weeks"),
        ("add Raj last in touch 3/2021 as client", "Raj", "client", "3/2021", None),
    ],
)  # fmt: skip
def test_add_grammar_takes_relationship_and_last_in_touch_in_any_order(
    typed: str, name: str, tie: str, last: str, cadence: str | None
) -> None:
    command = c.parse(typed)
    assert isinstance(command, c.Add)
    assert (command.name, command.relationship, command.last_in_touch) == (name, tie, last)
    assert (command.cadence.encode() if command.cadence else None) == cadence


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("March 2019", date(2019, 3, 1)), ("mar. 2019", date(2019, 3, 1)),
        ("2019-03", date(2019, 3, 1)), ("3/2019", date(2019, 3, 1)), ("2019", date(2019, 1, 1)),
        ("years ago", YEARS_AGO), ("many years ago", YEARS_AGO), ("", None),
    ],
)  # fmt: skip
def test_last_in_touch_reads_months_years_and_years_ago(typed: str, expected: date) -> None:
    assert parse_last_in_touch(typed, TODAY) == expected


@pytest.mark.parametrize("typed", ["2019-13", "Smarch 2019", "2030", "last tuesday", "1850"])
def test_last_in_touch_refuses_what_it_cannot_place(typed: str) -> None:
    with pytest.raises(WhenError):
        parse_last_in_touch(typed, TODAY)


def test_relationships_read_labels_values_and_words() -> None:
    assert parse_relationship("Former boss") is Relationship.BOSS
    assert parse_relationship("someone I managed") is Relationship.REPORT
    assert parse_relationship("colleague") is Relationship.PEER
    assert parse_relationship("rival") is None
    assert show_last_in_touch(date(2019, 3, 1)) == "March 2019"
    assert show_last_in_touch(YEARS_AGO) == "years ago"
    assert show_last_in_touch(date(2019, 1, 1)) == "2019"  # a year alone: no made-up month
    for shown in ("March 2019", "2019", "years ago"):
        when = parse_last_in_touch(shown, TODAY)
        assert when is not None and show_last_in_touch(when) == shown


# --- service: add, edit, win ------------------------------------------------------------------


async def test_add_with_relationship_and_last_in_touch(
    service: Reconnect, store: MemoryStore
) -> None:
    reply = await service.command(ADA, "add Dana Whitfield as former boss last March 2019")
    assert "Added Dana Whitfield" in text(reply)
    dana = await contact_named(store, ADA, "Dana Whitfield")
    assert dana.relationship == "boss" and dana.last_in_touch == date(2019, 3, 1)
    bad = await service.command(ADA, "add Raj last 2019-13")
    assert "month" in text(bad) and await contact_named(store, ADA, "Raj") is None


async def test_edit_form_sets_and_shows_the_new_fields(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "add Dana Whitfield")
    form = await service.command(ADA, "edit dana")
    assert isinstance(form, Form)
    values = {forms.NAME: "Dana Whitfield", forms.RELATIONSHIP: "mentor",
              forms.LAST_IN_TOUCH: "years ago", forms.WIN: "got promoted to VP"}  # fmt: skip
    reply = await service.submit(ADA, form.kind, form.context, values)
    assert "Saved Dana Whitfield" in text(reply)
    dana = await contact_named(store, ADA, "Dana Whitfield")
    assert (dana.relationship, dana.last_in_touch) == ("mentor", YEARS_AGO)
    assert (dana.win, dana.win_on) == ("got promoted to VP", TODAY)
    again = await service.command(ADA, "edit dana")
    assert isinstance(again, Form)
    initial = {f.id: getattr(f, "initial", None) for f in again.fields}
    assert initial[forms.RELATIONSHIP] == "mentor"
    assert initial[forms.LAST_IN_TOUCH] == "years ago"
    assert initial[forms.WIN] == "got promoted to VP"
    wrong = await service.submit(
        ADA, form.kind, form.context,
        {forms.NAME: "Dana Whitfield", forms.RELATIONSHIP: "nemesis", forms.LAST_IN_TOUCH: "soon"},
    )  # fmt: skip
    assert isinstance(wrong, FormErrors)
    assert set(wrong.errors) == {forms.RELATIONSHIP, forms.LAST_IN_TOUCH}
    assert (await contact_named(store, ADA, "Dana Whitfield")).relationship == "mentor"


async def test_win_command_records_news_and_offers_congratulations(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "add Dana Whitfield")
    reply = text(await service.command(ADA, "win dana -- got promoted to VP"))
    assert "Noted Dana Whitfield's news" in reply
    assert "Congratulate Dana on getting promoted to VP" in reply
    assert "I just heard you got promoted to VP — congratulations!" in reply
    dana = await contact_named(store, ADA, "Dana Whitfield")
    assert (dana.win, dana.win_on) == ("got promoted to VP", TODAY)
    assert "Whose news" in text(await service.command(ADA, "win dana"))
    assert "couldn't find anyone" in text(await service.command(ADA, "win zed -- won"))
    await service.command(BOB, "win dana -- hijack")  # Bob has no Dana: nothing changes
    assert (await contact_named(store, ADA, "Dana Whitfield")).win == "got promoted to VP"


# --- ranking ------------------------------------------------------------------------------------


def test_value_points_prefer_dormant_bosses_and_never_depend_on_today() -> None:
    boss = person(1, relationship="boss", last_in_touch=YEARS_AGO)
    peer = person(2, relationship="peer", last_contacted_on=TODAY - timedelta(days=30),
                  created_on=TODAY - timedelta(days=60))  # fmt: skip
    plain = person(3)
    assert value_points(boss) > value_points(plain) >= value_points(peer)
    assert value_points(
        person(5, relationship="peer", last_in_touch=date(2020, 1, 1))
    ) > value_points(peer)
    # Never suggested comes before suggested, whatever the value.
    shown = person(4, relationship="boss", last_in_touch=YEARS_AGO, suggested_on=TODAY)
    assert rotation_key(peer) < rotation_key(shown)
    assert rotation_key(boss) < rotation_key(plain)


def test_weekly_limit_allows_two_suggestions_in_seven_days() -> None:
    once = person(1, suggested_on=TODAY - timedelta(days=1))
    twice = person(2, suggested_on=TODAY - timedelta(days=1),
                   suggested_before_on=TODAY - timedelta(days=6))  # fmt: skip
    week_ago = person(3, suggested_on=TODAY - timedelta(days=2),
                      suggested_before_on=TODAY - timedelta(days=7))  # fmt: skip
    assert within_weekly_limit(once, TODAY) and eligible(once, TODAY)
    assert not within_weekly_limit(twice, TODAY) and not eligible(twice, TODAY)
    assert within_weekly_limit(week_ago, TODAY)
    suggested = person(5)
    suggested.mark_suggested(TODAY)
    suggested.mark_suggested(TODAY)  # the same morning again (a retry) counts once
    assert (suggested.suggested_on, suggested.suggested_before_on) == (TODAY, None)


def test_ties_break_by_value_and_rotate_by_day_not_by_id_or_name() -> None:
    same = [person(i) for i in range(1, 7)]
    firsts = {rank(same, TODAY + timedelta(days=d), limit=1)[0].contact.id for d in range(12)}
    assert len(firsts) > 2  # equal contacts take turns from day to day
    boss = person(9, relationship="boss")
    assert rank([*same, boss], TODAY, limit=1)[0].contact.id == 9


def test_a_fresh_win_comes_first_even_when_not_due() -> None:
    later = person(1, next_due_on=TODAY + timedelta(days=20), win="launched her book",
                   win_on=TODAY - timedelta(days=2))  # fmt: skip
    boss = person(2, relationship="boss", last_in_touch=YEARS_AGO)
    assert eligible(later, TODAY)
    top = rank([boss, later], TODAY, limit=2)[0]
    assert top.contact.id == 1 and top.why.startswith("Congratulate Person1 on launching")
    congratulated = person(3, next_due_on=TODAY + timedelta(days=20), win="won",
                           win_on=TODAY - timedelta(days=5), suggested_on=TODAY - timedelta(days=1))  # fmt: skip
    assert not eligible(congratulated, TODAY)  # suggested since the win: done
    old = person(4, next_due_on=TODAY + timedelta(days=20), win="won",
                 win_on=TODAY - timedelta(days=40))  # fmt: skip
    assert not eligible(old, TODAY)


def test_why_names_the_tie_and_how_long() -> None:
    boss = person(1, relationship="boss", last_in_touch=YEARS_AGO)
    assert why(boss, TODAY).startswith("You were last in touch with Person1, your former boss,")
    mentor = person(2, relationship="mentor", last_in_touch=date(2024, 6, 1))
    assert why(mentor, TODAY) == (
        "It's been over a year since you were in touch with Person2 (your mentor)."
    )
    fresh = person(3, relationship="boss")
    assert (
        why(fresh, TODAY) == "Person3 is your former boss: nobody can vouch for your work better."
    )


def test_no_overdue_before_the_first_message() -> None:
    new = person(1, created_on=TODAY - timedelta(days=19), next_due_on=TODAY - timedelta(days=19))
    assert "overdue" not in status_line(new, TODAY)
    assert "overdue" not in why(new, TODAY) and "past your" not in why(new, TODAY)
    talked = person(2, last_contacted_on=TODAY - timedelta(days=60),
                    next_due_on=TODAY - timedelta(days=19))  # fmt: skip
    assert "19 days overdue" in status_line(talked, TODAY)


def test_log_bound_is_ten_calendar_years() -> None:
    for today in (TODAY, date(2028, 2, 29)):
        earliest = forms.ten_years_before(today)
        entry = forms.read_log({forms.CONTACT: "1", forms.DATE: earliest.isoformat()}, today)
        assert entry.occurred_on == earliest
        with pytest.raises(forms.FieldErrors):
            day = (earliest - timedelta(days=1)).isoformat()
            forms.read_log({forms.CONTACT: "1", forms.DATE: day}, today)


# --- hurdles and wording ---------------------------------------------------------------------


def _activity(**kw: object) -> Activity:
    base: dict[str, object] = {
        "contacts": 25,
        "conversations": 0,
        "last_activity_on": None,
        "last_conversation_learned": None,
    }
    base.update(kw)
    return Activity(**base)  # type: ignore[arg-type]


def test_the_anxious_non_starter_gets_the_gentle_path() -> None:
    warm = person(1, relationship="friend", notes="loves sailing")
    cold = [person(i, relationship="boss", last_in_touch=YEARS_AGO) for i in (2, 3, 4)]
    picks = rank([*cold, warm], TODAY, limit=3, gentle=True)
    assert picks[0].contact.id == 1  # the warmest first…
    assert {p.contact.id for p in picks[1:]} <= {2, 3, 4}  # …then by value
    for seed in range(6):
        content = compose(activity=_activity(), picks=picks, followups=[], prompt_views={},
                          today=TODAY, seed=seed)  # fmt: skip
        assert content.gentle
        assert prompts.by_id(content.prompt_id).hurdle in (  # type: ignore[union-attr]
            prompts.Hurdle.COURAGE, prompts.Hurdle.DOUBLE_STANDARD,
        )  # fmt: skip
        shown = " ".join(
            str(b) for b in render(content, {p.contact.id: p.contact for p in picks},
                                   nudge_id=1, cmd="/r ").blocks
        )  # fmt: skip
        assert "Today's whole task" in shown and "your draft" not in shown


def test_no_prompt_mentions_todays_contact_without_cards() -> None:
    for hurdle in prompts.Hurdle:
        for seed in range(40):
            prompt = prompts.choose_prompt(hurdle, {}, seed, cards=False)
            words = f"{prompt.text} {prompt.generic}".lower()
            assert "today's contact" not in words and "card" not in words
    assert not any("your draft" in p.text.lower() for p in prompts.PROMPTS)


def test_the_add_prompt_rotates_and_stays_short() -> None:
    lines = {added_prompt(person(i, name="Dana Whitfield")) for i in range(1, 26)}
    assert len(lines) >= 5
    assert all(len(line) <= 100 and "{" not in line for line in lines)


def test_a_morning_with_nobody_due_suggests_something_useful() -> None:
    week = [nothing_due_text(TODAY + timedelta(days=d), "/r ") for d in range(5)]
    assert all(a != b for a, b in itertools.pairwise(week))
    assert all("Nobody is due today — a good day" not in t for t in week)


# --- congratulations: a corpus of wins --------------------------------------------------------

WINS = [
    "got promoted to VP", "She got promoted to VP of Finance.", "launched her book",
    "was promoted to partner", "is now COO at Brightline", "has joined Acme as CTO",
    "joined Stripe", "won the regatta!", "ran the Boston marathon", "became a grandmother",
    "promotion to VP", "new job at Acme", "https://example.com/news", "got me a referral",
    "passed away last year", "was laid off in March", "Dana got promoted", "GOT PROMOTED",
    "🎉 new role", "a reçu le prix", "", "finished her PhD", "raised a Series B",
    "divorce finalised", "opened a bakery", "retired from Shell", "graduated from Wharton",
    "closed a $2M deal", "sold the company", "published a paper in Nature",
]  # fmt: skip
_SENSITIVE = ("passed away", "laid off", "divorce", "died")


@pytest.mark.parametrize("win", WINS)
def test_congratulations_are_grammatical_and_never_leak(win: str) -> None:
    dana = person(1, name="Dana Whitfield", win=win, win_on=TODAY)
    title, opener = congratulate_title(dana), congratulate_opener(dana)
    for line in (title, opener):
        lowered = line.lower()
        assert "http" not in lowered and "www." not in lowered
        assert not any(word in lowered for word in _SENSITIVE)
        assert "  " not in line and " ." not in line and ".." not in line and "{" not in line
        assert " me " not in f" {lowered} " and " i " not in lowered.replace("hi ", "").replace(
            "i just heard", ""
        ).replace("i'd love", "")
    assert title.startswith("Congratulate Dana on ")
    assert opener.startswith("Hi Dana, I just heard ") and opener.endswith(("?", "."))
    # A quoted win is in the second person, never "you was" or "you is".
    assert not any(bad in opener for bad in ("you was", "you is", "you has", "you she"))


# --- corpus: every "why" line a card can show -------------------------------------------------


def test_why_lines_read_well_for_every_kind_of_contact() -> None:
    ties = ["", *(r.value for r in Relationship)]
    touches = [None, YEARS_AGO, date(2019, 3, 1), date(2025, 6, 1), date(2026, 10, 1)]
    talks = [None, TODAY - timedelta(days=40), TODAY - timedelta(days=500)]
    extras = [{}, {"notes": "loves sailing"}, {"win": "got promoted to VP", "win_on": TODAY},
              {"win": "passed away", "win_on": TODAY}]  # fmt: skip
    seen = set()
    for tie in ties:
        for touch in touches:
            for talked in talks:
                for extra in extras:
                    contact = person(1, name="Dana Whitfield", relationship=tie,
                                     last_in_touch=touch, last_contacted_on=talked,
                                     created_on=TODAY - timedelta(days=20),
                                     next_due_on=TODAY - timedelta(days=5), **extra)  # fmt: skip
                    line = why(contact, TODAY)
                    seen.add(line)
                    assert line.endswith(".") and "\n" not in line and len(line) < 220
                    assert "  " not in line and "{" not in line and "None" not in line
                    assert " 1 years" not in line and " 0 years" not in line
                    assert "passed away" not in line and "1900" not in line
                    if talked is None:
                        assert "overdue" not in line and "days past" not in line
    assert len(seen) > 20  # specific to the contact, not one line for everyone


async def test_win_edge_cases_change_nothing_or_ask_whom(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "add Dana Whitfield")
    await service.command(ADA, "add Dana Scully")
    long = "x" * 201
    assert "under 200 characters" in text(await service.command(ADA, f"win dana w -- {long}"))
    assert (await contact_named(store, ADA, "Dana Whitfield")).win == ""
    choose = await service.command(ADA, "win dana -- launched her book\u0000 today")
    assert "Several contacts match" in text(choose)
    (scully, whitfield) = (b for b in buttons(choose) if b.label.startswith("Dana"))
    reply = await service.action(ADA, whitfield.action, whitfield.value)
    assert "Congratulate Dana on launching her book today" in text(reply)
    dana = await contact_named(store, ADA, "Dana Whitfield")
    assert dana.win == "launched her book today" and dana.win_on == TODAY
    assert (await contact_named(store, ADA, "Dana Scully")).win == ""
    assert scully.label == "Dana Scully"
