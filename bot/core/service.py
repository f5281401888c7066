"""The Reconnect service: commands, button actions and form submissions, platform-neutral.

Every public method runs inside one storage transaction for one user, so a request either
changes everything it means to or nothing, and can only ever see that user's contacts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

from bot.core import commands as c
from bot.core import dates, forms, nudge_actions, preferences, views
from bot.core.actions import Act
from bot.core.cadence import DEFAULT_SNOOZE, CadenceError, Span, parse_span
from bot.core.dates import Clock, system_clock
from bot.core.matching import match
from bot.core.model import (
    NAME_MAX,
    NOTES_MAX,
    Contact,
    ContactDraft,
    Conversation,
    DuplicateContactError,
    UserRef,
)
from bot.core.ports import ContactBook, Store
from bot.core.replies import (
    Actions,
    Block,
    Button,
    Em,
    Form,
    FormErrors,
    FormKind,
    MessageUpdate,
    Outcome,
    Reply,
    Strong,
    context,
    message,
    section,
)
from bot.core.text import parse_count

#: A button value must stay under Slack's 2,000 characters; leave room for JSON quoting.
_VALUE_MAX = 1900

#: Ids are BIGINT: anything outside (0, 2**63) cannot name a contact.
_MAX_ID = 2**63

GONE = "That contact isn't in your list — it may have been removed."


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, and how commands are typed on their platform (for hints in replies)."""

    user: UserRef
    command: str = "/reconnect "


class Reconnect:
    """The application service every adapter calls."""

    def __init__(self, store: Store, clock: Clock = system_clock) -> None:
        self.store = store
        self.clock = clock

    # --- entry points ----------------------------------------------------------------------

    async def command(self, caller: Caller, text: str) -> Outcome:
        """Handle command text (without the ``/reconnect`` itself)."""
        try:
            command = c.parse(text)
        except c.UnknownCommand as exc:
            hint = f" Did you mean `{caller.command}{exc.suggestion}`?" if exc.suggestion else ""
            return message(
                f"I don't know the command “{exc.word}”.{hint} "
                f"Type `{caller.command}help` to see everything I can do."
            )
        except c.CommandError as exc:
            return message(exc.message)
        if isinstance(command, c.Help):
            return views.help_reply(caller.command)
        async with self.store.book(caller.user, write=_writes(command)) as book:
            return await self._run(caller, book, command)

    async def action(self, caller: Caller, action: str, value: str) -> Outcome:
        """Handle a button press. ``value`` is untrusted: ids are looked up for this user only."""
        async with self.store.book(caller.user, write=action not in _READ_ACTIONS) as book:
            return await self._act(caller, book, action, value)

    async def submit(
        self, caller: Caller, kind: str, context_value: str, values: Mapping[str, str | None]
    ) -> Reply | FormErrors | MessageUpdate:
        """Handle a submitted form. Returns field errors (nothing changed) or the reply."""
        async with self.store.book(caller.user) as book:
            today = self._today(book)
            try:
                form_kind = FormKind(kind)
            except ValueError:
                form_kind = None
            try:
                match form_kind:
                    case FormKind.ADD_CONTACT:
                        draft = forms.read_contact(values)
                        return await self._add(caller, book, draft, today)
                    case FormKind.EDIT_CONTACT:
                        draft = forms.read_contact(values)
                        return await self._edit(caller, book, context_value, draft, today)
                    case FormKind.LOG_CONVERSATION:
                        entry = forms.read_log(values, today)
                        contact = await book.get(entry.contact_id)
                        if contact is None:
                            return FormErrors(
                                {forms.CONTACT: "Please choose one of your contacts."}
                            )
                        reply = await self._log(
                            caller, book, contact, entry.occurred_on, entry.note, entry.learned
                        )
                        if not context_value:
                            return reply
                        return await nudge_actions.mark_logged(
                            book, context_value, contact.id, caller.command, reply
                        )
                    case FormKind.SETTINGS:
                        current = await book.prefs()
                        prefs = preferences.read_settings(values, current, today)
                        await book.save_prefs(prefs, timezone_from_user=prefs.timezone_locked)
                        return message("Saved. " + preferences.describe(prefs, self._today(book)))
            except forms.FieldErrors as exc:
                return FormErrors(exc.errors)
        return message("That form has expired. Please open it again.")

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
                    return preferences.settings_form(await book.prefs())
        return None

    async def home(self, caller: Caller, notice: Reply | None = None) -> Reply:
        """The home view: counts, who is due, quick actions."""
        async with self.store.book(caller.user, write=False) as book:
            today = self._today(book)
            return views.home_reply(
                due=await book.due(today, limit=views.HOME_DUE_SHOWN),
                total_due=await book.count_due(today),
                total=await book.count(),
                conversations=await book.count_conversations(),
                today=today,
                cmd=caller.command,
                notice=notice,
                schedule=preferences.describe(await book.prefs(), today),
            )

    async def set_timezone(self, caller: Caller, timezone: str) -> bool:
        """Remember the caller's IANA time zone; ``False`` (and no change) for an unknown zone."""
        if dates.zone(timezone).key != timezone:
            return False
        await self.store.set_timezone(caller.user, timezone)
        return True

    async def healthy(self) -> bool:
        """Whether the database answers."""
        return await self.store.ping()

    # --- commands ----------------------------------------------------------------------------

    async def _run(self, caller: Caller, book: ContactBook, command: c.Command) -> Outcome:
        today = self._today(book)
        match command:
            case c.Add(name=None):
                return forms.contact_form()
            case c.Add(name=str(name), cadence=cadence, notes=notes):
                if len(name) > NAME_MAX:
                    return message(
                        f"That name is too long — names can be at most {NAME_MAX} characters."
                    )
                if len(notes) > NOTES_MAX:
                    return message(
                        f"Those notes are {len(notes):,} characters; the most I keep "
                        f"is {NOTES_MAX:,}. Shorten them, or use "
                        f"`{caller.command}add` for the form."
                    )
                draft = ContactDraft(name=name, notes=notes)
                if cadence is not None:
                    draft = replace(draft, cadence=cadence)
                result = await self._add(caller, book, draft, today)
                if isinstance(result, FormErrors):
                    return message(result.errors[forms.NAME])
                return result
            case c.Log(name=None):
                return await self._log_form(caller, book, today)
            case c.Log(name=str(name), note=note):
                if len(note) > NOTES_MAX:
                    return message(
                        f"That note is {len(note):,} characters; the most I keep is "
                        f"{NOTES_MAX:,}. Use `{caller.command}log` for the form."
                    )
                found = await self._resolve(caller, book, name, "log", note=note)
                if isinstance(found, Reply):
                    return found
                return await self._log(caller, book, found, today, note, "")
            case c.Due():
                # due() first: a store may answer the two counts from the same query.
                due = await book.due(today, limit=views.DUE_SHOWN)
                total_due = await book.count_due(today)
                total = await book.count()
                upcoming = await book.upcoming(limit=1) if total and not total_due else []
                return views.due_reply(
                    due,
                    total_due,
                    total,
                    upcoming[0] if upcoming else None,
                    today,
                    caller.command,
                )
            case c.ListAll(page=page):
                return await self._list(caller, book, page, today)
            case c.Snooze(name=name, span=span):
                found = await self._resolve(caller, book, name, "snooze", span=span.encode())
                if isinstance(found, Reply):
                    return found
                return await self._snooze(book, found, span, today)
            case c.Edit(name=name):
                found = await self._resolve(caller, book, name, "edit")
                return found if isinstance(found, Reply) else forms.contact_form(found)
            case c.Remove(name=name):
                found = await self._resolve(caller, book, name, "remove")
                return found if isinstance(found, Reply) else _confirm_remove(found)
            case c.Settings():
                return preferences.settings_form(await book.prefs())
            case c.Pause(when=when):
                try:
                    until = preferences.parse_pause(when, today)
                except preferences.PauseError as exc:
                    return message(str(exc))
                prefs = replace(await book.prefs(), paused_until=until)
                await book.save_prefs(prefs, timezone_from_user=prefs.timezone_locked)
                return Reply(
                    summary="Nudges paused",
                    blocks=(
                        section(preferences.describe(prefs, today)),
                        Actions((Button("Resume now", Act.RESUME),)),
                    ),
                )
            case c.Resume():
                return await self._resume(book, today)
        return views.help_reply(caller.command)

    # --- buttons -----------------------------------------------------------------------------

    async def _act(self, caller: Caller, book: ContactBook, action: str, value: str) -> Outcome:
        today = self._today(book)
        try:
            act = Act(action)
        except ValueError:
            return message("That button is from an older version of Reconnect. Please try again.")
        if act in nudge_actions.CARD_ACTS:
            return await nudge_actions.card_action(book, act, value, today, caller.command)
        match act:
            case Act.HELP:
                return views.help_reply(caller.command)
            case Act.SETTINGS_FORM:
                return preferences.settings_form(await book.prefs())
            case Act.RESUME:
                return await self._resume(book, today)
            case Act.DUE:
                return await self._run(caller, book, c.Due())
            case Act.ADD_FORM:
                return forms.contact_form()
            case Act.LIST_PAGE:
                page = parse_count(value, below=100_000) or 1
                return await self._list(caller, book, page, today)
            case Act.LOG_FORM if not value:
                return await self._log_form(caller, book, today)
            case Act.PICK:
                return await self._pick(caller, book, value, today)
        contact_id, _, arg = value.partition(":")
        contact = await book.get(int(contact_id)) if _is_id(contact_id) else None
        if contact is None:
            return message(GONE)
        match act:
            case Act.LOG_FORM:
                return forms.log_form(await book.upcoming(limit=100), today, selected=contact)
            case Act.EDIT_FORM:
                return forms.contact_form(contact)
            case Act.SNOOZE:
                span = DEFAULT_SNOOZE
                if arg:
                    try:
                        span = parse_span(arg)
                    except CadenceError as exc:
                        return message(str(exc))
                return await self._snooze(book, contact, span, today)
            case Act.REMOVE_ASK:
                return _confirm_remove(contact)
            case Act.REMOVE_CONFIRM:
                await book.delete(contact.id)
                return message(f"Removed {contact.name}. Their notes and conversations are gone.")
            case Act.REMOVE_CANCEL:
                return message(f"Kept {contact.name}.")
        return message("That button is from an older version of Reconnect. Please try again.")

    async def _pick(self, caller: Caller, book: ContactBook, value: str, today: date) -> Outcome:
        """A choice among several matching contacts: carry out the original command."""
        try:
            data = json.loads(value)
            op, contact_id = str(data["op"]), data["id"]
        except (ValueError, KeyError, TypeError):
            return message("That button has expired. Please run the command again.")
        valid = type(contact_id) is int and 0 < contact_id < _MAX_ID  # bool is an int, too
        contact = await book.get(contact_id) if valid else None
        if contact is None:
            return message(GONE)
        match op:
            case "log":
                note = str(data.get("note", ""))[:NOTES_MAX]
                return await self._log(caller, book, contact, today, note, "")
            case "snooze":
                try:
                    span = parse_span(str(data.get("span", "")))
                except CadenceError:
                    span = DEFAULT_SNOOZE
                return await self._snooze(book, contact, span, today)
            case "edit":
                return forms.contact_form(contact)
            case "remove":
                return _confirm_remove(contact)
        return message("That button has expired. Please run the command again.")

    # --- operations --------------------------------------------------------------------------

    async def _add(
        self, caller: Caller, book: ContactBook, draft: ContactDraft, today: date
    ) -> Reply | FormErrors:
        try:
            contact = await book.add(draft, due_on=today, today=today)
        except DuplicateContactError as exc:
            return FormErrors(
                {
                    forms.NAME: f"You already have {exc.existing.name} in your list — "
                    f"`{caller.command}edit {exc.existing.name}` changes their details."
                }
            )
        blocks: list[Block] = [
            section(
                "Added ", Strong(contact.name), f" — I'll remind you {contact.cadence.every()}."
            ),
            context(
                f"Would you mind if {contact.first_name} got in touch with you out of the blue? "
                "Most people are gladder to hear from an old colleague than we expect."
            ),
            Actions(
                (
                    Button("Log a conversation", Act.LOG_FORM, str(contact.id)),
                    Button("Edit details", Act.EDIT_FORM, str(contact.id)),
                )
            ),
        ]
        return Reply(summary=f"Added {contact.name}", blocks=tuple(blocks))

    async def _edit(
        self,
        caller: Caller,
        book: ContactBook,
        context_value: str,
        draft: ContactDraft,
        today: date,
    ) -> Reply | FormErrors:
        contact = await book.get(int(context_value)) if _is_id(context_value) else None
        if contact is None:
            return FormErrors({forms.NAME: GONE})
        cadence_changed = draft.cadence != contact.cadence
        contact.name = draft.name
        contact.company_role = draft.company_role
        contact.how_known = draft.how_known
        contact.notes = draft.notes
        contact.cadence = draft.cadence
        if cadence_changed and contact.last_contacted_on is not None:
            contact.next_due_on = draft.cadence.after(contact.last_contacted_on)
        try:
            await book.save(contact)
        except DuplicateContactError as exc:
            return FormErrors({forms.NAME: f"You already have {exc.existing.name} in your list."})
        text = f"Saved {contact.name} — {contact.cadence.every()}, " + (
            "due today."
            if contact.next_due_on <= today
            else f"next due {dates.show(contact.next_due_on, today)}."
        )
        return message(text)

    async def _log(
        self,
        caller: Caller,
        book: ContactBook,
        contact: Contact,
        on: date,
        note: str,
        learned: str,
    ) -> Reply:
        today = self._today(book)
        await book.log(Conversation(contact.id, on, note, learned))
        if contact.last_contacted_on is None or on >= contact.last_contacted_on:
            contact.last_contacted_on = on
            contact.last_note = note or learned or contact.last_note
            contact.next_due_on = contact.cadence.after(on)
        contact.follow_up_on = None  # you talked: no need to ask whether they replied
        await book.save(contact)
        when = "today" if on == today else dates.show(on, today)
        blocks: list[Block] = [
            section(
                "Logged your conversation with ",
                Strong(contact.name),
                f" ({when}). ",
                f"Next reminder: {dates.show(contact.next_due_on, today)} "
                f"({contact.cadence.every()}).",
            )
        ]
        if not learned:
            blocks.append(
                context(
                    Em("What did you learn about them? "),
                    f"A win, a plan, a family detail — add it with `{caller.command}edit "
                    f"{contact.name}` so it's there before your next conversation.",
                )
            )
        return Reply(summary=f"Logged a conversation with {contact.name}", blocks=tuple(blocks))

    async def _snooze(self, book: ContactBook, contact: Contact, span: Span, today: date) -> Reply:
        contact.next_due_on = span.after(max(today, contact.next_due_on))
        await book.save(contact)
        return message(
            f"Snoozed {contact.name} for {span.duration()} — I'll bring them up again "
            f"{dates.show(contact.next_due_on, today)}."
        )

    async def _resume(self, book: ContactBook, today: date) -> Reply:
        prefs = replace(await book.prefs(), paused_until=None)
        await book.save_prefs(prefs, timezone_from_user=prefs.timezone_locked)
        return message("Welcome back. " + preferences.describe(prefs, today))

    async def _log_form(self, caller: Caller, book: ContactBook, today: date) -> Outcome:
        contacts = await book.upcoming(limit=100)
        if not contacts:
            return views.no_contacts_reply(caller.command)
        return forms.log_form(contacts, today)

    async def _list(self, caller: Caller, book: ContactBook, page: int, today: date) -> Reply:
        contacts = await book.page(offset=(page - 1) * views.PAGE_SIZE, limit=views.PAGE_SIZE)
        return views.list_reply(contacts, page, await book.count(), today, caller.command)

    async def _resolve(
        self, caller: Caller, book: ContactBook, name: str, op: str, **extra: str
    ) -> Contact | Reply:
        """The one contact ``name`` means, or a reply (not found / choose among several)."""
        candidates = match(name, await book.names())
        if not candidates:
            return message(
                f"I couldn't find anyone called “{name}” in your list. "
                f"`{caller.command}list` shows everyone; `{caller.command}add {name}` adds them."
            )
        if len(candidates) == 1:
            contact = await book.get(candidates[0][0])
            return contact if contact is not None else message(GONE)
        buttons = []
        for contact_id, contact_name in candidates:
            value = json.dumps({"op": op, "id": contact_id, **extra}, ensure_ascii=False)
            if len(value) > _VALUE_MAX:
                break
            buttons.append(Button(contact_name, Act.PICK, value))
        names = ", ".join(n for _, n in candidates)
        if len(buttons) < len(candidates):
            return message(f"Several contacts match “{name}”: {names}. Please use the full name.")
        return Reply(
            summary=f"Several contacts match “{name}”",
            blocks=(
                section(f"Several contacts match “{name}”. Which one did you mean?"),
                Actions(tuple(buttons)),
            ),
        )

    def _today(self, book: ContactBook) -> date:
        return dates.local_today(self.clock(), book.timezone)


def _confirm_remove(contact: Contact) -> Reply:
    cid = str(contact.id)
    return Reply(
        summary=f"Remove {contact.name}?",
        blocks=(
            section(
                "Remove ",
                Strong(contact.name),
                " and everything you noted about them? This can't be undone.",
            ),
            Actions(
                (
                    Button("Remove", Act.REMOVE_CONFIRM, cid, style="danger"),
                    Button("Keep", Act.REMOVE_CANCEL, cid),
                )
            ),
        ),
    )


#: Buttons that only show something (everything else may change data).
_READ_ACTIONS = frozenset(
    {
        Act.HELP,
        Act.DUE,
        Act.LIST_PAGE,
        Act.ADD_FORM,
        Act.LOG_FORM,
        Act.EDIT_FORM,
        Act.REMOVE_ASK,
        Act.REMOVE_CANCEL,
        Act.SETTINGS_FORM,
        Act.CARD_LOG,
        Act.FOLLOW_YES,
    }
)


def _writes(command: c.Command) -> bool:
    """Whether running ``command`` may change data (forms and listings only read)."""
    match command:
        case c.Due() | c.ListAll() | c.Edit() | c.Remove() | c.Settings():
            return False
        case c.Add(name=None) | c.Log(name=None):
            return False
    return True


def _is_id(text: str) -> bool:
    return parse_count(text, below=_MAX_ID) is not None
