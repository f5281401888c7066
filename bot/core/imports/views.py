"""Replies and forms of the import: the report, the triage form, ``list pool``, pool offers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.core.actions import Act
from bot.core.cadence import Span
from bot.core.imports import triage
from bot.core.imports.merge import Plan
from bot.core.imports.people import Format, Problem
from bot.core.model import Contact
from bot.core.replies import (
    Actions,
    Block,
    Button,
    Choice,
    Form,
    FormKind,
    MultiSelectField,
    Reply,
    Strong,
    context,
    message,
    section,
)
from bot.core.text import shorten

#: People per triage page: Slack shows at most 10 checkboxes in one group.
TRIAGE_PAGE = 10
#: People per page of ``list pool`` (one section and button each).
LIST_PAGE = 10
#: Skipped lines listed in the report (the rest are counted).
SKIPPED_SHOWN = 10
PEOPLE = "people"  # the triage form's field id


def count(n: int, one: str, many: str) -> str:
    """``"1 person"``, ``"2 people"``, ``"1,200 people"``."""
    return f"{n:,} {one if n == 1 else many}"


def _and(names: Sequence[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + f" and {names[-1]}"


def how_to_import(cmd: str) -> Reply:
    """``import`` on its own: how to send a file, per platform."""
    where = (
        "Upload the file here, in this direct message with me"
        if cmd
        else "Attach the file to a message in this chat with me"
    )
    return Reply(
        summary="How to import your contacts",
        blocks=(
            section(
                Strong("Import your contacts. "),
                f"{where} (up to 5 MB and 20,000 people) and I'll read it:",
            ),
            section(
                "• LinkedIn: Settings → Data privacy → Get a copy of your data → Connections "
                "→ Connections.csv\n"
                "• Google Contacts: Export → Google CSV\n"
                "• iPhone, Outlook and most address books: export as vCard (.vcf)\n"
                f"• My own export (`{cmd}export csv` or `{cmd}export vcf`), e.g. from another "
                "workspace"
            ),
            context(
                "Any CSV may add a “Relationship” column (former boss, peer, someone I "
                "managed, mentor, client, friend, other) and a “Last in touch” column "
                "(`March 2019`, `2019`, `years ago`)."
            ),
            context(
                "Imported people go into your pool, not your circle: no reminders until you "
                f"pick who matters. `{cmd}list pool` shows them."
            ),
        ),
    )


def nothing_to_import(problems: list[Problem]) -> Reply:
    """A file with nobody we could import: say why (nothing was changed)."""
    lines = ["I found nobody I could import in that file, so nothing changed."]
    if problems:
        lines.append(_skipped_text(problems))
    text = "\n".join(lines)
    return message(text)


def report(
    form: Format,
    plan: Plan,
    problems: list[Problem],
    pool_size: int,
    cmd: str,
    *,
    left_out: list[Problem] | None = None,
) -> Reply:
    """What an import did, with the way into the triage; ``left_out``: values that could not
    be read (the people were imported without them)."""
    imported = len(plan.new)
    facts = [
        f"Imported {count(imported, 'person', 'people')} from your {form.label} into your pool."
    ]
    if plan.merged:
        facts.append(
            f"Merged {count(plan.merged, 'entry', 'entries')} with people you already had "
            "(or who were in the file twice), keeping the fuller details."
        )
    if problems:
        facts.append(_skipped_text(problems))
    if left_out:
        facts.append(_left_out_text(left_out))
    blocks: list[Block] = [section("\n".join(facts))]
    if pool_size:
        noun = "connections" if form is Format.LINKEDIN else "contacts"
        blocks.append(
            section(
                Strong(f"You imported {imported:,} {noun} — pick who matters. "),
                f"{count(pool_size, 'person is', 'people are')} in your pool with no "
                "reminders; I'll show the likely valuable ones first (former bosses, senior "
                "titles, ties you haven't touched in years).",
            )
        )
        blocks.append(
            Actions(
                (
                    Button("Pick who matters", Act.POOL_TRIAGE, "0", style="primary"),
                    Button("List the pool", Act.POOL_LIST, "1"),
                )
            )
        )
        blocks.append(context(f"Later: `{cmd}triage` picks, `{cmd}list pool` lists."))
    summary = f"Imported {count(imported, 'person', 'people')} into your pool"
    return Reply(summary=summary, blocks=tuple(blocks))


def _skipped_text(problems: list[Problem]) -> str:
    shown = [f"line {p.line} — {p.reason}" for p in problems[:SKIPPED_SHOWN]]
    more = len(problems) - len(shown)
    tail = f"; and {more:,} more" if more else ""
    return f"Skipped {count(len(problems), 'line', 'lines')}: " + "; ".join(shown) + tail + "."


def _left_out_text(left_out: list[Problem]) -> str:
    shown = [f"line {p.line} — {p.reason}" for p in left_out[:SKIPPED_SHOWN]]
    more = len(left_out) - len(shown)
    tail = f"; and {more:,} more" if more else ""
    return (
        f"Imported without {count(len(left_out), 'value', 'values')} I couldn't read: "
        + "; ".join(shown)
        + tail
        + "."
    )


def empty_pool(cmd: str) -> Reply:
    """Nobody is in the pool."""
    return message(
        f"Your pool is empty. `{cmd}import` explains how to bring in your LinkedIn "
        "connections or address book."
    )


def triage_form(ranked: list[Contact], offset: int, today: date) -> Form:
    """A page of the pool as checkboxes, likely valuable first (``offset`` into ``ranked``)."""
    page = ranked[offset : offset + TRIAGE_PAGE]
    choices = tuple(Choice(str(c.id), _label(c)) for c in page)
    shown = ",".join(str(c.id) for c in page)
    return Form(
        kind=FormKind.TRIAGE_POOL,
        title="Pick who matters",
        submit_label="Add to circle",
        fields=(
            MultiSelectField(
                PEOPLE, "Who would you like to reconnect with?", choices, optional=True
            ),
        ),
        context=f"{offset}:{shown}",
        intro=(
            f"{count(len(ranked), 'person is', 'people are')} in your pool. Tick the ones "
            "worth a conversation — they join your circle with reminders. The others stay "
            "in the pool."
        ),
    )


def _label(contact: Contact) -> str:
    why = triage.why(contact)
    return shorten(f"{contact.name} — {why}" if why else contact.name, 75)


def joined_reply(
    chosen: list[Contact], left: int, next_offset: int, cadence: Span, cmd: str
) -> Reply:
    """People joined the circle from the triage (or none were ticked)."""
    if chosen:
        names = _and([c.name for c in chosen])
        first = f"Added {names} to your circle — I'll suggest them {cadence.every()}."
    else:
        first = "Nobody added from that page."
    blocks: list[Block] = [section(first)]
    buttons = []
    if left > next_offset:
        blocks.append(context(f"{count(left, 'person is', 'people are')} still in your pool."))
        buttons.append(Button("Next page", Act.POOL_TRIAGE, str(next_offset), style="primary"))
    elif left:
        blocks.append(
            context(
                f"That was the last page; {count(left, 'person stays', 'people stay')} in "
                f"your pool (`{cmd}list pool`)."
            )
        )
        buttons.append(Button("Start over", Act.POOL_TRIAGE, "0"))
    if chosen:
        buttons.append(Button("Who's due", Act.DUE))
    if buttons:
        blocks.append(Actions(tuple(buttons)))
    return Reply(summary=first, blocks=tuple(blocks))


def pool_list(ranked: list[Contact], page: int, cmd: str) -> Reply:
    """A page of ``list pool``, likely valuable first, an "Add" button each."""
    total = len(ranked)
    pages = max(1, -(-total // LIST_PAGE))
    people = ranked[(page - 1) * LIST_PAGE : page * LIST_PAGE]
    if not people:
        return message(
            f"There is no page {page}: your pool fits on {count(pages, 'page', 'pages')}."
        )
    head = (
        f"Your pool: {count(total, 'person', 'people')} with no reminders (page {page} of {pages})."
    )
    blocks: list[Block] = [section(Strong(head))]
    for contact in people:
        why = triage.why(contact)
        parts = (Strong(contact.name), f" — {why}") if why else (Strong(contact.name),)
        blocks.append(section(*parts, button=Button("Add", Act.POOL_ADD, str(contact.id))))
    pager = []
    if page > 1:
        pager.append(Button("Previous", Act.POOL_LIST, str(page - 1)))
    if page < pages:
        pager.append(Button("Next", Act.POOL_LIST, str(page + 1)))
    pager.append(Button("Pick several", Act.POOL_TRIAGE, "0"))
    blocks.append(Actions(tuple(pager)))
    blocks.append(context(f"`{cmd}triage` ticks several at once."))
    return Reply(summary=head, blocks=tuple(blocks))


def added_from_pool(contact: Contact, cadence: Span) -> Reply:
    """One pool contact joined the circle (an "Add" button)."""
    return message(f"Added {contact.name} to your circle — I'll suggest them {cadence.every()}.")


def not_in_pool() -> Reply:
    """A pool button for someone no longer in the pool."""
    return message("That person isn't in your pool any more — already added, or removed.")


def not_now(contact: Contact) -> Reply:
    """ "Not now" on a pool offer."""
    return message(
        f"Fine — {contact.name} stays in your pool, and I won't offer them again. "
        "Next week I'll suggest someone else."
    )
