"""Typed commands without slash commands, and what is answered in a shared chat."""

import pytest

from bot.core.addressing import command_text, may_answer


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("/reconnect add Dana", "add Dana"),
        ("reconnect add Dana", "add Dana"),
        ("Reconnect   ADD Dana", "ADD Dana"),  # any case; spaces collapse
        ("/RECONNECT", ""),
        ("reconnect", ""),
        ("add Dana", "add Dana"),
        ("  due \u200b", "due"),  # cleaned
        ("reconnected add", "reconnected add"),  # a word that only starts with the prefix
        ("/reconnectadd", "/reconnectadd"),
        ("reconnect\nadd Dana", "reconnect\nadd Dana"),  # the prefix ends at a space only
        ("reconnect reconnect help", "reconnect help"),  # stripped once
        ("", ""),
        (None, ""),
    ],
)
def test_command_text(typed: str | None, command: str) -> None:
    assert command_text(typed) == command


@pytest.mark.parametrize("command", ["", "help", "HELP", "help add", "due", "add Dana", "list"])
def test_a_personal_chat_answers_everything(command: str) -> None:
    assert may_answer(command, shared=False)
    assert may_answer(command, shared=False, submitted=True)


@pytest.mark.parametrize(
    ("command", "answered"),
    [
        ("", True),
        ("help", True),
        ("Help", True),
        ("help add", True),
        ("due", False),
        ("list", False),
        ("add Dana", False),
        ("helpful", False),
        ("settings", False),
        ("group join", True),
        ("Group", True),
        ("groupie", False),
    ],
)
def test_a_shared_chat_answers_help_and_group_only(command: str, answered: bool) -> None:
    assert may_answer(command, shared=True) is answered


@pytest.mark.parametrize("command", ["", "help", "due"])
def test_a_shared_chat_never_takes_a_button_or_a_form(command: str) -> None:
    assert not may_answer(command, shared=True, submitted=True)
