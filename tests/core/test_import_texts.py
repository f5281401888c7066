"""What people read about their imports: grammar over many counts, nothing of a file's raw
cells in the reasons, and the triage form within each platform's limits."""

from __future__ import annotations

import itertools
import re
from datetime import date

import pytest

from bot.adapters.slack import render as slack
from bot.adapters.teams import cards as teams
from bot.core.imports import views
from bot.core.imports.merge import Plan
from bot.core.imports.parse import parse_file
from bot.core.imports.people import Format, Problem
from bot.core.model import Contact
from bot.core.replies import Reply, plain

BAD_GRAMMAR = re.compile(
    r"\b1 (people|lines|entries|pages)\b|\b(?!1\b)[\d,]+ (person|line|entry|page)\b(?! is)"
    r"|\b1 people are\b|  | \.|\.\.(?!\.)| ,"
)


def all_text(reply: Reply) -> str:
    parts = [reply.summary]
    for block in reply.blocks:
        if hasattr(block, "parts"):
            parts.append(plain(block.parts))
        if hasattr(block, "buttons"):
            parts.extend(b.label for b in block.buttons)
    return "\n".join(parts)


def contact(i: int, role: str = "", connected: date | None = None) -> Contact:
    return Contact(
        id=i, name=f"Person {i}", company_role=role, connected_on=connected, in_pool=True
    )


@pytest.mark.parametrize(
    ("imported", "merged", "skipped"),
    list(itertools.product((0, 1, 2, 1234), (0, 1, 3), (0, 1, 2, 25))),
)
def test_report_grammar(imported: int, merged: int, skipped: int) -> None:
    plan = Plan(new=[contact(i) for i in range(imported)], merged=merged)
    problems = [Problem(i + 2, "no name") for i in range(skipped)]
    for form in Format:
        text = all_text(views.report(form, plan, problems, imported, "/reconnect "))
        assert not BAD_GRAMMAR.search(text), text
        assert f"Imported {imported:,} {'person' if imported == 1 else 'people'}" in text
        if skipped > views.SKIPPED_SHOWN:
            assert f"and {skipped - views.SKIPPED_SHOWN:,} more." in text


@pytest.mark.parametrize("left", [0, 1, 2, 9, 10, 11, 30])
@pytest.mark.parametrize("chosen", [0, 1, 2, 3])
def test_joined_reply_grammar(left: int, chosen: int) -> None:
    from bot.core.cadence import DEFAULT_CADENCE

    people = [contact(i) for i in range(chosen)]
    text = all_text(views.joined_reply(people, left, 10, DEFAULT_CADENCE, "/reconnect "))
    assert not BAD_GRAMMAR.search(text), text
    if chosen == 3:
        assert "Person 0, Person 1 and Person 2" in text


def test_reasons_never_quote_the_file() -> None:
    secret = "Sécret-" + "x" * 90
    data = (f"First Name,Last Name,URL,Connected On\n{secret},Y,,\n,,,\n").encode()
    parsed = parse_file(data)
    reply = views.report(Format.LINKEDIN, Plan(), parsed.problems, 0, "/reconnect ")
    assert "Sécret" not in all_text(reply)
    assert [p.line for p in parsed.problems] == [2]  # the empty row is no row at all


def test_triage_form_fits_slack_and_teams() -> None:
    long_role = "Executive Vice President, Global Strategy and Corporate Development " * 3
    pool = [contact(i, long_role, date(2010 + i % 10, 1, 1)) for i in range(25)]
    form = views.triage_form(pool, 10, date(2026, 11, 25))
    modal = slack.modal(form)
    assert len(modal["title"]["text"]) <= 24
    (element,) = [b["element"] for b in modal["blocks"] if b.get("type") == "input"]
    assert element["type"] == "checkboxes" and len(element["options"]) == 10
    assert all(len(o["text"]["text"]) <= 75 for o in element["options"])
    assert [o["value"] for o in element["options"]] == [str(i) for i in range(10, 20)]
    assert len(form.context) < 3000  # Slack's private_metadata
    card = teams.form_card(form)
    assert teams.size(card) <= teams.CARD_BUDGET


def test_pool_list_fits_slack() -> None:
    pool = [contact(i, "VP Sales at <!channel> *Acme*") for i in range(25)]
    reply = views.pool_list(pool, 3, "/reconnect ")
    rendered = slack.message(reply)
    assert len(rendered["blocks"]) <= 50
    text = str(rendered["blocks"])
    assert "<!channel>" not in text  # escaped like every name and role
    assert "page 3 of 3" in all_text(reply)
    assert "There is no page 4: your pool fits on 3 pages." in all_text(
        views.pool_list(pool, 4, "/reconnect ")
    )


def test_pool_offer_round_trips_with_the_nudge_and_reads_well() -> None:
    from bot.core.imports.offer_view import OfferState, PoolOffer, offer_blocks
    from bot.core.nudges import NudgeContent

    offer = PoolOffer.of(contact(7, "VP", date(2014, 3, 14)))
    content = NudgeContent(day="2026-11-30", offer=offer)
    assert NudgeContent.from_json(content.to_json()) == content
    assert NudgeContent.from_json('{"day": "2026-11-30", "offer": {"id": "x"}}').offer is None
    blocks = offer_blocks(offer, 5)
    text = all_text(Reply("x", tuple(blocks)))
    assert "From your pool: add Person 7, connected 2014, to your circle?" in text
    assert "Add" in text and "Not now" in text
    undated = PoolOffer(8, "Ana Ruiz")
    assert "add Ana Ruiz to your circle?" in all_text(Reply("x", tuple(offer_blocks(undated, 5))))
    offer.state = OfferState.DECLINED
    assert "Person 7 stays in your pool" in all_text(Reply("x", tuple(offer_blocks(offer, 5))))
