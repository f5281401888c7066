"""The text of a shared win: built from the outcome and what was learned, never the notes, and
without the contact's name — a corpus of names and phrasings, checked for leaks and grammar."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.core.evidence import Expectation, OutcomeTag
from bot.core.groups.coach_ports import GroupInfo, SharedLog
from bot.core.groups.share import (
    WIN_MAX,
    offer_blocks,
    parse_value,
    scrub,
    text_of,
    win_kind,
    win_text,
)
from bot.core.replies import Actions, plain

NAMES = [
    ("Dana Whitfield", ""),
    ("Dana Whitfield", "Dee"),
    ("José Álvarez-Núñez", "Pepe"),
    ("Mary-Jane O'Neil", ""),
    ("Li Wei", ""),
    ("Anne-Marie de la Cruz", "Annie"),
    ("Bo", ""),
    ("Dr. Priya Raman", "Priya"),
]

LEARNED = [
    "{first} says they hire in Q1",
    "{full} introduced me to the CFO",
    "{first}'s team is growing — {last} will intro me",
    "met {first_lower} for coffee; {full_upper} knows the hiring manager",
    "{pref} thinks my CV needs a summary",
    "they hire in Q1",
    "",
    "   ",
    "lots of tips!!",
    "{first} {last} and {first} again",
]


def _fill(template: str, full: str, pref: str) -> str:
    parts = full.replace("Dr. ", "").split()
    return template.format(
        first=parts[0],
        last=parts[-1],
        full=full,
        first_lower=parts[0].lower(),
        full_upper=full.upper(),
        pref=pref or parts[0],
    )


def _grammatical(text: str) -> None:
    assert text == text.strip(), text
    assert text[0].isupper(), text
    assert text[-1] in ".!?…", text
    assert "  " not in text and " ." not in text and ".." not in text.replace("...", ""), text
    assert "my contact my contact" not in text.lower(), text
    assert not re.search(r"[.!?] [a-z]", text), text  # every sentence starts with a capital
    assert "{" not in text and "}" not in text, text


@pytest.mark.parametrize(("full", "pref"), NAMES)
@pytest.mark.parametrize("template", LEARNED)
@pytest.mark.parametrize(
    ("outcomes", "response"),
    [
        (frozenset({OutcomeTag.INTERVIEW}), None),
        (frozenset({OutcomeTag.REFERRAL, OutcomeTag.INTRODUCTION}), Expectation.GLAD),
        (frozenset({OutcomeTag.OFFER, OutcomeTag.ADVICE}), None),
        (frozenset(), Expectation.GO_OUT_OF_WAY),
    ],
)
def test_no_name_leaks_and_the_grammar_holds(
    full: str,
    pref: str,
    template: str,
    outcomes: frozenset[OutcomeTag],
    response: Expectation | None,
) -> None:
    learned = _fill(template, full, pref)
    text = win_text(outcomes, response, learned, [full, pref])
    _grammatical(text)
    assert len(text) <= WIN_MAX
    words = set(re.findall(r"[\w'’-]+", text.casefold()))
    for part in [full, pref, *full.replace("Dr. ", "").split()]:
        if len(part) >= 2 and part.casefold() not in ("my", "contact"):
            assert part.casefold() not in words, (part, text)
    assert full.casefold() not in text.casefold()


def test_the_headline_names_the_outcomes_and_advice_is_left_out() -> None:
    assert win_text({OutcomeTag.INTERVIEW}, None, "", []) == "Got an interview."
    assert (
        win_text({OutcomeTag.REFERRAL, OutcomeTag.ADVICE, OutcomeTag.INTRODUCTION}, None, "", [])
        == "Got an introduction and a referral."
    )
    assert win_text(set(), Expectation.GLAD, "a warm chat", []) == (
        "Had a conversation that went well. What I learned: A warm chat."
    )


def test_what_is_a_win() -> None:
    assert win_kind({OutcomeTag.OFFER, OutcomeTag.INTERVIEW}, None) == "offer"
    assert win_kind({OutcomeTag.ADVICE}, Expectation.GLAD) == "went well"
    assert win_kind({OutcomeTag.ADVICE, OutcomeTag.CAUGHT_UP}, None) is None
    assert win_kind(set(), Expectation.BRUSH_OFF) is None
    assert win_kind(set(), Expectation.NO_REPLY) is None


def test_a_log_read_back_uses_only_outcome_and_learned() -> None:
    log = SharedLog("Dana Whitfield", "", "interview,advice", "glad", "Dana: hiring soon")
    assert text_of(log) == (
        "interview",
        "Got an interview. What I learned: My contact: hiring soon.",
    )
    assert text_of(SharedLog("Dana", "", "advice", "brush_off", "x")) is None
    assert text_of(SharedLog("Dana", "", "", None, "x")) is None


def test_a_long_learned_is_cut_to_what_group_wins_holds() -> None:
    text = win_text({OutcomeTag.OFFER}, None, "word " * 400, ["Dana"])
    assert len(text) <= WIN_MAX and text.endswith("…")


def test_scrub_keeps_lowercase_words_that_are_also_name_parts() -> None:
    # "Will" the name goes; "will" the verb stays (parts are matched as written: capitalised).
    assert scrub("Will said he will call", ["Will Hart"]) == "My contact said he will call"
    assert scrub("@Dana is here", ["Dana"]) == "@Dana is here"  # not a name in running text


def test_the_offer_shows_what_would_be_shared_and_one_button_per_group() -> None:
    one = GroupInfo(1, "Spring", "slack", "T1", "C1")
    two = GroupInfo(2, "Autumn", "slack", "T1", "C2")
    line, row = offer_blocks([one], 12, date(2026, 11, 25), "Got an interview.")
    assert "nothing is shared unless you click" in plain(line.parts)  # type: ignore[union-attr]
    assert isinstance(row, Actions)
    assert [(b.label, b.value) for b in row.buttons] == [
        ("Share with my group", "1:12:2026-11-25"),
        ("Edit, then share", "12:2026-11-25"),
    ]
    _, row = offer_blocks([one, two], 12, date(2026, 11, 25), "x")
    assert isinstance(row, Actions)
    assert [b.label for b in row.buttons] == [
        "Share with Spring",
        "Share with Autumn",
        "Edit, then share",
    ]


@pytest.mark.parametrize(
    "value", ["", "1", "1:2", "1:2:x", "a:2:2026-11-25", "1:b:2026-11-25", "-1:2:2026-11-25",
              "1" * 19 + ":2:2026-11-25", "1:2:2026-11-25:9"],
)  # fmt: skip
def test_forged_share_values_are_refused(value: str) -> None:
    assert parse_value(value) is None
