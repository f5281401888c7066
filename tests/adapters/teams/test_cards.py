"""Adaptive Cards as Teams renders them: markdown, action counts, required inputs, size."""

from __future__ import annotations

import json
from typing import Any

from bot.adapters.teams import cards
from bot.core import forms, views
from bot.core.replies import (
    Button,
    Choice,
    Em,
    Form,
    FormKind,
    Reply,
    Section,
    SelectField,
    Strong,
)
from tests.adapters.teams.conftest import all_cards_within_teams_limits


def test_bold_and_italic_labels_keep_the_space_after_them() -> None:
    reply = Reply(
        summary="Dana",
        blocks=(
            Section((Strong("Wins & interests: "), "former CFO, loves sailing")),
            Section((Em(" last talked "), "in May", Strong("  "))),
        ),
    )
    body = cards.card(reply)["body"]
    assert body[0]["text"] == "**Wins & interests:** former CFO, loves sailing"
    assert body[1]["text"] == " _last talked_ in May  "


def actions_of(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for e in card["body"] if e["type"] == "ActionSet" for a in e["actions"]]


def test_eight_choices_become_two_action_sets_of_at_most_six() -> None:
    buttons = [Button(f"Dana {i}", "pick", str(i)) for i in range(8)]
    card = cards.card(views.choose_reply("Dana", buttons))
    all_cards_within_teams_limits(card)
    assert [a["title"] for a in actions_of(card)] == [f"Dana {i}" for i in range(8)]


def test_required_inputs_have_an_error_message() -> None:
    card = cards.form_card(forms.contact_form())
    all_cards_within_teams_limits(card)
    assert any(e.get("errorMessage") for e in card["body"])


LONG_NOTE = "Ünternehmerin, Gründerin — 東京で会った。" * 200  # ~8,000 characters, mostly non-ASCII


def test_a_long_non_english_card_stays_under_the_limit_as_sent() -> None:
    parts: list[Any] = []
    for i in range(30):
        parts.extend((Strong(f"Kontakt {i}: "), LONG_NOTE[: 300 + i], "\n"))
    reply = Reply(
        summary="big",
        blocks=(
            Section(tuple(parts)),
            *(Section((f"Zeile {i} {LONG_NOTE[:900]}",)) for i in range(40)),
        ),
    )
    card = cards.card(reply)
    all_cards_within_teams_limits(card)
    assert card["body"][-1]["text"].startswith("…and ")
    assert len(json.dumps(card, ensure_ascii=False)) < len(json.dumps(card, ensure_ascii=True))


def test_a_form_with_many_long_non_english_choices_is_trimmed_with_a_note() -> None:
    choices = tuple(Choice(str(i), f"Zoë Ó Briain 東京 {i} " + "ü" * 100) for i in range(100))
    form = Form(
        kind=FormKind.LOG_CONVERSATION,
        title="Log a conversation",
        fields=(SelectField("contact", "Who", choices),),
        submit_label="Log",
    )
    card = cards.form_card(form)
    all_cards_within_teams_limits(card)
    [choice_set] = [e for e in card["body"] if e["type"] == "Input.ChoiceSet"]
    assert 1 < len(choice_set["choices"]) < 100
    assert any("more" in e.get("text", "") for e in card["body"])
