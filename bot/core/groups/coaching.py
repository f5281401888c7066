"""The coach features' entry points, called by every adapter next to
:class:`~bot.core.service.Reconnect`: the ``coach`` command and its buttons, the check-in form,
*Share with my group*, ``group prompt <text>``, and the Home section.

Everything a button or a form names (a group id, a member id, a contact id) is untrusted: it
is checked against the person asking — their platform and workspace, whether they coach the
group or are in it — on every request, and refused with a kind reply otherwise. The reply
does not say whether a group exists: a coach of group A learns nothing of group B.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date

import structlog

from bot.core import dates
from bot.core.dates import Clock, system_clock
from bot.core.evidence import Expectation, OutcomeTag
from bot.core.goals import week_start
from bot.core.groups import checkin, coach, share
from bot.core.groups.channel_post import ChannelPost, Deliveries, DirectMessage, ThreadParent
from bot.core.groups.coach_ports import CoachStore, GroupInfo, GroupSnapshot, MemberView
from bot.core.groups.levels import SharingLevel
from bot.core.model import Contact, UserRef
from bot.core.replies import (
    Block,
    Form,
    FormErrors,
    FormKind,
    Reply,
    Strong,
    context,
    message,
    section,
)
from bot.core.service import Caller
from bot.core.text import clean, fold, one_line, shorten, storable, visible

log = structlog.get_logger(__name__)

NOT_YOURS = (
    "That button isn't one you can use — it may be out of date, or it belongs to someone "
    "else's group. Type `coach` to see your groups."
)
NOT_A_COACH = (
    "The coach view is for a group's coaches. If you run a group, type `group create` in its "
    "channel to set it up."
)
PRIVATE_HERE = (
    "The coach view is private, so let's keep it to our direct messages: open your chat with "
    "Reconnect and type `coach` there."
)
NOT_A_MEMBER = "You're not in that group any more, so nothing was shared."
NOT_A_WIN = "I couldn't find that win in your log any more, so nothing was shared."
ALREADY_SHARED = "You already shared this win with that group this week."
PROMPT_MAX = 1000
PROMPT_HOW = (
    "Type the prompt after the words, e.g. `group prompt What's one small win from this week?`"
)

Outcome = Reply | Form | Deliveries


class Coaching:
    """The coach's view, check-ins, shared wins and coach prompts."""

    def __init__(self, store: CoachStore, clock: Clock = system_clock) -> None:
        self.store = store
        self.clock = clock
        #: Names the claims this process makes (group_posts.worker).
        self.worker = f"coach-{secrets.token_hex(6)}"

    # --- routing ---------------------------------------------------------------------------

    @staticmethod
    def owns_action(action: str) -> bool:
        """Whether a button's action is one of ours."""
        return action in (
            coach.CHECKIN_ACTION,
            coach.VIEW_ACTION,
            share.SHARE_ACTION,
            share.EDIT_ACTION,
        )

    @staticmethod
    def owns_form(kind: str) -> bool:
        """Whether a submitted form is one of ours."""
        return kind in (FormKind.COACH_CHECKIN, FormKind.SHARE_WIN)

    @staticmethod
    def owns_command(text: str) -> bool:
        """Whether typed command text is ours: ``coach …`` or ``group prompt …``."""
        words = clean(text).split(maxsplit=2)
        if not words:
            return False
        first = words[0].lower()
        return first in ("coach", "coaching") or (
            first == "group" and len(words) > 1 and words[1].lower() == "prompt"
        )

    # --- commands --------------------------------------------------------------------------

    async def command(self, caller: Caller, text: str, *, private: bool = False) -> Outcome:
        """``coach [<group name>]`` or ``group prompt <text>``. ``private``: the answer is seen
        by the caller only wherever they typed it (a Slack ephemeral reply), so the coach view
        may be answered in a channel too."""
        words = clean(text).split(maxsplit=1)
        if words and words[0].lower() == "group":
            rest = words[1] if len(words) > 1 else ""
            return await self._prompt(
                caller, rest.split(maxsplit=1)[1] if len(rest.split(maxsplit=1)) > 1 else ""
            )
        if caller.channel is not None and not private:
            return message(PRIVATE_HERE)
        wanted = one_line(words[1]) if len(words) > 1 else ""
        return await self.view(caller, wanted)

    async def view(self, caller: Caller, wanted: str = "", group_id: int | None = None) -> Reply:
        """The coach view of every group ``caller`` coaches (or the one asked for)."""
        groups = await self.store.coached_groups(caller.user)
        if not groups:
            return message(NOT_A_COACH)
        if group_id is not None:
            groups = [g for g in groups if g.id == group_id]
            if not groups:
                return message(NOT_YOURS)
        elif wanted:
            key = fold(wanted)
            chosen = [g for g in groups if key in fold(g.name)]
            if not chosen:
                names = ", ".join(f"“{shorten(g.name, 40)}”" for g in groups[:10])
                return message(
                    f"You don't coach a group called “{shorten(wanted, 40)}”. Yours: {names}."
                )
            groups = chosen
        shown, more = groups[: coach.GROUPS_SHOWN], [g.name for g in groups[coach.GROUPS_SHOWN :]]
        today = self._today()
        snapshots = [await self._snapshot(g) for g in shown]
        return coach.coach_reply(snapshots, today, more=more, cmd=caller.command)

    async def home_blocks(self, caller: Caller) -> tuple[Block, ...]:
        """The coach's section of the Home tab (nothing for someone who coaches no group)."""
        groups = await self.store.coached_groups(caller.user)
        if not groups:
            return ()
        snapshots = [await self._snapshot(g) for g in groups[: coach.GROUPS_SHOWN]]
        blocks = coach.home_blocks(snapshots, self._today())
        if len(groups) > coach.GROUPS_SHOWN:
            more = len(groups) - coach.GROUPS_SHOWN
            blocks = (*blocks, context(f"And {more} more: type `coach` to see them."))
        return blocks

    async def with_home(self, caller: Caller, home: Reply) -> Reply:
        """``home`` with the coach's section added at the end, if they coach a group."""
        blocks = await self.home_blocks(caller)
        if not blocks:
            return home
        return Reply(summary=home.summary, blocks=(*home.blocks, *blocks), files=home.files)

    # --- buttons ---------------------------------------------------------------------------

    async def action(self, caller: Caller, action: str, value: str) -> Outcome:
        """A click on one of our buttons."""
        if action == coach.VIEW_ACTION:
            group_id = _id(value)
            return await self.view(caller, group_id=group_id) if value else await self.view(caller)
        if action == coach.CHECKIN_ACTION:
            return await self._checkin_form(caller, value)
        if action == share.SHARE_ACTION:
            return await self._share(caller, value)
        if action == share.EDIT_ACTION:
            return await self._share_form(caller, value)
        return message(NOT_YOURS)

    async def _checkin_form(self, caller: Caller, value: str) -> Reply | Form:
        found = await self._quiet_member(caller, value)
        if isinstance(found, Reply):
            return found
        group, member = found
        return checkin.form(group, member, coach.label(member, self._today()))

    async def _quiet_member(
        self, caller: Caller, value: str
    ) -> Reply | tuple[GroupInfo, MemberView]:
        """The group (``caller`` coaches it) and quiet member a check-in value names."""
        parsed = checkin.parse_context(value)
        group = await self.store.coached_group(caller.user, parsed[0]) if parsed else None
        if parsed is None or group is None:
            log.info("groups.refused", what="checkin", reason="not_coach")
            return message(NOT_YOURS)
        snapshot = await self._snapshot(group)
        member = next((m for m in snapshot.members if m.member_id == parsed[1]), None)
        if member is None:
            return message("That member isn't in the group any more.")
        today = self._today()
        if coach.quiet_days(member, today, group.quiet_days) is None:
            return message(
                f"{coach.label(member, today)} isn't quiet any more — no check-in needed right now."
            )
        if member.checked_in:
            return message(
                f"{coach.label(member, today)} already had a check-in from this group this week. "
                "One a week is plenty."
            )
        return group, member

    # --- forms -----------------------------------------------------------------------------

    async def form(self, caller: Caller, kind: str, context_value: str) -> Form | None:
        """One of our forms again, as first shown (to redisplay a submission's errors)."""
        if kind == FormKind.SHARE_WIN:
            found = await self._share_form(caller, context_value)
        elif kind == FormKind.COACH_CHECKIN:
            found = await self._checkin_form(caller, context_value)
        else:
            return None
        return found if isinstance(found, Form) else None

    async def submit(
        self,
        caller: Caller,
        kind: str,
        context_value: str,
        values: Mapping[str, str | None],
        *,
        signer: str | None,
    ) -> Reply | FormErrors | Deliveries:
        """A submitted check-in form: checked again from scratch (the form is untrusted);
        ``signer`` is the coach's display name from their platform. Also *Edit, then share*."""
        if kind == FormKind.SHARE_WIN:
            return await self._share_edited(caller, context_value, values)
        if kind != FormKind.COACH_CHECKIN:
            return message(NOT_YOURS)
        text = checkin.read_message(values)
        if isinstance(text, dict):
            return FormErrors(text)
        found = await self._quiet_member(caller, context_value)
        if isinstance(found, Reply):
            return found
        group, member = found
        week = self._week(group)
        claimed = await self.store.claim_checkin(group.id, member.member_id, caller.user, week)
        if claimed is None:
            return message("They already had a check-in from this group this week.")
        name = coach.label(member, self._today())
        return Deliveries(
            items=(
                DirectMessage(
                    member.user,
                    checkin.message_for_member(text, signer or checkin.NO_NAME, group),
                    f"checkin:{claimed}",
                ),
            ),
            done=message(f"Sent your check-in to {name}. Only they can see it."),
            failed=message(
                f"I couldn't deliver that to {name} — they may have removed Reconnect. Nothing "
                "was sent, and you can try again later."
            ),
        )

    # --- sharing ---------------------------------------------------------------------------

    async def offer(
        self,
        user: UserRef,
        contact: Contact,
        on: date,
        learned: str,
        outcomes: frozenset[OutcomeTag],
        response: Expectation | None,
        reply: Reply,
    ) -> Reply:
        """``reply`` with *Share with my group* when the log is a win and ``user`` is in a
        group (see :class:`bot.core.groups.share.ShareOffers`)."""
        if share.win_kind(outcomes, response) is None:
            return reply
        groups = await self.store.member_groups(user)
        if not groups:
            return reply
        names = [n for n in (contact.name, contact.preferred_name) if n]
        text = share.win_text(outcomes, response, learned, names)
        return share.with_offer(reply, share.offer_blocks(groups, contact.id, on, text))

    async def _share(self, caller: Caller, value: str) -> Reply | Deliveries:
        parsed = share.parse_value(value)
        if parsed is None:
            return message(NOT_YOURS)
        group_id, contact_id, on = parsed
        found = await self._win(caller, group_id, contact_id, on)
        if isinstance(found, Reply):
            return found
        group, kind, text = found
        return await self._post_win(caller, group, kind, text)

    async def _share_form(self, caller: Caller, value: str) -> Reply | Form:
        """*Edit, then share*: the win's text in a form the member may change (their words —
        with the contact's name too, if they choose to add it)."""
        parsed = share.parse_edit_value(value)
        if parsed is None:
            return message(NOT_YOURS)
        contact_id, on = parsed
        groups = await self.store.member_groups(caller.user)
        if not groups:
            return message(NOT_A_MEMBER)
        found = await self._win(caller, groups[0].id, contact_id, on)
        if isinstance(found, Reply):
            return found
        return share.edit_form(groups, contact_id, on, found[2])

    async def _share_edited(
        self, caller: Caller, context_value: str, values: Mapping[str, str | None]
    ) -> Reply | FormErrors | Deliveries:
        parsed = share.parse_edit_value(context_value)
        if parsed is None:
            return message(NOT_YOURS)
        text = share.read_text(values)
        if isinstance(text, dict):
            return FormErrors(text)
        contact_id, on = parsed
        chosen = values.get(share.GROUP)
        if chosen:
            group_id = _id(chosen) or 0
        else:  # the form asks for a group only when the member is in several
            groups = await self.store.member_groups(caller.user)
            group_id = groups[0].id if len(groups) == 1 else 0
        found = await self._win(caller, group_id, contact_id, on)
        if isinstance(found, Reply):
            return found
        group, kind, _ = found
        return await self._post_win(caller, group, kind, text)

    async def _win(
        self, caller: Caller, group_id: int, contact_id: int, on: date
    ) -> Reply | tuple[GroupInfo, str, str]:
        """The group (``caller`` is a member) and the win ``caller`` logged, as shared text."""
        groups = {g.id: g for g in await self.store.member_groups(caller.user)}
        group = groups.get(group_id)
        if group is None:
            log.info("groups.refused", what="share", reason="not_member")
            return message(NOT_A_MEMBER)
        logged = await self.store.shared_log(caller.user, contact_id, on)
        made = share.text_of(logged) if logged is not None else None
        if made is None:
            return message(NOT_A_WIN)
        kind, text = made
        if group.broken:
            return message("Posting in that group's channel has stopped, so nothing was shared.")
        return group, kind, text

    async def _post_win(
        self, caller: Caller, group: GroupInfo, kind: str, text: str
    ) -> Reply | Deliveries:
        group_id = group.id
        week = self._week(group)
        claim = await self.store.share_win(caller.user, group_id, week, text, kind, self.worker)
        if claim is None:
            return message(NOT_A_MEMBER)
        if claim.duplicate:
            return message(ALREADY_SHARED)
        parent = ThreadParent(
            f"parent:{claim.post_id}",
            claim.parent_message_id,
            _wins_parent(week),
        )
        # Someone else is posting the thread's parent right now: post plainly in the channel.
        thread = parent if claim.mine or claim.parent_message_id is not None else None
        who = claim.display_name or "A member"
        post = Reply(
            summary=f"A win from {who}",
            blocks=(section("🎉 ", Strong(shorten(who, 80)), " shared a win: ", f"“{text}”"),),
        )
        return Deliveries(
            items=(
                ChannelPost(
                    group.channel_id, group.post_reference, post, f"win:{claim.win_id}", thread
                ),
            ),
            done=message(f"Shared with {group.name}. 🎉 They'll see: “{text}”"),
            failed=message(
                f"I couldn't post in {group.name}'s channel — Reconnect may have been removed "
                "from it. Your win is saved; ask your coach to add Reconnect back."
            ),
        )

    # --- coach prompts ---------------------------------------------------------------------

    async def _prompt(self, caller: Caller, text: str) -> Reply | Deliveries:
        body = storable(clean(text)).strip()
        if caller.channel is not None:
            group = await self.store.group_in_channel(caller.user, caller.channel)
            if group is None:
                return message("Only this group's coaches can post a prompt here.")
        else:
            groups = await self.store.coached_groups(caller.user)
            if not groups:
                return message(NOT_A_COACH)
            if len(groups) > 1:
                names = ", ".join(f"“{shorten(g.name, 40)}”" for g in groups[:10])
                return message(
                    f"You coach several groups ({names}). Type `group prompt …` in the channel "
                    "of the group it is for."
                )
            group = groups[0]
        if not visible(body):
            return message(f"What should the prompt say? {PROMPT_HOW}")
        if len(body) > PROMPT_MAX:
            return message(f"Please keep a prompt under {PROMPT_MAX} characters ({len(body)} now).")
        if group.broken:
            return message("Posting in that group's channel has stopped, so nothing was posted.")
        week = self._week(group)
        key = secrets.token_hex(8)
        post = Reply(
            summary="A prompt from your coach", blocks=(section(Strong("From your coach: "), body),)
        )
        post_id = await self.store.add_prompt(group.id, week, key, body, self.worker)
        return Deliveries(
            items=(ChannelPost(group.channel_id, group.post_reference, post, f"prompt:{post_id}"),),
            done=message(f"Posted your prompt in {group.name}."),
            failed=message(
                f"I couldn't post in {group.name}'s channel — is Reconnect still in it? Nothing "
                "was posted."
            ),
        )

    # --- deliveries ------------------------------------------------------------------------

    async def record(self, receipt: str, message_id: str | None, error: str) -> None:
        """What became of one delivered item (see :func:`bot.core.groups.channel_post.deliver`)."""
        kind, _, raw = receipt.partition(":")
        row_id = _id(raw)
        if row_id is None:
            return
        if kind == "checkin":
            await self.store.checkin_done(row_id, ok=message_id is not None)
        elif message_id is not None:
            await self.store.posted(kind, row_id, message_id)
        else:
            await self.store.post_failed(kind, row_id, error)

    # --- helpers ---------------------------------------------------------------------------

    async def _snapshot(self, group: GroupInfo) -> GroupSnapshot:
        return await self.store.snapshot(group, self._week(group), coach.TREND_WEEKS)

    def _today(self) -> date:
        return self.clock().date()

    def _week(self, group: GroupInfo) -> date:
        return week_start(dates.local_today(self.clock(), group.timezone))


def _wins_parent(week: date) -> Reply:
    text = (
        f"🎉 Wins for the week of {dates.show(week)}. Members share theirs in this thread — log a "
        "conversation with Reconnect and choose *Share with my group*."
    )
    return Reply(summary="This week's wins", blocks=(section(text.replace("*", "")),))


def _id(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and 0 < len(text) <= 18 else None


__all__ = ["Coaching", "SharingLevel"]
