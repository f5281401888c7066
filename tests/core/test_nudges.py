"""Choosing today's hurdle, ranking cards by value, and rendering the nudge."""

import json
from dataclasses import fields
from datetime import date, timedelta

from bot.core.actions import Act
from bot.core.cadence import Span, Unit
from bot.core.model import Contact
from bot.core.nudges import (
    Activity,
    Card,
    CardState,
    FollowUp,
    NudgeContent,
    StepCard,
    choose_hurdle,
    compose,
    render,
)
from bot.core.prompts import Hurdle, prompts_for
from bot.core.ranking import Pick, eligible, rank, why
from bot.core.replies import Actions, plain

TODAY = date(2026, 12, 1)


def contact(i: int, **kw: object) -> Contact:
    defaults: dict[str, object] = {
        "name": f"Person {i}", "next_due_on": TODAY, "created_on": TODAY - timedelta(days=30),
    }  # fmt: skip
    defaults.update(kw)
    return Contact(id=i, **defaults)  # type: ignore[arg-type]


def activity(**kw: object) -> Activity:
    base: dict[str, object] = {
        "contacts": 10, "conversations": 5,
        "last_activity_on": TODAY - timedelta(days=2), "last_conversation_learned": True,
    }  # fmt: skip
    base.update(kw)
    return Activity(**base)  # type: ignore[arg-type]


def test_a_long_dormant_tie_outranks_a_slightly_overdue_recent_one() -> None:
    dormant = contact(1, name="Old Boss", last_contacted_on=TODAY - timedelta(days=4 * 365),
                      cadence=Span(12, Unit.MONTHS), next_due_on=TODAY - timedelta(days=3 * 365))  # fmt: skip
    recent = contact(2, name="Recent Pal", last_contacted_on=TODAY - timedelta(days=50),
                     next_due_on=TODAY - timedelta(days=8))  # fmt: skip
    ranked = rank([recent, dormant], TODAY, limit=2)
    assert [p.contact.name for p in ranked] == ["Old Boss", "Recent Pal"]
    assert "4 years ago" in ranked[0].why and "dormant" in ranked[0].why


def test_overdue_days_matter_relative_to_the_cadence() -> None:
    weekly = contact(1, cadence=Span(1, Unit.WEEKS), next_due_on=TODAY - timedelta(days=14),
                     last_contacted_on=TODAY - timedelta(days=21))  # fmt: skip
    yearly = contact(2, cadence=Span(12, Unit.MONTHS), next_due_on=TODAY - timedelta(days=14),
                     last_contacted_on=TODAY - timedelta(days=200))  # fmt: skip
    assert rank([yearly, weekly], TODAY, limit=1)[0].contact.id == 1


def test_ineligible_contacts_are_left_out() -> None:
    assert not eligible(contact(1, next_due_on=TODAY + timedelta(days=1)), TODAY)
    assert not eligible(contact(2, skipped_on=TODAY), TODAY)
    assert not eligible(contact(3, follow_up_on=TODAY + timedelta(days=2)), TODAY)
    assert eligible(contact(4, skipped_on=TODAY - timedelta(days=1)), TODAY)


def test_reasons_are_one_line_and_specific() -> None:
    assert "sailing" in why(contact(1, notes="loves sailing"), TODAY)
    fresh = contact(2, created_on=TODAY)
    assert why(fresh, TODAY).startswith("New on your list")
    stale = contact(3, created_on=TODAY - timedelta(days=21))
    assert "3 weeks ago" in why(stale, TODAY)
    late = contact(4, last_contacted_on=TODAY - timedelta(days=60),
                   next_due_on=TODAY - timedelta(days=18))  # fmt: skip
    assert why(late, TODAY) == "18 days past your every 6 weeks rhythm with Person."
    for text in (why(c, TODAY) for c in (fresh, stale, late)):
        assert "\n" not in text and len(text) < 200


def test_hurdle_follows_behaviour() -> None:
    picks = [Pick(contact(1, notes="sails"), 1.0, "")]
    bare = [Pick(contact(1), 1.0, "")]
    # An anxious non-starter (many adds, no outreach): courage first, never "it's about them".
    anxious = activity(conversations=0, contacts=8)
    chosen = [choose_hurdle(anxious, picks, TODAY, s) for s in range(6)]
    assert set(chosen) == {Hurdle.COURAGE, Hurdle.DOUBLE_STANDARD}
    assert chosen.count(Hurdle.COURAGE) > chosen.count(Hurdle.DOUBLE_STANDARD)
    idle = activity(last_activity_on=TODAY - timedelta(days=9))
    assert {choose_hurdle(idle, picks, TODAY, s) for s in (0, 1)} == {
        Hurdle.COURAGE,
        Hurdle.DOUBLE_STANDARD,
    }
    assert choose_hurdle(activity(last_activity_on=None), picks, TODAY, 0) in (
        Hurdle.COURAGE,
        Hurdle.DOUBLE_STANDARD,
    )
    waiting = activity()
    assert choose_hurdle(waiting, picks, TODAY, 0, followups=1) is Hurdle.MIND_READING
    # A pending follow-up doesn't lock the prompt: not on other seeds, nor without a question.
    assert choose_hurdle(waiting, picks, TODAY, 1, followups=1) is not Hurdle.MIND_READING
    assert choose_hurdle(waiting, picks, TODAY, 0) is not Hurdle.MIND_READING
    assert (
        choose_hurdle(activity(last_conversation_learned=False), picks, TODAY, 1)
        is Hurdle.LISTENING
    )
    assert choose_hurdle(activity(), picks, TODAY, 0) is Hurdle.THEIR_SUCCESSES
    assert choose_hurdle(activity(), bare, TODAY, 0) is Hurdle.WHAT_TO_SAY
    known = [Pick(contact(1, how_known="my boss"), 1.0, "")]
    assert choose_hurdle(activity(), known, TODAY, 0) is Hurdle.COMMITMENT


def test_compose_rotates_prompts_within_the_hurdle() -> None:
    picks = [Pick(contact(1, notes="sails"), 1.0, "why")]
    views: dict[str, int] = {}
    shown = []
    for seed in range(len(prompts_for(Hurdle.THEIR_SUCCESSES))):
        content = compose(activity=activity(), picks=picks, followups=[], prompt_views=views,
                          today=TODAY, seed=seed)  # fmt: skip
        shown.append(content.prompt_id)
        views[content.prompt_id] = views.get(content.prompt_id, 0) + 1
    assert sorted(shown) == sorted(p.id for p in prompts_for(Hurdle.THEIR_SUCCESSES))


def test_content_round_trips_and_rejects_garbage() -> None:
    content = NudgeContent(day="2026-12-01", prompt_id="courage-01",
                           cards=[Card(1, "why", CardState.SNOOZED, "2026-12-08")],
                           followups=[FollowUp(2, "2026-11-28")])  # fmt: skip
    assert NudgeContent.from_json(content.to_json()) == content
    for raw in ("", "[]", '{"day": "x", "cards": [{"contact_id": "a"}]}', "null"):
        try:
            NudgeContent.from_json(raw)
        except ValueError:
            continue
        raise AssertionError(f"accepted {raw!r}")


def test_stored_content_is_the_compact_json_it_always_was() -> None:
    """Stored by orjson for speed: byte for byte what the standard library wrote (compact,
    non-ASCII kept), and text orjson refuses (a lone surrogate) is still stored."""
    for reason in ('Ask Zoë about 北京 🎉 "quotes" and \\ back\nslash', "half \ud83d surrogate"):
        content = NudgeContent(day="2026-12-01", prompt_id="p", cards=[Card(1, reason)],
                               followups=[FollowUp(2, "2026-11-28")], goal="1 of 3")  # fmt: skip
        raw = content.to_json()
        assert raw == json.dumps(json.loads(raw), ensure_ascii=False, separators=(",", ":"))
        assert NudgeContent.from_json(raw) == content


def test_stored_content_has_every_field() -> None:
    """``to_json`` is written out by hand for speed: a field added later must not be lost."""
    content = NudgeContent(
        day="2026-12-01",
        cards=[Card(1, "why")],
        followups=[FollowUp(2, "2026-11-28")],
        steps=[StepCard(5, 3, "send CV", "2026-12-01")],
        evidence="Last month you were sure Ahmed wouldn't answer. Ahmed replied.",
        goal="2 of 3 this week",
    )
    data = json.loads(content.to_json())
    assert set(data) == {f.name for f in fields(NudgeContent)}
    assert set(data["cards"][0]) == {f.name for f in fields(Card)}
    assert set(data["followups"][0]) == {f.name for f in fields(FollowUp)}
    assert set(data["steps"][0]) == {f.name for f in fields(StepCard)}
    assert NudgeContent.from_json(content.to_json()) == content
    # Without next steps the stored content is as it was before they existed.
    assert "steps" not in json.loads(NudgeContent(day="2026-12-01").to_json())


def test_render_shows_each_state_and_only_open_cards_have_buttons() -> None:
    people = {1: contact(1, name="Dana Whitfield"), 2: contact(2, name="Bo Li"),
              3: contact(3, name="Cy Park")}  # fmt: skip
    content = NudgeContent(day="2026-12-01", prompt_id="courage-01", cards=[
        Card(1, "why 1"), Card(2, "why 2", CardState.REACHED), Card(3, "why 3", CardState.SKIPPED),
    ])  # fmt: skip
    reply = render(content, people, nudge_id=7, cmd="/reconnect ")
    rows = [b for b in reply.blocks if isinstance(b, Actions)]
    # The open card's buttons, and the one-tap prediction on the card just reached out on.
    assert len(rows) == 2
    assert all(b.value == "7:1" for b in rows[0].buttons if b.action != Act.PREP)
    assert [b.value for b in rows[1].buttons] == [
        "7:2:no_reply", "7:2:brush_off", "7:2:glad", "7:2:go_out_of_way", "7:2:skip"
    ]  # fmt: skip
    text = " ".join(plain(b.parts) for b in reply.blocks if hasattr(b, "parts"))
    assert "You reached out to Bo Li" in text and "Not today — Cy Park" in text
    assert reply.summary == "Today: reconnect with Dana Whitfield, Bo Li, Cy Park"


def test_a_removed_contact_disappears_from_the_rendered_nudge() -> None:
    content = NudgeContent(
        day="2026-12-01", prompt_id="courage-01", cards=[Card(1, "w"), Card(2, "w")]
    )
    reply = render(content, {2: contact(2, name="Bo Li")}, nudge_id=1, cmd="")
    assert "Person 1" not in reply.summary and "Bo Li" in reply.summary
