"""The Reconnect service: commands, button actions and form submissions, platform-neutral.

Every public method runs inside one storage transaction for one user, so a request either
changes everything it means to or nothing, and can only ever see that user's contacts.

This module only dispatches: it finds what a request is about, applies the rule (the contact
rules are methods of :class:`~bot.core.model.Contact`), stores the result and picks the reply
(built in :mod:`bot.core.views`). Whether a request may write is declared where it is
dispatched: ``writes`` on each parsed command (:mod:`bot.core.commands`) and on each entry of
:data:`_ACTIONS`; read-only requests get a read-only transaction.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from bot.core import commands as c
from bot.core import (
    data_rights,
    dates,
    evidence_report,
    evidence_views,
    forms,
    log_facts,
    nudge_actions,
    opener_views,
    predict,
    preferences,
    views,
    weekly,
)
from bot.core.actions import Act
from bot.core.cadence import DEFAULT_SNOOZE, CadenceError, Span, parse_span
from bot.core.data_export import Format
from bot.core.dates import Clock, system_clock
from bot.core.groups import rhythm_commands as rhythm
from bot.core.groups.ports import GroupStore
from bot.core.groups.service import GROUP_ACTS, GroupService
from bot.core.groups.share import ShareOffers
from bot.core.groups.views import with_group_section
from bot.core.imports import flow as imports
from bot.core.imports import offer as pool_offer
from bot.core.matching import match
from bot.core.model import (
    MAX_ID,
    NAME_MAX,
    NOTES_MAX,
    Contact,
    ContactDraft,
    ContactGone,
    DuplicateContactError,
    UserRef,
)
from bot.core.ports import ContactBook, Store
from bot.core.relationships import WhenError
from bot.core.replies import (
    Button,
    Form,
    FormErrors,
    FormKind,
    MessageUpdate,
    Outcome,
    Reply,
    message,
)
from bot.core.text import clean, one_line, parse_count
from bot.core.views import GONE
from bot.core.win_commands import draft_from_add, save_win
from bot.core.wins import WIN_MAX

__all__ = ["GONE", "Caller", "Reconnect"]

#: What group commands and buttons answer where groups are not available.
NO_GROUPS = "Groups aren't available here."

#: A button value must stay under Slack's 2,000 characters; leave room for JSON quoting.
_VALUE_MAX = 1900


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, and how commands are typed on their platform (for hints in replies)."""

    user: UserRef
    command: str = "/reconnect "
    #: The Slack channel id, or the Teams channel / group chat conversation id (without
    #: ";messageid="), a request came from; ``None`` in a DM or personal chat. Groups are
    #: keyed by it (:mod:`bot.core.groups`).
    channel: str | None = None
    #: The platform user ids of the people mentioned in the command (``group coach @Dana``),
    #: in order; the typed text only has their names.
    mentions: tuple[str, ...] = ()
    #: Whether everyone in the conversation reads the answers (a Teams channel or group
    #: chat; Slack answers in channels ephemerally, to the caller alone).
    public: bool = False
    #: The name the platform shows for the caller, where the adapter has it (Teams sends it
    #: with every message; Slack looks it up when someone joins a group). Stored only with a
    #: group membership, for the coach's view; never logged.
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class _Request:
    """One request inside its transaction: who asks, their contacts, and their local date."""

    caller: Caller
    book: ContactBook
    today: date
    #: Offers *Share with my group* after a logged win (``None``: groups are off).
    offers: ShareOffers | None = None

    @property
    def cmd(self) -> str:
        """How commands are typed, for hints."""
        return self.caller.command


class Reconnect:
    """The application service every adapter calls."""

    def __init__(
        self,
        store: Store,
        clock: Clock = system_clock,
        groups: GroupStore | None = None,
        rhythm_groups: rhythm.RhythmGroups | None = None,
        share: ShareOffers | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        #: The outplacement groups (``None``: this deployment has none, e.g. in-memory tests).
        self.groups = GroupService(groups) if groups is not None else None
        #: The groups' weekly rhythm settings (``None``: no groups, e.g. in-memory tests).
        self.rhythm = rhythm_groups
        #: The group features' offer to share a logged win (bot.core.groups.coaching).
        self.share = share

    # --- entry points ----------------------------------------------------------------------

    async def command(self, caller: Caller, text: str) -> Outcome:
        """Handle command text (without the ``/reconnect`` itself)."""
        found = rhythm.parse_rhythm(text) if self.rhythm is not None else None
        if found is not None and self.rhythm is not None:
            verb, rest = found
            return await rhythm.run_rhythm(
                self.rhythm, caller.user, caller.channel, verb, rest, self.clock, caller.command
            )
        try:
            command = c.parse(text)
        except c.UnknownCommand as exc:
            return views.unknown_command_reply(exc.word, exc.suggestion, caller.command)
        except c.CommandError as exc:
            return message(exc.message)
        if isinstance(command, c.Help):
            return views.help_reply(caller.command)
        if isinstance(command, c.Group):
            if self.groups is None:
                return message(NO_GROUPS)
            return await self.groups.command(caller, command.text)

        async def work(book: ContactBook) -> Outcome:
            return await _run(self._request(caller, book), command)

        try:
            return await self.store.in_book(caller.user, work, write=command.writes)
        except ContactGone as exc:
            return views.just_removed_reply(exc.name)

    async def action(self, caller: Caller, action: str, value: str) -> Outcome:
        """Handle a button press. ``value`` is untrusted: ids are looked up for this user only."""
        if action == Act.GROUP_GOAL:
            return await self._group_goal(caller, value)
        if action in GROUP_ACTS:
            if self.groups is None:
                return message(NO_GROUPS)
            return await self.groups.action(caller, Act(action), value)
        try:
            spec = _ACTIONS[Act(action)]
        except (ValueError, KeyError):
            return message(views.OLD_BUTTON)

        async def work(book: ContactBook) -> Outcome:
            return await spec.run(self._request(caller, book), value)

        try:
            return await self.store.in_book(caller.user, work, write=spec.writes)
        except ContactGone as exc:
            return views.just_removed_reply(exc.name)

    async def _group_goal(self, caller: Caller, value: str) -> Reply:
        """*This week I'll reach out to …* on a group's Monday theme: the clicking member's
        own weekly goal, answered privately. Forged values, other workspaces' groups and
        people who are not members change nothing."""
        cmd = caller.command
        chosen = rhythm.chosen_goal(value)
        if chosen is None or self.rhythm is None:
            return message(rhythm.STALE.format(cmd=cmd))
        group_id, monday, goal = chosen
        user = caller.user
        group = await self.rhythm.group_by_id(group_id, user.platform, user.workspace_id)
        if group is None:
            return message(rhythm.STALE.format(cmd=cmd))
        if not await self.rhythm.is_member(group_id, user):
            return message(rhythm.NOT_MEMBER.format(cmd=cmd))

        async def work(book: ContactBook) -> Reply:
            week = rhythm.goal_week(monday, self._today(book))
            if week is None:
                return message(rhythm.STALE.format(cmd=cmd))
            await book.set_goal(week, goal)
            return rhythm.goal_set_reply(goal, cmd)

        return await self.store.in_book(user, work, write=True)

    async def submit(
        self, caller: Caller, kind: str, context_value: str, values: Mapping[str, str | None]
    ) -> Reply | FormErrors | MessageUpdate:
        """Handle a submitted form. Returns field errors (nothing changed) or the reply."""
        try:
            return await self.store.in_book(
                caller.user, lambda book: self._submit(book, caller, kind, context_value, values)
            )
        except ContactGone as exc:
            return views.just_removed_reply(exc.name)

    async def _submit(
        self,
        book: ContactBook,
        caller: Caller,
        kind: str,
        context_value: str,
        values: Mapping[str, str | None],
    ) -> Reply | FormErrors | MessageUpdate:
        request = self._request(caller, book)
        try:
            match kind:
                case FormKind.ADD_CONTACT:
                    return await _add(request, forms.read_contact(values, request.today))
                case FormKind.EDIT_CONTACT:
                    draft = forms.read_contact(values, request.today)
                    return await _edit(request, context_value, draft)
                case FormKind.LOG_CONVERSATION:
                    entry = forms.read_log(values, request.today)
                    return await _log_submitted(request, context_value, entry)
                case FormKind.SETTINGS:
                    prefs = await weekly.save_settings(book, values, request.today)
                    # The time zone may just have changed, and with it today.
                    saved = views.settings_saved_reply(prefs, self._today(book))
                    return await weekly.saved_reply(book, saved)
                case FormKind.TRIAGE_POOL:
                    return await imports.submit_triage(
                        book, request.today, request.cmd, context_value, values
                    )
        except forms.FieldErrors as exc:
            return FormErrors(exc.errors)
        return message(views.EXPIRED_FORM)

    async def import_file(self, caller: Caller, data: bytes) -> Reply:
        """Import a contacts file (its bytes, from an upload or the console) into the
        caller's pool; the reply is the report. All or nothing (see :mod:`bot.core.imports`)."""
        return await imports.import_file(self.store, self.clock, caller.user, data, caller.command)

    async def form(self, caller: Caller, kind: str, context_value: str) -> Form | None:
        """A form again, as first shown (to redisplay a submission with its errors)."""
        async with self.store.book(caller.user, write=False) as book:
            today = self._today(book)
            match kind:
                case FormKind.ADD_CONTACT:
                    return forms.contact_form()
                case FormKind.EDIT_CONTACT:
                    contact = await book.get(int(context_value)) if _is_id(context_value) else None
                    return forms.contact_form(contact) if contact is not None else None
                case FormKind.LOG_CONVERSATION:
                    log = forms.log_form(await book.upcoming(limit=100), today)
                    return replace(log, context=context_value)
                case FormKind.SETTINGS:
                    return await weekly.settings_form(book)
        return None

    async def home(self, caller: Caller, notice: Reply | None = None) -> Reply:
        """The home view: counts, who is due, quick actions."""
        async with self.store.book(caller.user, write=False) as book:
            today = self._today(book)
            due = await book.due_summary(today, limit=views.HOME_DUE_SHOWN)
            week = await weekly.week_progress(book, today)
            home = views.home_reply(
                due=due.contacts,
                total_due=due.total_due,
                total=due.total,
                conversations=await book.count_conversations(),
                today=today,
                cmd=caller.command,
                notice=notice,
                schedule=preferences.describe(await book.prefs(), today),
            )
            home = weekly.with_goal(home, week, caller.command)
            home = evidence_views.with_home_section(
                home, await evidence_report.home_blocks(book, today)
            )
        if self.groups is None:
            return home
        return with_group_section(home, await self.groups.home_blocks(caller.user))

    async def set_timezone(self, caller: Caller, timezone: str) -> bool:
        """Remember the caller's IANA time zone (from their platform profile); ``False`` (and
        no change: the current setting stays) for anything that is not a known zone."""
        known = dates.canonical_zone(timezone)
        if known is None:
            return False
        await self.store.set_timezone(caller.user, known)
        return True

    async def healthy(self) -> bool:
        """Whether the database answers."""
        return await self.store.ping()

    def _request(self, caller: Caller, book: ContactBook) -> _Request:
        return _Request(caller, book, self._today(book), self.share)

    def _today(self, book: ContactBook) -> date:
        return dates.local_today(self.clock(), book.timezone)


# --- commands --------------------------------------------------------------------------------


async def _run(request: _Request, command: c.Command) -> Outcome:
    match command:
        case c.Add(name=None):
            return forms.contact_form()
        case c.Add(name=str(name), cadence=cadence, notes=notes):
            if len(name) > NAME_MAX:
                return views.name_too_long_reply()
            if problem := forms.name_problem(name):
                return message(problem)
            if len(notes) > NOTES_MAX:
                return views.notes_too_long_reply(len(notes), request.cmd)
            try:
                draft = draft_from_add(command, request.today)
            except WhenError as exc:
                return message(str(exc))
            if cadence is not None:
                draft = replace(draft, cadence=cadence)
            result = await _add(request, draft)
            if isinstance(result, FormErrors):
                return message(result.errors[forms.NAME])
            return result
        case c.Log(name=None):
            return await _log_form(request)
        case c.Log(name=str(name), note=note, learned=learned):
            if len(note) > NOTES_MAX or len(learned) > NOTES_MAX:
                return views.note_too_long_reply(max(len(note), len(learned)), request.cmd)
            facts = log_facts.from_command(command, request.today)
            if isinstance(facts, str):
                return message(facts)
            name = await log_facts.typed_name(request.book, command, name)
            facts = log_facts.for_name(command, name, facts)
            found = await _resolve(
                request, name, "log", note=note, learned=learned, **facts.encode()
            )
            if isinstance(found, Reply):
                return found
            return await _log_typed(request, found, note, learned, facts)
        case c.Opener(name=name):
            found = await _resolve(request, name, "opener")
            return found if isinstance(found, Reply) else _opener(request, found)
        case c.Prep(name=name):
            found = await _resolve(request, name, "prep")
            return found if isinstance(found, Reply) else await _prep(request, found)
        case c.Reached(name=name):
            found = await _resolve(request, name, "reached")
            if isinstance(found, Reply):
                return found
            return await predict.reached(request.book, found, request.today)
        case c.ShowEvidence():
            return await evidence_report.report(request.book, request.today, request.cmd)
        case c.Win(name=name, news=news):
            if len(news) > WIN_MAX:
                return message(f"Please keep their news under {WIN_MAX} characters.")
            found = await _resolve(request, name, "win", news=news)
            if isinstance(found, Reply):
                return found
            return await save_win(request.book, found, news, request.today)
        case c.Due():
            return await _due(request)
        case c.ListAll(page=page):
            return await _list(request, page)
        case c.Snooze(name=name, span=span):
            found = await _resolve(request, name, "snooze", span=span.encode())
            if isinstance(found, Reply):
                return found
            return await _snooze(request, found, span)
        case c.Edit(name=name):
            found = await _resolve(request, name, "edit")
            return found if isinstance(found, Reply) else forms.contact_form(found)
        case c.Remove(name=name):
            found = await _resolve(request, name, "remove")
            return found if isinstance(found, Reply) else views.confirm_remove_reply(found)
        case c.Settings():
            return await weekly.settings_form(request.book)
        case c.Pause(when=when):
            try:
                until = preferences.parse_pause(when, request.today)
            except preferences.PauseError as exc:
                return message(str(exc))
            prefs = replace(await request.book.prefs(), paused_until=until)
            await request.book.save_prefs(prefs, timezone_from_user=prefs.timezone_locked)
            return views.paused_reply(prefs, request.today)
        case c.Resume():
            return await _resume(request)
        case c.Export(formats=formats):
            chosen = tuple(Format(f) for f in formats)
            return await data_rights.export_reply(request.book, chosen, request.today)
        case c.DeleteMyData():
            user = request.caller.user
            return await data_rights.confirm_erase_reply(
                request.book, user, request.today, request.cmd
            )
        case c.Import():
            return imports.how_to_import(request.cmd)
        case c.ListPool(page=page):
            return await imports.list_pool(request.book, request.today, request.cmd, page)
        case c.Triage():
            return await imports.triage_page(request.book, request.today, request.cmd)
        case c.Goal(text=text):
            return await weekly.goal_command(request.book, text, request.today, request.cmd)
        case c.Recap():
            user = request.caller.user
            return await weekly.recap_command(request.book, user, request.today, request.cmd)
    return views.help_reply(request.cmd)


# --- operations --------------------------------------------------------------------------------


async def _add(request: _Request, draft: ContactDraft) -> Reply | FormErrors:
    today = request.today
    try:
        contact = await request.book.add(draft, due_on=today, today=today)
    except DuplicateContactError as exc:
        return FormErrors({forms.NAME: views.duplicate_name(exc.existing, request.cmd)})
    return views.added_reply(contact)


async def _edit(request: _Request, context_value: str, draft: ContactDraft) -> Reply | FormErrors:
    contact = await request.book.get(int(context_value)) if _is_id(context_value) else None
    if contact is None:
        return FormErrors({forms.NAME: GONE})
    contact.apply(draft)
    try:
        await request.book.save(contact)
    except DuplicateContactError as exc:
        return FormErrors({forms.NAME: views.renamed_to_existing(exc.existing)})
    return views.saved_reply(contact, request.today)


async def _log(
    request: _Request,
    contact: Contact,
    on: date,
    note: str,
    learned: str,
    facts: log_facts.LogFacts = log_facts.NONE,
) -> Reply:
    conversation = facts.apply(contact.log_conversation(on, note, learned))
    try:
        await request.book.log(conversation)
    except ContactGone as exc:
        raise ContactGone(exc.contact_id, contact.name) from exc
    await request.book.save(contact)
    await log_facts.record(request.book, contact, on, facts)
    reply = views.logged_reply(contact, on, learned, request.today, request.cmd)
    reply = log_facts.confirm(reply, contact, facts, request.today)
    if request.offers is not None:  # a win, and they're in a group: offer to share it
        user = request.caller.user
        reply = await request.offers.offer(
            user, contact, on, learned, facts.outcomes, facts.response, reply
        )
    return reply


async def _log_typed(
    request: _Request,
    contact: Contact,
    note: str,
    learned: str,
    facts: log_facts.LogFacts = log_facts.NONE,
) -> Reply:
    """``log <name> -- …``: only "learned: …" after today's conversation is already logged adds
    it to that conversation (the listening loop closes without a second conversation)."""
    if (
        learned
        and not note
        and facts == log_facts.NONE
        and await request.book.add_learned(contact.id, request.today, learned)
    ):
        return views.learned_added_reply(contact)
    return await _log(request, contact, request.today, note, learned, facts)


def _opener(request: _Request, contact: Contact) -> Reply:
    return opener_views.opener_reply(contact, request.today, email=opener_views.email_of(contact))


async def _prep(request: _Request, contact: Contact) -> Reply:
    history = await request.book.history(contact.id, limit=5)
    return opener_views.prep_reply(contact, history, request.today, request.cmd)


async def _log_submitted(
    request: _Request, context_value: str, entry: forms.LogEntry
) -> Reply | FormErrors | MessageUpdate:
    """The log form; opened from a morning nudge (``context_value``), the nudge shows it."""
    contact = await request.book.get(entry.contact_id)
    if contact is None:
        return FormErrors({forms.CONTACT: views.CHOOSE_CONTACT})
    facts = log_facts.from_entry(entry)
    reply = await _log(request, contact, entry.occurred_on, entry.note, entry.learned, facts)
    if not context_value:
        return reply
    return await nudge_actions.mark_logged(
        request.book, context_value, contact.id, request.cmd, reply
    )


async def _snooze(request: _Request, contact: Contact, span: Span) -> Reply:
    capped = contact.snooze(span, request.today)
    await request.book.save(contact)
    return views.snoozed_reply(contact, span, request.today, capped=capped)


async def _remove(request: _Request, contact: Contact) -> Reply:
    if not await request.book.delete(contact.id):  # a concurrent request removed them first
        return views.just_removed_reply(contact.name)
    return views.removed_reply(contact)


async def _resume(request: _Request) -> Reply:
    current = await request.book.prefs()
    # A pause date that has come means nudges already resumed that morning.
    was_paused = current.paused_until is not None and current.paused_until > request.today
    prefs = replace(current, paused_until=None)
    if current.paused_until is not None:
        await request.book.save_prefs(prefs, timezone_from_user=prefs.timezone_locked)
    return views.resumed_reply(prefs, request.today, was_paused=was_paused)


async def _due(request: _Request) -> Reply:
    summary = await request.book.due_summary(request.today, limit=views.DUE_SHOWN)
    upcoming = []
    if summary.total and not summary.total_due:
        upcoming = await request.book.upcoming(limit=1)
    return views.due_reply(
        summary.contacts,
        summary.total_due,
        summary.total,
        upcoming[0] if upcoming else None,
        request.today,
        request.cmd,
    )


async def _list(request: _Request, page: int) -> Reply:
    book = request.book
    contacts = await book.page(offset=(page - 1) * views.PAGE_SIZE, limit=views.PAGE_SIZE)
    return views.list_reply(contacts, page, await book.count(), request.today, request.cmd)


async def _log_form(request: _Request) -> Outcome:
    contacts = await request.book.upcoming(limit=100)
    if not contacts:
        return views.no_contacts_reply(request.cmd)
    return forms.log_form(contacts, request.today)


async def _resolve(request: _Request, name: str, op: str, **extra: str) -> Contact | Reply:
    """The one contact ``name`` means, or a reply (not found / choose among several).

    A choice is offered as :data:`Act.PICK` buttons that carry out ``op`` (with ``extra``).
    """
    # A contact's full name is the first thing match() looks for; one indexed read finds it
    # (what is typed most often), without reading and folding every name.
    exact = await request.book.named(name)
    if exact is not None:
        return exact
    candidates = match(name, await request.book.names())
    if not candidates:
        return views.not_found_reply(name, request.cmd)
    if len(candidates) == 1:
        contact = await request.book.get(candidates[0][0])
        return contact if contact is not None else message(GONE)
    choices = []
    for contact_id, contact_name in candidates:
        value = json.dumps({"op": op, "id": contact_id, **extra}, ensure_ascii=False)
        if len(value) > _VALUE_MAX:
            return views.ambiguous_reply(name, [n for _, n in candidates])
        choices.append(Button(contact_name, Act.PICK, value))
    return views.choose_reply(name, choices)


# --- buttons ---------------------------------------------------------------------------------

_Handler = Callable[[_Request, str], Awaitable[Outcome]]
_ContactHandler = Callable[[_Request, Contact, str], Awaitable[Outcome]]


@dataclass(frozen=True, slots=True)
class _Action:
    """What a button does with its value, and whether that may change data."""

    run: _Handler
    writes: bool


def _on_contact(run: _ContactHandler) -> _Handler:
    """A handler for a button whose value is ``"<contact id>"`` or ``"<contact id>:<arg>"``."""

    async def load(request: _Request, value: str) -> Outcome:
        contact_id, _, arg = value.partition(":")
        contact = await request.book.get(int(contact_id)) if _is_id(contact_id) else None
        if contact is None:
            return message(GONE)
        return await run(request, contact, arg)

    return load


def _card(act: Act) -> _Handler:
    """A button on a morning nudge (value ``"<nudge id>:<contact id>"``)."""

    async def run(request: _Request, value: str) -> Outcome:
        return await nudge_actions.card_action(request.book, act, value, request.today, request.cmd)

    return run


async def _help_button(request: _Request, value: str) -> Outcome:
    return views.help_reply(request.cmd)


async def _settings_button(request: _Request, value: str) -> Outcome:
    return await weekly.settings_form(request.book)


async def _goal_button(request: _Request, value: str) -> Outcome:
    return await weekly.goal_button(request.book, value, request.today)


async def _resume_button(request: _Request, value: str) -> Outcome:
    return await _resume(request)


async def _due_button(request: _Request, value: str) -> Outcome:
    return await _due(request)


async def _add_button(request: _Request, value: str) -> Outcome:
    return forms.contact_form()


async def _list_button(request: _Request, value: str) -> Outcome:
    return await _list(request, parse_count(value, below=100_000) or 1)


async def _log_form_button(request: _Request, value: str) -> Outcome:
    """The log form; with a contact id, that contact chosen."""
    if not value:
        return await _log_form(request)
    return await _log_form_for(request, value)


@_on_contact
async def _log_form_for(request: _Request, contact: Contact, arg: str) -> Outcome:
    contacts = await request.book.upcoming(limit=100)
    return forms.log_form(contacts, request.today, selected=contact)


@_on_contact
async def _edit_button(request: _Request, contact: Contact, arg: str) -> Outcome:
    return forms.contact_form(contact)


@_on_contact
async def _snooze_button(request: _Request, contact: Contact, arg: str) -> Outcome:
    span = DEFAULT_SNOOZE
    if arg:
        try:
            span = parse_span(clean(arg))  # the value is untrusted and quoted back on error
        except CadenceError as exc:
            return message(str(exc))
    return await _snooze(request, contact, span)


@_on_contact
async def _remove_ask_button(request: _Request, contact: Contact, arg: str) -> Outcome:
    return views.confirm_remove_reply(contact)


@_on_contact
async def _remove_button(request: _Request, contact: Contact, arg: str) -> Outcome:
    return await _remove(request, contact)


@_on_contact
async def _openers_button(request: _Request, contact: Contact, arg: str) -> Outcome:
    return _opener(request, contact)


@_on_contact
async def _prep_button(request: _Request, contact: Contact, arg: str) -> Outcome:
    return await _prep(request, contact)


async def _link_button(request: _Request, value: str) -> Outcome:
    """A link button's click (platforms that report one): the link was opened; say so."""
    return message("The link opens in your email app or browser.")


@_on_contact
async def _keep_button(request: _Request, contact: Contact, arg: str) -> Outcome:
    return views.kept_reply(contact)


async def _pick_button(request: _Request, value: str) -> Outcome:
    """A choice among several matching contacts: carry out the original command."""
    try:
        data = json.loads(value)
        op, contact_id = str(data["op"]), data["id"]
    except (ValueError, KeyError, TypeError):
        return message(views.EXPIRED_BUTTON)
    valid = type(contact_id) is int and 0 < contact_id < MAX_ID  # bool is an int, too
    contact = await request.book.get(contact_id) if valid else None
    if contact is None:
        return message(GONE)
    match op:
        case "log":
            note = clean(str(data.get("note", "")))[:NOTES_MAX]
            learned = clean(str(data.get("learned", "")))[:NOTES_MAX]
            facts = log_facts.decode(data, request.today)
            if isinstance(facts, str):
                return message(facts)
            return await _log_typed(request, contact, note, learned, facts)
        case "opener":
            return _opener(request, contact)
        case "prep":
            return await _prep(request, contact)
        case "reached":
            return await predict.reached(request.book, contact, request.today)
        case "snooze":
            try:
                span = parse_span(str(data.get("span", "")))
            except CadenceError:
                span = DEFAULT_SNOOZE
            return await _snooze(request, contact, span)
        case "edit":
            return forms.contact_form(contact)
        case "remove":
            return views.confirm_remove_reply(contact)
        case "win":
            news = one_line(str(data.get("news", "")))[:WIN_MAX]
            return (
                await save_win(request.book, contact, news, request.today)
                if news
                else message(views.EXPIRED_BUTTON)
            )
    return message(views.EXPIRED_BUTTON)


async def _erase_button(request: _Request, value: str) -> Outcome:
    user = request.caller.user
    return await data_rights.erase(request.book, user, value, request.today, request.cmd)


async def _erase_cancel_button(request: _Request, value: str) -> Outcome:
    return data_rights.kept_reply()


def _pool(run: imports.Handler) -> _Handler:
    """A pool button (:mod:`bot.core.imports.flow`)."""

    async def handler(request: _Request, value: str) -> Outcome:
        return await run(request.book, request.today, request.cmd, value)

    return handler


@_on_contact
async def _reached_button(request: _Request, contact: Contact, arg: str) -> Outcome:
    return await predict.reached(request.book, contact, request.today)


async def _predict_button(request: _Request, value: str) -> Outcome:
    return await predict.predict_button(request.book, value)


async def _card_predict_button(request: _Request, value: str) -> Outcome:
    return await predict.card_predict(request.book, value, request.cmd)


async def _follow_actual_button(request: _Request, value: str) -> Outcome:
    return await predict.follow_actual(request.book, value, request.today, request.cmd)


def _step(act: Act) -> _Handler:
    """A button on a next step in a morning nudge (value ``"<nudge id>:<step id>"``)."""

    async def run(request: _Request, value: str) -> Outcome:
        return await predict.step_action(request.book, act, value, request.today, request.cmd)

    return run


async def _evidence_button(request: _Request, value: str) -> Outcome:
    return await evidence_report.report(request.book, request.today, request.cmd)


#: Every button: its handler, and whether it may write (buttons that only show something or
#: open a form run in a read-only transaction).
_ACTIONS: dict[Act, _Action] = {
    Act.HELP: _Action(_help_button, writes=False),
    Act.DUE: _Action(_due_button, writes=False),
    Act.LIST_PAGE: _Action(_list_button, writes=False),
    Act.ADD_FORM: _Action(_add_button, writes=False),
    Act.LOG_FORM: _Action(_log_form_button, writes=False),
    Act.EDIT_FORM: _Action(_edit_button, writes=False),
    Act.SNOOZE: _Action(_snooze_button, writes=True),
    Act.REMOVE_ASK: _Action(_remove_ask_button, writes=False),
    Act.REMOVE_CONFIRM: _Action(_remove_button, writes=True),
    Act.REMOVE_CANCEL: _Action(_keep_button, writes=False),
    Act.PICK: _Action(_pick_button, writes=True),
    Act.SETTINGS_FORM: _Action(_settings_button, writes=False),
    Act.RESUME: _Action(_resume_button, writes=True),
    Act.OPENERS: _Action(_openers_button, writes=False),
    Act.PREP: _Action(_prep_button, writes=False),
    Act.OPEN_LINK: _Action(_link_button, writes=False),
    Act.CARD_REACHED: _Action(_card(Act.CARD_REACHED), writes=True),
    Act.CARD_LOG: _Action(_card(Act.CARD_LOG), writes=False),  # opens the log form
    Act.CARD_OPENERS: _Action(_card(Act.CARD_OPENERS), writes=True),
    Act.CARD_SNOOZE_WEEK: _Action(_card(Act.CARD_SNOOZE_WEEK), writes=True),
    Act.CARD_SNOOZE_MONTH: _Action(_card(Act.CARD_SNOOZE_MONTH), writes=True),
    Act.CARD_SKIP: _Action(_card(Act.CARD_SKIP), writes=True),
    Act.FOLLOW_YES: _Action(_card(Act.FOLLOW_YES), writes=False),  # opens the log form
    Act.FOLLOW_LATER: _Action(_card(Act.FOLLOW_LATER), writes=True),
    Act.FOLLOW_DROP: _Action(_card(Act.FOLLOW_DROP), writes=True),
    Act.ERASE_CONFIRM: _Action(_erase_button, writes=True),
    Act.ERASE_CANCEL: _Action(_erase_cancel_button, writes=False),
    Act.POOL_TRIAGE: _Action(_pool(imports.triage_button), writes=False),
    Act.POOL_LIST: _Action(_pool(imports.list_button), writes=False),
    Act.POOL_ADD: _Action(_pool(imports.add_button), writes=True),
    Act.POOL_NOT_NOW: _Action(_pool(imports.not_now_button), writes=True),
    Act.POOL_OFFER_ADD: _Action(_pool(pool_offer.add_offered), writes=True),
    Act.POOL_OFFER_NOT_NOW: _Action(_pool(pool_offer.decline_offered), writes=True),
    Act.GOAL_SET: _Action(_goal_button, writes=True),
    # Predict, then find out (bot.core.predict).
    Act.REACHED: _Action(_reached_button, writes=True),
    Act.PREDICT: _Action(_predict_button, writes=True),
    Act.CARD_PREDICT: _Action(_card_predict_button, writes=True),
    Act.FOLLOW_ACTUAL: _Action(_follow_actual_button, writes=True),
    Act.STEP_DONE: _Action(_step(Act.STEP_DONE), writes=True),
    Act.STEP_LATER: _Action(_step(Act.STEP_LATER), writes=True),
    Act.STEP_DROP: _Action(_step(Act.STEP_DROP), writes=True),
    Act.EVIDENCE: _Action(_evidence_button, writes=False),
}


def _is_id(text: str) -> bool:
    return parse_count(text, below=MAX_ID) is not None


def command_may_write(text: str) -> bool:
    """Whether the command ``text`` may change data (True when in doubt): adapters skip
    replay bookkeeping for commands that only read."""
    try:
        return c.parse(text).writes
    except Exception:
        return True


def action_may_write(action: str) -> bool:
    """Whether the button ``action`` may change data (True for one we don't know)."""
    if action in GROUP_ACTS:
        return GROUP_ACTS[Act(action)]
    try:
        return _ACTIONS[Act(action)].writes
    except (ValueError, KeyError):
        return True
