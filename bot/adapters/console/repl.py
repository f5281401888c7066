"""A terminal chat with Reconnect: type commands, press buttons by number, fill in forms."""

from __future__ import annotations

import asyncio
import enum
import getpass
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.adapters.console.render import render
from bot.core.addressing import command_text
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

ReadLine = Callable[[str], Awaitable[str | None]]
#: Today's morning nudge for the caller (see :class:`bot.adapters.console.today.TodayNudge`).
TodayReply = Callable[[Caller], Awaitable[Reply]]


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
    ) -> None:
        self.service = service
        self.caller = caller
        self.read = read
        self.out = out
        self.bold = bold
        self.today = today
        self.buttons: list[Button] = []

    async def run(self) -> None:
        """Loop until ``quit`` or end of input."""
        self.say(GREETING)
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
            await self.show(await self.service.action(self.caller, button.action, button.value))
            return
        if line.lower() == "home":
            await self.show(await self.service.home(self.caller))
            return
        text = command_text(line)
        if text.lower() == "today" and self.today is not None:
            await self.show(await self.today(self.caller))
            return
        await self.show(await self.service.command(self.caller, text))

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


async def stdin_reader(prompt: str) -> str | None:
    """Read a line without blocking the event loop; ``None`` at end of input."""
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        return None
