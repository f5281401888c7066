"""*Send a kind check-in*: a pre-filled, editable message a coach sends a quiet member.

Never automatic: the coach opens the form, may rewrite every word, and sends it. The member
gets it in their DM with the bot, signed with the coach's name; nobody else sees it. At most
one per member per group week (``group_checkins``).
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.groups.coach_ports import GroupInfo, MemberView
from bot.core.replies import Form, FormKind, Reply, TextField, context, section
from bot.core.text import clean, shorten, storable, visible

MESSAGE = "message"
MESSAGE_MAX = 1000
#: What the check-in is signed with when the platform gave no name.
NO_NAME = "your coach"


def first_name(member: MemberView) -> str:
    """The member's first name for a greeting ("there" when unknown)."""
    words = member.display_name.split()
    return words[0] if words else "there"


def draft(member: MemberView) -> str:
    """The pre-filled message: warm, no pressure, no numbers (the coach may change it all)."""
    return (
        f"Hi {first_name(member)}, I noticed things have been quiet for a little while — that's "
        "completely normal in a search, and nothing to catch up on. If it would help to talk "
        "something through, or to pick one small step for this week, I'm here."
    )


def form(group: GroupInfo, member: MemberView, name: str) -> Form:
    """The check-in form for ``member`` of ``group`` (``name``: how they are shown)."""
    return Form(
        kind=FormKind.COACH_CHECKIN,
        title="Kind check-in",
        submit_label="Send",
        fields=(
            TextField(
                MESSAGE,
                "Your message",
                initial=draft(member),
                multiline=True,
                max_length=MESSAGE_MAX,
            ),
        ),
        context=f"{group.id}:{member.member_id}",
        intro=(
            f"Reconnect sends this to {shorten(name, 60)} as a direct message, signed with your "
            "name. Only they will see it. Change anything you like."
        ),
    )


def read_message(values: Mapping[str, str | None]) -> str | dict[str, str]:
    """The submitted message, cleaned; or field errors."""
    text = storable(clean(values.get(MESSAGE) or "")).strip()
    if not visible(text):
        return {MESSAGE: "Please write a few words to send."}
    if len(text) > MESSAGE_MAX:
        return {MESSAGE: f"Please keep it under {MESSAGE_MAX} characters ({len(text)} now)."}
    return text


def message_for_member(text: str, coach: str, group: GroupInfo) -> Reply:
    """The DM the member receives."""
    signer = shorten(coach.strip(), 80) or NO_NAME
    sign = f"— {signer}, your coach in {shorten(group.name, 80)}"
    return Reply(
        summary=f"A message from {signer}",
        blocks=(
            section(text),
            context(sign),
            context("Sent through Reconnect. Only you can see this; reply to your coach directly."),
        ),
    )


def parse_context(value: str) -> tuple[int, int] | None:
    """``(group id, member id)`` from a check-in button's value or form context."""
    group, _, member = value.partition(":")
    if not (group.isascii() and group.isdigit() and member.isascii() and member.isdigit()):
        return None
    if len(group) > 18 or len(member) > 18:
        return None
    return int(group), int(member)
