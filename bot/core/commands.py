"""Parsing ``/reconnect`` command text into typed commands.

The grammar (also shown by ``/reconnect help``)::

    help
    add <full name> [called <preferred name>] [as <relationship>] [last <when>]
        [every <N> days|weeks|months] [-- <notes>]
    log <name> [<how it went>] [-- <what you talked about>] [learned: <what you learned>]
        [next: <next step> by <when>]
    reached <name>
    opener <name>
    prep <name>
    win <name> -- <their news or win>
    due
    list [<page>]
    snooze <name> [<N> days|weeks|months]
    edit <name>
    remove <name>
    settings
    pause [until <date> | for <N> days|weeks]
    resume
    export [csv|json|vcard]
    delete my data
    import                       (how to upload a LinkedIn, Google or vCard file)
    list pool [<page>]
    triage                       (pick who matters from the pool)
    goal [<N> | off]
    recap
    evidence                      (alias: stats)
    group [create|join|privacy|leave|coach …]   (outplacement groups: bot.core.groups)

``<relationship>`` is one of ``former boss`` (``boss``, ``manager``), ``peer`` (``colleague``),
``report`` (``managed``: someone you managed), ``mentor``, ``client``, ``friend``, ``other``;
``<when>`` (last in touch, before Reconnect) is ``March 2019``, ``2019-03``, ``3/2019``,
``2019`` or ``years ago``. The ``as``, ``last`` and ``every`` parts may come in any order.

``--`` may also be typed as an em dash (``—``), which many keyboards substitute automatically.
Text reaching this module is already unescaped by the adapter (no Slack ``&amp;`` or ``<@U…>``).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

from bot.core import log_grammar
from bot.core.cadence import DEFAULT_SNOOZE, CadenceError, Span, parse_cadence, parse_span
from bot.core.data_export import FORMAT_WORDS
from bot.core.evidence import Expectation, OutcomeTag
from bot.core.model import COMMAND_MAX
from bot.core.names import split_preferred
from bot.core.reflection import split_learned
from bot.core.relationships import parse_relationship
from bot.core.text import clean, one_line, parse_count


@dataclass(frozen=True, slots=True)
class Help:
    """Show what the bot does and every command."""

    writes: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class Add:
    """Add a contact; with no name, open the "Add contact" form."""

    name: str | None = None
    cadence: Span | None = None
    notes: str = ""
    preferred: str = ""
    relationship: str = ""  # a Relationship value
    last_in_touch: str = ""  # as typed; read with bot.core.relationships.parse_last_in_touch

    @property
    def writes(self) -> bool:
        """Without a name it only opens the form."""
        return self.name is not None


@dataclass(frozen=True, slots=True)
class Log:
    """Log a conversation today; with no name, open the "Log conversation" form."""

    name: str | None = None
    note: str = ""
    #: How it went, when a phrase after the name said so ("went well").
    response: Expectation | None = None
    #: Outcome tags recognised in the note (bot.core.log_grammar).
    outcomes: frozenset[OutcomeTag] = frozenset()
    #: A next step ("next: <text> by <when>"): its text and the date as typed.
    step: str = ""
    step_when: str = ""
    #: The name as typed, phrase included (a name that ends like a phrase still matches).
    typed_name: str = ""
    #: What was learned about them ("learned: …"; bot.core.reflection).
    learned: str = ""

    @property
    def writes(self) -> bool:
        """Without a name it only opens the form."""
        return self.name is not None


@dataclass(frozen=True, slots=True)
class Reached:
    """Mark a contact reached out today (then a one-tap prediction)."""

    writes: ClassVar[bool] = True

    name: str


@dataclass(frozen=True, slots=True)
class Win:
    """Note a contact's news or win (dated today): it brings a "Congratulate …" card."""

    writes: ClassVar[bool] = True

    name: str
    news: str


@dataclass(frozen=True, slots=True)
class ShowEvidence:
    """Fears vs facts: predictions, replies, dormant ties, outcomes."""

    writes: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class Due:
    """Who is due or overdue now."""

    writes: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class ListAll:
    """Everyone, a page at a time (pages count from 1)."""

    writes: ClassVar[bool] = False

    page: int = 1


@dataclass(frozen=True, slots=True)
class Snooze:
    """Push a contact's due date back."""

    writes: ClassVar[bool] = True

    name: str
    span: Span = DEFAULT_SNOOZE


@dataclass(frozen=True, slots=True)
class Edit:
    """Open the edit form for a contact."""

    writes: ClassVar[bool] = False

    name: str


@dataclass(frozen=True, slots=True)
class Remove:
    """Ask to confirm removing a contact."""

    writes: ClassVar[bool] = False

    name: str


@dataclass(frozen=True, slots=True)
class Settings:
    """Open the nudge settings form."""

    writes: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class Pause:
    """Pause the morning nudges; ``when`` is the text after ``pause`` (parsed with a date)."""

    writes: ClassVar[bool] = True

    when: str = ""


@dataclass(frozen=True, slots=True)
class Resume:
    """Resume the morning nudges."""

    writes: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Opener:
    """Draft a few openers for a contact."""

    writes: ClassVar[bool] = False

    name: str


@dataclass(frozen=True, slots=True)
class Prep:
    """Prepare for a conversation with a contact."""

    writes: ClassVar[bool] = False

    name: str


@dataclass(frozen=True, slots=True)
class Export:
    """A copy of everything we keep about the user, as files (all formats, or those named)."""

    writes: ClassVar[bool] = False

    formats: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DeleteMyData:
    """Ask to confirm deleting everything of the user (the button deletes)."""

    writes: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class Import:
    """How to import contacts (the file itself comes as an upload; the console's
    ``import <path>`` reads one)."""

    writes: ClassVar[bool] = False

    path: str = ""


@dataclass(frozen=True, slots=True)
class ListPool:
    """The imported people not yet in the circle, a page at a time."""

    writes: ClassVar[bool] = False

    page: int = 1


@dataclass(frozen=True, slots=True)
class Triage:
    """Pick who matters from the pool (checkboxes)."""

    writes: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class Goal:
    """Show (no text), set (``3``) or clear (``off``) the weekly outreach goal."""

    text: str = ""

    @property
    def writes(self) -> bool:
        """Without a number it only shows the goal."""
        return bool(self.text.strip())


@dataclass(frozen=True, slots=True)
class Recap:
    """Show the weekly recap of the week so far."""

    writes: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class Group:
    """An outplacement group command: ``text`` is what follows ``group`` (parsed by
    :mod:`bot.core.groups.commands`, which runs outside the caller's contact book)."""

    writes: ClassVar[bool] = True

    text: str = ""


#: Every command says whether running it may change data (``writes``): commands that only
#: show something or open a form run in a read-only transaction.
Command = (
    Help | Add | Log | Win | Due | ListAll | Snooze | Edit | Remove | Settings | Pause | Resume
    | Opener | Prep | Export | DeleteMyData | Import | ListPool | Triage | Reached | ShowEvidence
    | Goal | Recap | Group
)  # fmt: skip


class CommandError(ValueError):
    """The text is not a valid command; ``message`` is a friendly reply for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownCommand(CommandError):
    """The first word is not a command we know; ``suggestion`` is the closest one, if any."""

    def __init__(self, word: str, suggestion: str | None) -> None:
        self.word = word
        self.suggestion = suggestion
        hint = f" Did you mean `{suggestion}`?" if suggestion else ""
        super().__init__(f"I don't know the command “{word}”.{hint}")


COMMANDS = (
    "help", "add", "log", "due", "list", "snooze", "edit", "remove", "settings", "pause", "resume",
    "opener", "prep",
    "export",
    "import", "triage",
    "goal", "recap",
    "reached", "evidence",
    "win",
    "group",
)  # fmt: skip
#: "delete my data" (and its variants) erases everything; "delete <name>" removes a contact.
_ERASE_PHRASES = frozenset(
    {"delete my data", "delete all my data", "erase my data", "delete my account", "forget me"}
)
_ALIASES = {
    "?": "help",
    "h": "help",
    "new": "add",
    "ls": "list",
    "all": "list",
    "delete": "remove",
    "rm": "remove",
    "del": "remove",
    "talked": "log",
    "later": "snooze",
    "setting": "settings",
    "prefs": "settings",
    "preferences": "settings",
    "vacation": "pause",
    "unpause": "resume",
    "openers": "opener",
    "draft": "opener",
    "prepare": "prep",
    "download": "export",
    "pool": "triage",
    "goals": "goal",
    "target": "goal",
    "week": "recap",
    "review": "recap",
    "stats": "evidence",
    "reachedout": "reached",
    "news": "win",
    "wins": "win",
    "congrats": "win",
    "groups": "group",
    "cohort": "group",
}

_NOTES_SPLIT = re.compile(r"(?:^|\s)(?:--|—|–)")
_CADENCE_TAIL = re.compile(r"(?:^|\s)every(?:\s+(?P<body>.*))?$", re.IGNORECASE | re.DOTALL)
_NUMBER_WORDS = r"a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_SPAN_TAIL = re.compile(
    rf"\s+(?:for\s+)?(?P<span>(?:\d{{1,9}}\s*|(?:{_NUMBER_WORDS})\s+)"
    r"(?:days?|d|weeks?|wks?|w|months?|mos?|years?))\s*$",
    re.IGNORECASE,
)


def parse(text: str) -> Command:
    """Parse command text (without the leading ``/reconnect``) into a :class:`Command`.

    Raises :class:`CommandError` (or :class:`UnknownCommand`) with a user-facing message.
    """
    return _parsed(text)


@lru_cache(maxsize=16)
def _parsed(text: str) -> Command:
    """:func:`parse`, remembered for the last few texts: a Slack request that may write is
    parsed once to decide its replay protection and again to run it. Commands are immutable
    and parsing depends on the text alone. Few are kept, and briefly under load: they hold
    what people typed."""
    return _parse(text)


def _parse(text: str) -> Command:
    if len(text) > COMMAND_MAX:
        raise CommandError(
            f"That's {len(text):,} characters — more than I can take in one command "
            f"(the limit is {COMMAND_MAX:,}). Shorten the notes, or use the form instead."
        )
    text = clean(text)
    if not text:
        return Help()
    if " ".join(text.lower().split()).rstrip(".!") in _ERASE_PHRASES:
        return DeleteMyData()
    word, _, rest = text.partition(" ")
    if "\n" in word:
        word, _, more = word.partition("\n")
        rest = f"{more} {rest}".strip()
    verb = word.lower()
    verb = _ALIASES.get(verb, verb)
    rest = rest.strip()
    match verb:
        case "help":
            return Help()
        case "add":
            return _parse_add(rest)
        case "log":
            return _parse_log(rest)
        case "win":
            return _parse_win(rest)
        case "due":
            return Due()
        case "list":
            return _parse_list(rest)
        case "snooze":
            return _parse_snooze(rest)
        case "edit":
            return Edit(_required_name(rest, "edit"))
        case "remove":
            return Remove(_required_name(rest, "remove"))
        case "settings":
            return Settings()
        case "pause":
            return Pause(one_line(rest))
        case "resume":
            return Resume()
        case "opener":
            return Opener(_required_name(rest, "opener"))
        case "prep":
            return Prep(_required_name(rest, "prep"))
        case "export":
            return _parse_export(rest)
        case "import":
            return Import(one_line(rest))
        case "triage":
            return Triage()
        case "goal":
            return Goal(one_line(rest))
        case "recap":
            return Recap()
        case "reached":
            return Reached(_required_name(rest, "reached"))
        case "evidence":
            return ShowEvidence()
        case "group":
            return Group(rest)
    raise UnknownCommand(one_line(word)[:40], suggest(verb))


def suggest(word: str) -> str | None:
    """The command closest to ``word``, if any is close.

    Among equally close words a command beats an alias, then a word with the same first letter:
    "dew" is as close to "due" as to the alias "new", and means "due".
    """
    typed = word.lower()[:40]
    best: tuple[float, bool, bool] | None = None
    found = None
    for candidate in COMMANDS + tuple(_ALIASES):
        score = difflib.SequenceMatcher(None, typed, candidate).ratio()
        if score < 0.6:
            continue
        rank = (round(score, 6), candidate in COMMANDS, candidate[:1] == typed[:1])
        if best is None or rank > best:
            best, found = rank, candidate
    return _ALIASES.get(found, found) if found is not None else None


def _name(text: str) -> str:
    """A typed name: one line, without the "@" of a plain-text mention."""
    return one_line(text).lstrip("@").strip()


def split_notes(text: str) -> tuple[str, str]:
    """Split ``"Dana every 2 months -- loves sailing"`` at the first ``--`` (or em dash)."""
    parts = _NOTES_SPLIT.split(text, maxsplit=1)
    head = parts[0]
    notes = parts[1] if len(parts) > 1 else ""
    return one_line(head), clean(notes)


def _parse_add(rest: str) -> Add:
    if not rest:
        return Add()
    head, notes = split_notes(rest)
    cadence = None
    relationship = last = preferred = ""
    # The optional parts, peeled off the end one at a time (any order): ``every …``,
    # ``last …``, ``as …`` and ``called …``. A ``last``/``as`` that doesn't read as one stays
    # in the name.
    while True:
        tail = _LAST_TAIL.search(head)
        if not last and tail is not None and _looks_like_when(tail.group("when")):
            last = one_line(tail.group("when"))
            head = head[: tail.start()].strip()
            continue
        tail = _AS_TAIL.search(head)
        if not relationship and tail is not None:
            found = parse_relationship(tail.group("tie"))
            if found is not None:
                relationship = found.value
                head = head[: tail.start()].strip()
                continue
        tail = _CADENCE_TAIL.search(head)
        if cadence is None and tail is not None:
            try:
                cadence = parse_cadence(head[tail.start() :])
            except CadenceError as exc:
                raise CommandError(str(exc)) from None
            head = head[: tail.start()].strip()
            continue
        if not preferred:
            head, preferred = split_preferred(head)
            if preferred:
                continue
        break
    head = _name(head)
    if not head:
        raise CommandError(
            "Who would you like to add? Try `add Dana Whitfield every 2 months -- former CFO`."
        )
    return Add(
        name=head,
        cadence=cadence,
        notes=notes,
        preferred=preferred,
        relationship=relationship,
        last_in_touch=last,
    )


# The value of a part stops where another part begins (``… last 2019 every 2 months``).
_NOT_A_PART = r"(?:(?!\s(?:as|last|every)\s).)*"
_LAST_TAIL = re.compile(
    rf"(?:^|\s)last(?:\s+in\s+touch)?\s+(?P<when>\S{_NOT_A_PART})$", re.IGNORECASE
)
_AS_TAIL = re.compile(
    rf"(?:^|\s)as\s+(?:(?:my|a|an)\s+)?(?P<tie>[a-z]{_NOT_A_PART})$", re.IGNORECASE
)
_WHEN_START = re.compile(r"^(?:\d|years\b|many\b|some\b|a few\b|[a-z]{3,9}\.?,?\s+\d)", re.I)


def _looks_like_when(text: str) -> bool:
    """Whether the words after ``last`` are meant as a date (and so must parse as one)."""
    return bool(_WHEN_START.match(text.strip()))


def _parse_win(rest: str) -> Win:
    head, news = split_notes(rest)
    name = _name(head)
    if not name or not news:
        raise CommandError(
            "Whose news is it, and what happened? Try `win Dana -- got promoted to VP`."
        )
    return Win(name=name, news=one_line(news))


def _parse_log(rest: str) -> Log:
    if not rest:
        return Log()
    head, note = split_notes(rest)
    head = _name(head)
    if not head:
        raise CommandError("Whom did you talk to? Try `log Dana -- she's hiring in Q3`.")
    name, response = log_grammar.split_response(head)
    if not name:
        raise CommandError("Whom did you talk to? Try `log Dana went well -- referral to Acme`.")
    # "next:" first: a next step runs to the end of the note, "learned:" may come before it.
    note, step, step_when = log_grammar.split_next_step(note)
    note, learned = split_learned(note)
    if step and not step_when:
        raise CommandError(
            "When should I remind you of that next step? End it with a date, like "
            "`next: intro to the CFO by friday`."
        )
    return Log(
        name=name,
        note=note,
        learned=learned,
        response=response,
        outcomes=log_grammar.outcomes_in(note),
        step=step,
        step_when=step_when,
        typed_name=head if response is not None else "",
    )


def _parse_list(rest: str) -> ListAll | ListPool:
    if not rest:
        return ListAll()
    if rest.lower() == "pool" or rest.lower().startswith("pool "):
        return ListPool(_parse_page(rest[4:].strip()))
    token = rest.lower().removeprefix("page").strip()
    page = parse_count(token, below=100_000)
    if page is not None:
        return ListAll(page=page)
    raise CommandError("`list` takes an optional page number, like `list 2`.")


def _parse_page(rest: str) -> int:
    """``list pool [page N]``'s page."""
    if not rest:
        return 1
    page = parse_count(rest.lower().removeprefix("page").strip(), below=100_000)
    if page is None:
        raise CommandError("`list pool` takes an optional page number, like `list pool 2`.")
    return page


def _parse_snooze(rest: str) -> Snooze:
    name = _required_name(rest, "snooze")
    tail = _SPAN_TAIL.search(" " + name)
    if tail is None:
        return Snooze(name=name)
    try:
        span = parse_span(tail.group("span"), what="snooze")
    except CadenceError as exc:
        raise CommandError(str(exc)) from None
    head = (" " + name)[: tail.start()].strip()
    if not head:
        raise CommandError("Whom should I snooze? Try `snooze Dana 2 weeks`.")
    return Snooze(name=head, span=span)


def _parse_export(rest: str) -> Export:
    words = [w for w in re.split(r"[\s,]+", one_line(rest).lower()) if w and w != "and"]
    if words in ([], ["all"], ["everything"]):
        return Export()
    unknown = [w for w in words if w not in FORMAT_WORDS]
    if unknown:
        raise CommandError(
            f"I can export as CSV, JSON or vCard — not “{unknown[0][:30]}”. "
            "Try `export`, or `export csv`."
        )
    return Export(tuple(dict.fromkeys(FORMAT_WORDS[w].value for w in words)))


def _required_name(rest: str, verb: str) -> str:
    name = _name(rest)
    if not name:
        raise CommandError(f"Whom do you mean? Try `{verb} Dana`.")
    return name
