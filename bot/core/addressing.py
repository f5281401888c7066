"""How a chat message is addressed to Reconnect, and what may be answered where.

Platforms without slash commands (Teams, the console) take the same commands typed as plain
text, with or without a leading ``reconnect`` or ``/reconnect``. In a shared chat (a Teams team
channel or group chat) others read along, so only help is answered there: a contact list, a
form or a button's result must never be shown to anyone but its owner. The exception is
``group``: the channel's outplacement group, whose answers there never show anyone's own data.
"""

from __future__ import annotations

from bot.core.text import clean

#: What a typed command may start with; ``/reconnect add Dana`` is ``add Dana``.
PREFIXES = ("/reconnect", "reconnect")
#: The first words answered in a shared chat ("" is an empty message, which means help).
#: ``group`` is about the channel itself (outplacement groups, :mod:`bot.core.groups`).
SHARED_CHAT_COMMANDS = frozenset({"", "help", "group", "groups", "cohort"})


def command_text(text: str | None) -> str:
    """The command in a typed message: cleaned (:func:`bot.core.text.clean`), without a leading
    ``reconnect`` or ``/reconnect`` (any case, followed by a space or nothing)."""
    body = clean(text or "")
    lowered = body.lower()
    for prefix in PREFIXES:
        if lowered.startswith(prefix) and lowered[len(prefix) : len(prefix) + 1] in ("", " "):
            return body[len(prefix) :].strip()
    return body


def may_answer(command: str, *, shared: bool, submitted: bool = False) -> bool:
    """Whether to answer ``command`` (as returned by :func:`command_text`) in this chat.

    Anything is answered in a personal chat. In a ``shared`` one only help and ``group`` are:
    not a card's button or form (``submitted``; adapters let a group's own buttons through),
    and no other command.
    """
    if not shared:
        return True
    return not submitted and command.split(" ", 1)[0].lower() in SHARED_CHAT_COMMANDS
