"""Platform-neutral reply models. Adapters render them as Block Kit, Adaptive Cards or text.

All text in these models is plain: adapters escape it for their platform, so a contact called
``<!channel>`` or ``*bold*`` is shown literally. Emphasis is expressed with :class:`Strong` and
:class:`Em` spans rather than markup characters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from enum import StrEnum
from typing import Literal


@dataclass(frozen=True, slots=True)
class Strong:
    """Bold text."""

    text: str


@dataclass(frozen=True, slots=True)
class Em:
    """Italic (secondary) text."""

    text: str


@dataclass(frozen=True, slots=True)
class Mention:
    """A person named in a channel post (a group recap's shout-out): Slack shows the user
    ``user_id`` as an @-mention; other platforms show ``fallback``, which the core writes."""

    user_id: str
    fallback: str


Inline = str | Strong | Em | Mention


@dataclass(frozen=True, slots=True)
class Button:
    """A button. ``action`` names what the core should do; ``value`` carries its argument.

    A button with a ``url`` opens it instead (a ``mailto:`` draft): adapters render it as a link
    button, and its click, where the platform still reports one, does nothing.
    """

    label: str
    action: str
    value: str = ""
    style: Literal["primary", "danger"] | None = None
    url: str = ""


@dataclass(frozen=True, slots=True)
class Header:
    """A short title line."""

    text: str


@dataclass(frozen=True, slots=True)
class Section:
    """A paragraph, optionally with one button beside it."""

    parts: tuple[Inline, ...]
    button: Button | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """Small print under a section: dates, hints."""

    parts: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Actions:
    """A row of buttons."""

    buttons: tuple[Button, ...]


@dataclass(frozen=True, slots=True)
class Divider:
    """A horizontal rule."""


Block = Header | Section | Context | Actions | Divider


@dataclass(frozen=True, slots=True)
class FileOut:
    """A file that goes with a reply: an export, or a chart.

    Adapters deliver it as their platform allows (Slack: an upload to the DM; Teams: an inline image
    for ``image/*``, a file-consent card otherwise; console: a file written to disk, path printed).
    ``alt_text`` says in words what an image shows; the reply's text must say the same anyway.
    """

    filename: str
    media_type: str
    content: bytes
    title: str = ""
    alt_text: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """A message for one user. ``summary`` is the plain-text fallback for notifications.

    ``files`` go with the message (see :class:`FileOut`); most replies have none.
    ``post`` is a message for everyone in the channel the request came from (a group's
    welcome); adapters post it there as well, and those without channels ignore it.
    """

    summary: str
    blocks: tuple[Block, ...] = ()
    files: tuple[FileOut, ...] = ()
    post: Reply | None = None


def section(*parts: Inline, button: Button | None = None) -> Section:
    """Shorthand for :class:`Section`."""
    return Section(parts=tuple(parts), button=button)


def context(*parts: Inline) -> Context:
    """Shorthand for :class:`Context`."""
    return Context(parts=tuple(parts))


def plain(parts: tuple[Inline, ...]) -> str:
    """The text of ``parts`` without emphasis."""
    return "".join(
        p if isinstance(p, str) else p.fallback if isinstance(p, Mention) else p.text for p in parts
    )


def message(text: str) -> Reply:
    """A reply that is a single paragraph."""
    return Reply(summary=text, blocks=(section(text),))


# --- Forms ---------------------------------------------------------------------------------


class FormKind(StrEnum):
    """Which form a submission belongs to."""

    ADD_CONTACT = "add_contact"
    EDIT_CONTACT = "edit_contact"
    LOG_CONVERSATION = "log_conversation"
    SETTINGS = "settings"
    TRIAGE_POOL = "triage_pool"
    #: A coach's kind check-in to a quiet group member (bot.core.groups.checkin).
    COACH_CHECKIN = "coach_checkin"
    #: *Edit, then share* a win with a group (bot.core.groups.share).
    SHARE_WIN = "share_win"


@dataclass(frozen=True, slots=True)
class TextField:
    """A text input."""

    id: str
    label: str
    initial: str = ""
    placeholder: str = ""
    multiline: bool = False
    optional: bool = False
    max_length: int = 200


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a :class:`SelectField`."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class SelectField:
    """A single-choice picker."""

    id: str
    label: str
    choices: tuple[Choice, ...]
    initial: str | None = None
    optional: bool = False


@dataclass(frozen=True, slots=True)
class MultiSelectField:
    """Several choices (checkboxes). Submitted as the chosen values joined by commas."""

    id: str
    label: str
    choices: tuple[Choice, ...]
    initial: tuple[str, ...] = ()
    optional: bool = False


@dataclass(frozen=True, slots=True)
class DateField:
    """A date picker."""

    id: str
    label: str
    initial: date | None = None
    optional: bool = False


@dataclass(frozen=True, slots=True)
class TimeField:
    """A time-of-day picker. Submitted as ``HH:MM``."""

    id: str
    label: str
    initial: time | None = None
    optional: bool = False


Field = TextField | SelectField | MultiSelectField | DateField | TimeField


@dataclass(frozen=True, slots=True)
class Form:
    """A form to open (a Slack modal, an Adaptive Card, console prompts).

    ``context`` is opaque to adapters: they hand it back with the submission (for instance the id
    of the contact being edited). The core re-checks it on submit; it is never trusted.
    """

    kind: FormKind
    title: str
    submit_label: str
    fields: tuple[Field, ...]
    context: str = ""
    intro: str = ""


@dataclass(frozen=True, slots=True)
class FormErrors:
    """Field errors for a submitted form: ``{field id: message}``. Nothing was changed."""

    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MessageUpdate:
    """Replace a message the bot sent earlier (a morning nudge) with ``message``.

    ``notice`` is an optional short confirmation for the person who clicked.
    """

    channel: str
    message_id: str
    message: Reply
    notice: Reply | None = None


Outcome = Reply | Form | MessageUpdate
