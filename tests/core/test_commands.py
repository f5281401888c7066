"""Parsing /reconnect command text."""

import pytest

from bot.core.cadence import Span, Unit
from bot.core.commands import (
    Add,
    CommandError,
    Due,
    Edit,
    Help,
    ListAll,
    Log,
    Remove,
    Snooze,
    UnknownCommand,
    parse,
)
from bot.core.model import COMMAND_MAX


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Help()),
        ("   ", Help()),
        ("help", Help()),
        ("HELP", Help()),
        (
            "add Dana Whitfield every 2 months -- former CFO at Brightline, loves sailing",
            Add("Dana Whitfield", Span(2, Unit.MONTHS), "former CFO at Brightline, loves sailing"),
        ),
        ("add Dana Whitfield", Add("Dana Whitfield")),
        ("add Dana — autocorrected dash", Add("Dana", None, "autocorrected dash")),
        ("add Everett Smith every week", Add("Everett Smith", Span(1, Unit.WEEKS))),
        ("add   Zoë   Ó Briain  ", Add("Zoë Ó Briain")),
        ("add 李小龍 🚀 every 3 weeks", Add("李小龍 🚀", Span(3, Unit.WEEKS))),
        ("add", Add()),
        ("add @Dana Whitfield", Add("Dana Whitfield")),
        ("log @dana", Log("dana")),
        ("list page 2", ListAll(2)),
        ("log Dana -- she is hiring in Q3", Log("Dana", "she is hiring in Q3")),
        ("log", Log()),
        ("due", Due()),
        ("list", ListAll()),
        ("list 3", ListAll(3)),
        ("snooze Dana", Snooze("Dana")),
        ("snooze Dana 2 weeks", Snooze("Dana", Span(2, Unit.WEEKS))),
        ("snooze Dana for a week", Snooze("Dana", Span(1, Unit.WEEKS))),
        ("snooze Anna Day", Snooze("Anna Day")),
        ("edit Dana", Edit("Dana")),
        ("remove Dana", Remove("Dana")),
        ("delete Dana", Remove("Dana")),
    ],
)
def test_parses(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("add Bo every banana", "couldn't read “every banana”"),
        ("add Bo every 0 days", "at least 1 day"),
        ("add Bo every 5 years", "longer than I can plan for"),
        ("add Bo every 123456789012 days", "couldn't read"),
        ("add -- only notes", "Who would you like to add?"),
        ("snooze Dana 0 days", "at least 1 day"),
        ("snooze", "Whom do you mean?"),
        ("remove", "Whom do you mean?"),
        ("list banana", "page number"),
        ("list ²", "page number"),
        ("list 0", "page number"),
        ("add " + "x" * (COMMAND_MAX + 1), "more than I can take"),
    ],
)
def test_bad_input_is_explained(text: str, fragment: str) -> None:
    with pytest.raises(CommandError) as raised:
        parse(text)
    assert fragment in raised.value.message


@pytest.mark.parametrize(
    ("word", "suggestion"),
    [
        ("ad", "add"),
        ("lgo", "log"),
        ("snoze", "snooze"),
        ("dew", "due"),  # as close to the alias "new" (add), but a command wins the tie
        ("delte", "remove"),  # an alias still counts when it is the closest
        ("puase", "pause"),
        ("resme", "resume"),
    ],
)
def test_unknown_command_suggests_closest(word: str, suggestion: str) -> None:
    with pytest.raises(UnknownCommand) as raised:
        parse(f"{word} Dana")
    assert raised.value.suggestion == suggestion


def test_unknown_command_without_close_match() -> None:
    with pytest.raises(UnknownCommand) as raised:
        parse("frobnicate")
    assert raised.value.suggestion is None


def test_control_characters_and_invisible_marks_are_dropped() -> None:
    assert parse("add Dana\u200b Whit\u0000field") == Add("Dana Whitfield")


@pytest.mark.parametrize(
    ("text", "writes"),
    [
        ("help", False),
        ("add", False),  # opens the form
        ("add Dana", True),
        ("log", False),  # opens the form
        ("log Dana", True),
        ("due", False),
        ("list 2", False),
        ("snooze Dana", True),
        ("edit Dana", False),  # opens the form: the submission writes
        ("remove Dana", False),  # asks first: the button removes
        ("settings", False),
        ("pause", True),
        ("resume", True),
    ],
)
def test_each_command_declares_whether_it_writes(text: str, writes: bool) -> None:
    assert parse(text).writes is writes


def test_import_pool_and_triage_commands() -> None:
    from bot.core import commands as c

    assert c.parse("import") == c.Import()
    assert c.parse("import ~/Downloads/Connections.csv") == c.Import("~/Downloads/Connections.csv")
    assert c.parse("list pool") == c.ListPool()
    assert c.parse("list pool 3") == c.ListPool(3)
    assert c.parse("ls pool page 2") == c.ListPool(2)
    assert c.parse("triage") == c.Triage()
    assert c.parse("pool") == c.Triage()
    assert c.parse("list 2") == c.ListAll(2)  # unchanged
    assert not any(cmd.writes for cmd in (c.Import(), c.ListPool(), c.Triage()))
    with pytest.raises(c.CommandError, match="list pool 2"):
        c.parse("list pool two")
    assert c.suggest("imprt") == "import"


def test_a_text_parsed_again_is_not_parsed_again() -> None:
    """A write request is parsed to decide its replay protection, then to run it: the second
    parse is the first one's (immutable) command; errors are raised each time."""
    first = parse("add Dana Whitfield every 2 months -- sails")
    assert parse("add Dana Whitfield every 2 months -- sails") is first
    assert parse("log Dana") is not first
    for _ in range(2):
        with pytest.raises(UnknownCommand):
            parse("dew")
