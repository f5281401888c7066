"""A terminal chat with Reconnect: type commands, press buttons by number, fill in forms."""

from __future__ import annotations

import enum
import getpass
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from bot.adapters.console import files
from bot.adapters.console.importer import import_from_disk, import_path
from bot.adapters.console.render import render
from bot.core.addressing import command_text
from bot.core.commands import CommandError, Help, parse
from bot.core.groups.coaching import Coaching
from bot.core.model import UserRef
from bot.core.replies import (
    Button,
    DateField,
    Form,
    FormErrors,
    MessageUpdate,
    MultiSelectField,
    Outcome,
    Reply,
    SelectField,
    TextField,
    TimeField,
)
from bot.core.service import Caller, Reconnect
from bot.core.text import parse_count

PROMPT = "reconnect> "
GREETING = (
    "Reconnect console — the same bot as in Slack, in your terminal.\n"
    "Type `/reconnect help` (or just `help`), `home` for the overview, `today` for this "
    "morning's nudge, a number to press a button, and `quit` to leave."
)
TODAY_INTRO = (
    "Your nudge for today — in Slack or Teams it arrives as a direct message at your nudge "
    "time (`settings`); here, type `today` to see it again."
)

#: What ``help`` adds in the console: the words only the console knows.
CONSOLE_HELP = (
    "In this console also: `today` — this morning's nudge, as Slack or Teams would send it; "
    "`home` — the overview; a number — press that button; `quit` — leave."
)
#: The same without ``today`` (a console built without the morning nudge).
CONSOLE_HELP_NO_TODAY = (
    "In this console also: `home` — the overview; a number — press that button; `quit` — leave."
)

ReadLine = Callable[[str], Awaitable[str | None]]
#: Today's morning nudge for the caller (see :class:`bot.adapters.console.today.TodayNudge`).
TodayReply = Callable[[Caller], Awaitable[Reply]]


#: The console has no channels and no other members to reach.
COACH_ELSEWHERE = (
    "Check-ins, shared wins and group prompts reach other people, so they work on Slack and "
    "Teams. Here, `coach` shows your groups."
)


def console_caller(user: str | None = None) -> Caller:
    """The console's user: the local account name, in the ``console`` platform."""
    return Caller(UserRef("console", "local", user or getpass.getuser()), command="/reconnect ")


class Console:
    """The read–eval–print loop. Input and output are injectable for tests."""

    def __init__(
        self,
        service: Reconnect,
        caller: Caller,
        read: ReadLine,
        out: TextIO,
        *,
        bold: bool,
        today: TodayReply | None = None,
        files_dir: Path | None = None,
    ) -> None:
        self.service = service
        self.caller = caller
        self.read = read
        self.out = out
        self.bold = bold
        self.today = today
        #: Where a reply's files are written (see :mod:`bot.adapters.console.files`).
        self.files_dir = files_dir if files_dir is not None else files.export_dir()
        self.buttons: list[Button] = []

    async def run(self) -> None:
        """Loop until ``quit``, end of input (Ctrl-D) or Ctrl-C while reading."""
        self.say(GREETING)
        try:
            if self.today is not None:
                self.say("")
                self.say(TODAY_INTRO)
                await self.show(await self.today(self.caller))
            while True:
                line = await self.read(PROMPT)
                if line is None:
                    break
                line = line.strip()
                if line.lower() in ("quit", "exit", "/quit", "q"):
                    break
                if not line:
                    continue
                await self.handle(line)
        except KeyboardInterrupt:  # raised only while waiting for a line (stdin_reader)
            self.say("")
        self.say("Bye — and good luck with today's conversations.")

    async def handle(self, line: str) -> None:
        """One line of input: a button number, ``home``, or a command."""
        number = parse_count(line, below=10_000)
        if number is not None:
            index = number - 1
            if not 0 <= index < len(self.buttons):
                self.say("There's no button with that number.")
                return
            button = self.buttons[index]
            if self._coaching() is not None and Coaching.owns_action(button.action):
                self.say(COACH_ELSEWHERE)  # check-ins and sharing reach others: Slack, Teams
                return
            await self.show(await self.service.action(self.caller, button.action, button.value))
            return
        if line.lower() == "home":
            await self.show(await self.service.home(self.caller))
            return
        text = command_text(line)
        if text.lower() == "today" and self.today is not None:
            await self.show(await self.today(self.caller))
            return
        path = import_path(text)
        if path is not None:  # the console reads the file; Slack and Teams upload it
            await self.show(await import_from_disk(self.service, self.caller, path))
            return
        coaching = self._coaching()
        if coaching is not None and coaching.owns_command(text):
            if text.split()[0].lower() == "group":
                self.say(COACH_ELSEWHERE)
            else:
                await self.show(await coaching.view(self.caller, " ".join(text.split()[1:])))
            return
        await self.show(await self.service.command(self.caller, text))
        if _is_help(text):
            self.say(CONSOLE_HELP if self.today is not None else CONSOLE_HELP_NO_TODAY)

    def _coaching(self) -> Coaching | None:
        share = self.service.share
        return share if isinstance(share, Coaching) else None

    async def show(self, outcome: Outcome | FormErrors) -> None:
        """Print a reply, or walk through a form and print the result."""
        if isinstance(outcome, Form):
            result = await self.fill(outcome)
            if result is None:
                self.say("Cancelled.")
                return
            outcome = result
        if isinstance(outcome, MessageUpdate):
            if outcome.notice is not None:
                self.say(render(outcome.notice, bold=self.bold)[0])
            outcome = outcome.message
        if isinstance(outcome, FormErrors):
            return
        text, self.buttons = render(outcome, bold=self.bold)
        self.say(text)
        if outcome.files:
            self.save(outcome)

    def save(self, reply: Reply) -> None:
        """Write the reply's files and print where they are."""
        try:
            paths = files.write_files(self.files_dir, reply.files)
        except OSError as exc:
            self.say(f"I couldn't write the files to {self.files_dir}: {exc.strerror or exc}.")
            return
        self.say("Saved:" if len(paths) > 1 else "Saved to:")
        for path in paths:
            self.say(f"   {path}")

    async def fill(self, form: Form) -> Reply | MessageUpdate | None:
        """Ask for each field; re-ask the ones with errors. ``None`` when cancelled."""
        self.say(f"\n== {form.title} ==  (Enter keeps the [default]; `cancel` stops)")
        if form.intro:
            self.say(form.intro)
        values: dict[str, str | None] = {}
        pending = list(form.fields)
        while True:
            for field in pending:
                answer = await self.ask(field)
                if answer is _CANCEL:
                    return None
                values[field.id] = answer
            result = await self.service.submit(self.caller, form.kind, form.context, values)
            if not isinstance(result, FormErrors):
                return result
            for message in result.errors.values():
                self.say(f"  ! {message}")
            pending = [f for f in form.fields if f.id in result.errors]

    async def ask(
        self, field: TextField | SelectField | MultiSelectField | DateField | TimeField
    ) -> str | _Cancel | None:
        """Prompt for one field."""
        optional = " (optional)" if field.optional else ""
        match field:
            case MultiSelectField():
                for number, choice in enumerate(field.choices, 1):
                    mark = " *" if choice.value in field.initial else ""
                    self.say(f"   {number}) {choice.label}{mark}")
                default = ",".join(
                    str(i) for i, c in enumerate(field.choices, 1) if c.value in field.initial
                )
                raw = await self.prompt(f"{field.label} (numbers, e.g. 1,3,5){optional}", default)
                if raw is _CANCEL or raw is None:
                    return raw
                assert isinstance(raw, str)
                picked = [parse_count(p, below=len(field.choices) + 1) for p in raw.split(",")]
                return ",".join(field.choices[n - 1].value for n in picked if n is not None)
            case TimeField():
                default = f"{field.initial:%H:%M}" if field.initial else ""
                return await self.prompt(f"{field.label} (HH:MM){optional}", default)
            case SelectField():
                for number, choice in enumerate(field.choices, 1):
                    mark = " *" if choice.value == field.initial else ""
                    self.say(f"   {number}) {choice.label}{mark}")
                default = next(
                    (str(i) for i, c in enumerate(field.choices, 1) if c.value == field.initial),
                    "",
                )
                raw = await self.prompt(f"{field.label}{optional}", default)
                if raw is _CANCEL or raw is None:
                    return raw
                assert isinstance(raw, str)
                chosen = parse_count(raw, below=len(field.choices) + 1)
                if chosen is not None:
                    return field.choices[chosen - 1].value
                return raw or None
            case DateField():
                default = field.initial.isoformat() if field.initial else ""
                return await self.prompt(f"{field.label} (YYYY-MM-DD){optional}", default)
            case TextField():
                return await self.prompt(f"{field.label}{optional}", field.initial)

    async def prompt(self, label: str, default: str) -> str | _Cancel | None:
        """One answer; the default on Enter; ``_CANCEL`` on ``cancel`` or end of input."""
        shown = f" [{default}]" if default else ""
        raw = await self.read(f"{label}{shown}: ")
        if raw is None or raw.strip().lower() in ("cancel", "/cancel"):
            return _CANCEL
        return raw.strip() or default or None

    def say(self, text: str) -> None:
        """Print to the console."""
        print(text, file=self.out, flush=True)


class _Cancel(enum.Enum):
    """The answer when the user cancels a form (a type of its own, unlike ``object()``)."""

    CANCEL = "cancel"


_CANCEL = _Cancel.CANCEL


def enable_line_editing() -> bool:
    """Arrow keys, history and Ctrl-A/E on the prompt when stdin is a terminal (stdlib
    ``readline``; importing it makes :func:`input` use it). ``False`` when not enabled."""
    if not sys.stdin.isatty():
        return False
    try:
        import readline  # noqa: F401
    except ImportError:  # Python built without it (e.g. Windows)
        return False
    return True


def keep_interrupts_on_this_thread() -> None:
    """Block SIGINT on this (the main) thread, so every thread started from here on inherits
    the block; :func:`stdin_reader` unblocks it while it waits for a line.

    Call it first, before anything starts a thread. Otherwise the kernel may hand Ctrl-C's
    SIGINT to a database or executor thread, and the main thread, blocked reading the
    terminal, never wakes up to raise ``KeyboardInterrupt``. A Ctrl-C while a command runs
    takes effect at the next prompt.
    """
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


async def stdin_reader(prompt: str) -> str | None:
    """Read a line; ``None`` at end of input (Ctrl-D). Ctrl-C raises ``KeyboardInterrupt`` at
    once.

    The line is read on the event loop's own thread, blocking it: the console has nothing else
    to do meanwhile. (Read in a worker thread, Ctrl-C would only cancel the loop's wait, and
    the process would hang at exit until the thread's ``input()`` got its Enter.) asyncio's
    SIGINT handler merely cancels the main task, which ``input()`` ignores, so Python's own
    handler is put back while reading; and SIGINT, blocked elsewhere (see
    :func:`keep_interrupts_on_this_thread`), is let through to this thread only.
    """
    previous = signal.getsignal(signal.SIGINT)
    swapped = previous is not signal.default_int_handler
    if swapped:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    masked = hasattr(signal, "pthread_sigmask") and signal.SIGINT in signal.pthread_sigmask(
        signal.SIG_UNBLOCK, {signal.SIGINT}
    )
    try:
        return input(prompt)  # noqa: ASYNC250 (on purpose: see above)
    except EOFError:
        return None
    finally:
        if masked:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        if swapped:
            signal.signal(signal.SIGINT, previous)


def _is_help(text: str) -> bool:
    try:
        return isinstance(parse(text), Help)
    except CommandError:
        return False
