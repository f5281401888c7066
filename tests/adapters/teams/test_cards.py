"""Adaptive Cards as Teams renders them: markdown, action counts, required inputs, size."""

from __future__ import annotations

from bot.adapters.teams import cards
from bot.core.replies import Em, Reply, Section, Strong


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
