"""Parsing the words after ``group``::

    group                         what group this channel is, your level, what you can do
    group create [name]           make this channel a group; you become its coach
    group join [level]            join this channel's group (the consent step; a level joins)
    group privacy [level]         see or change what you share
    group leave                   leave (at once)
    group coach @someone          add a co-coach (coaches only)
    group buddies [on|off]        weekly practice buddies: see, opt in or out
    group help

Levels are typed as 1–4 or as a word (``numbers``, ``names``, …; see
:meth:`~bot.core.groups.levels.SharingLevel.parse`). Whom ``group coach`` names comes from
the platform's mention (``Caller.mentions``), never from the typed name.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.groups.levels import SharingLevel
from bot.core.groups.model import NAME_MAX
from bot.core.text import one_line

__all__ = ["GroupCommand", "GroupCommandError", "parse_group"]

SUBCOMMANDS = ("create", "join", "privacy", "leave", "coach", "buddies", "help")
_ALIASES = {
    "new": "create",
    "start": "create",
    "level": "privacy",
    "share": "privacy",
    "sharing": "privacy",
    "quit": "leave",
    "exit": "leave",
    "coaches": "coach",
    "?": "help",
    "buddy": "buddies",
}
#: ``group buddies on|off``: the words for each.
_ON = frozenset({"on", "yes", "in", "join", "start"})
_OFF = frozenset({"off", "no", "out", "stop", "leave"})


class GroupCommandError(ValueError):
    """The words after ``group`` are not a group command; ``message`` says what is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class GroupCommand:
    """One ``group`` command: ``verb`` ("" for bare ``group``), a name for ``create``, a
    level for ``join``/``privacy`` when one was typed."""

    verb: str
    name: str = ""
    level: SharingLevel | None = None
    #: ``buddies on`` (True) or ``off`` (False); ``None``: just show.
    on: bool | None = None

    @property
    def writes(self) -> bool:
        """Whether the command may change data."""
        return (
            self.verb in ("create", "leave", "coach")
            or (self.verb in ("join", "privacy") and self.level is not None)
            or (self.verb == "buddies" and self.on is not None)
        )


def parse_group(rest: str, cmd: str = "") -> GroupCommand:
    """Parse the text after ``group``. Raises :class:`GroupCommandError`."""
    text = one_line(rest)
    word, _, tail = text.partition(" ")
    verb = _ALIASES.get(word.lower(), word.lower())
    tail = tail.strip()
    match verb:
        case "":
            return GroupCommand("")
        case "help":
            return GroupCommand("help")
        case "create":
            name = tail.strip("\"'“”")
            if len(name) > NAME_MAX:
                raise GroupCommandError(
                    f"Please keep the group's name under {NAME_MAX} characters."
                )
            return GroupCommand("create", name=name)
        case "join" | "privacy":
            if not tail:
                return GroupCommand(verb)
            level = SharingLevel.parse(tail)
            if level is None:
                raise GroupCommandError(
                    f"I don't know the sharing level “{tail[:30]}”. Choose 1 to 4 — "
                    f"`{cmd}group {verb} 2` shares your weekly numbers — or type "
                    f"`{cmd}group {verb}` to see what each level shares."
                )
            return GroupCommand(verb, level=level)
        case "leave" | "coach":
            return GroupCommand(verb)
        case "buddies":
            answer = tail.lower()
            if not answer:
                return GroupCommand("buddies")
            if answer in _ON or answer in _OFF:
                return GroupCommand("buddies", on=answer in _ON)
            raise GroupCommandError(
                f"Practice buddies are on or off: `{cmd}group buddies on` or "
                f"`{cmd}group buddies off` (`{cmd}group buddies` shows yours)."
            )
    raise GroupCommandError(
        f"I don't know “group {word[:30]}”. Try `{cmd}group create`, `{cmd}group join`, "
        f"`{cmd}group privacy`, `{cmd}group leave` or `{cmd}group coach @someone`."
    )
