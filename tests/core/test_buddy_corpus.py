"""The practice-buddy intros, every variant, for pairs and trios, with awkward names: plain
grammar, names only as given (escaped later by the adapters), nothing else anyone typed."""

from __future__ import annotations

import re

import pytest

from bot.core.groups.buddy_intros import SUGGESTIONS, buddy_intro, join_names, shared_intro
from bot.core.replies import Reply, plain

NAMES = (
    ["Ada"],
    ["Ada Lovelace", "Ben O'Brien"],
    ["Ada", "Ben", "Cy"],
    ["<@U123> *bold*", "Zoë & co"],
    ["   ", "Ben"],  # a blank name
    ["A" * 200, "Ben"],
    [],
)
GROUPS = ("Spring cohort", "Our group", "Cohort <b>#3</b>")


def texts(reply: Reply) -> list[str]:
    out = [reply.summary]
    for block in reply.blocks:
        parts = getattr(block, "parts", None)
        if parts is not None:
            out.append(plain(parts))
    return out


def intros() -> list[tuple[Reply, list[str], str]]:
    found = []
    for number in range(len(SUGGESTIONS) * 2):
        for names in NAMES:
            for group in GROUPS:
                if len(names) >= 2:
                    found.append((shared_intro(group, names, number, "/reconnect "), names, group))
                found.append((buddy_intro(group, names, number, ""), names, group))
    return found


@pytest.mark.parametrize(("reply", "names", "group"), intros())
def test_every_intro_reads_well(reply: Reply, names: list[str], group: str) -> None:
    for text in texts(reply):
        assert text == text.strip()
        assert "  " not in text, text
        assert not re.search(r"\s[,.;:!?]", text), text
        assert "None" not in text and "{" not in text and "}" not in text, text
        assert not re.search(r"\b(a|an|the|and|is|are)\s*[.!?]?$", text), text
        assert not re.search(r"\b(\w+) \1\b", text, re.IGNORECASE), text
        assert text[-1] in ".!?", text
    body = " ".join(texts(reply))
    assert group in body
    for name in names:
        if name.strip():
            assert name.strip()[:59] in body  # long names are shortened, never dropped
    if not any(n.strip() for n in names):
        assert "another member of the group" in body


def test_names_join_as_people_say_them() -> None:
    assert join_names(["Ada"]) == "Ada"
    assert join_names(["Ada", "Ben"]) == "Ada and Ben"
    assert join_names(["Ada", "Ben", "Cy"]) == "Ada, Ben and Cy"


def test_one_buddy_is_singular_two_are_plural() -> None:
    one = " ".join(texts(buddy_intro("G", ["Ben"], 0, "")))
    two = " ".join(texts(buddy_intro("G", ["Ben", "Cy"], 0, "")))
    assert "your practice buddy in G is Ben." in one
    assert "your practice buddies in G are Ben and Cy." in two
    trio = " ".join(texts(shared_intro("G", ["Ada", "Ben", "Cy"], 0, "")))
    assert "a trio this time" in trio


def test_the_suggestions_vary_and_each_names_one_concrete_thing() -> None:
    assert len({s.title for s in SUGGESTIONS}) == len(SUGGESTIONS) >= 5
    seen = {plain(shared_intro("G", ["A", "B"], n, "").blocks[1].parts) for n in range(6)}
    assert len(seen) == 6
    assert any("opener" in s.title.lower() for s in SUGGESTIONS)
    assert any("goal" in s.title.lower() for s in SUGGESTIONS)


def test_how_to_stop_uses_the_platforms_command() -> None:
    slack = " ".join(texts(shared_intro("G", ["A", "B"], 0, "/reconnect ")))
    teams = " ".join(texts(buddy_intro("G", ["B"], 0, "")))
    assert "`/reconnect group buddies off`" in slack
    assert "`group buddies off`" in teams and "/reconnect" not in teams
