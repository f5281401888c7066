"""The group features' service: ``group …`` commands, the group buttons, the Home section.

Platform-neutral. Every request names its caller, and the rules are checked here, against
the store, for every request — never trusted from a button's value:

- a button's group must be of the caller's platform and workspace (else "not valid");
- joining (by command or button) only happens from the group's own channel;
- a member changes only their own level or membership;
- only a coach adds coaches (checked in the store's transaction that adds one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.core.actions import Act
from bot.core.groups import views
from bot.core.groups.buddies import buddies_action, buddies_command
from bot.core.groups.commands import GroupCommand, GroupCommandError, parse_group
from bot.core.groups.levels import SharingLevel
from bot.core.groups.model import Group, Place
from bot.core.groups.ports import CoachAdded, GroupStore
from bot.core.model import UserRef
from bot.core.replies import Block, Reply, message
from bot.core.text import parse_count

if TYPE_CHECKING:
    from bot.core.service import Caller

__all__ = ["DEFAULT_NAME", "GROUP_ACTS", "GroupService"]

#: The buttons this service answers, and whether each may write.
GROUP_ACTS: dict[Act, bool] = {
    Act.GROUP_JOIN: False,
    Act.GROUP_LEVEL: True,
    Act.GROUP_PRIVACY: False,
    Act.GROUP_LEAVE: True,
    Act.GROUP_BUDDIES: True,
}
#: A group created without a name.
DEFAULT_NAME = "Our group"
_MAX_GROUP_ID = 2**63


class GroupService:
    """Groups, their coaches and members, on top of a :class:`GroupStore`."""

    def __init__(self, store: GroupStore) -> None:
        self.store = store

    # --- commands -------------------------------------------------------------------------

    async def command(self, caller: Caller, rest: str) -> Reply:
        """``group <rest>``: see the grammar in :mod:`bot.core.groups.commands`."""
        cmd = caller.command
        try:
            command = parse_group(rest, cmd)
        except GroupCommandError as exc:
            return message(exc.message)
        match command.verb:
            case "help":
                return views.help_reply(cmd)
            case "":
                return await self._show(caller)
            case "create":
                return await self._create(caller, command)
            case "join":
                return await self._join(caller, command)
            case "privacy" | "leave":
                return await self._mine(caller, command)
            case "coach":
                return await self._add_coach(caller)
            case "buddies":
                return await buddies_command(self.store, caller, command.on)
        return views.help_reply(cmd)

    async def _here(self, caller: Caller) -> Group | None:
        if caller.channel is None:
            return None
        user = caller.user
        return await self.store.by_channel(user.platform, user.workspace_id, caller.channel)

    async def _show(self, caller: Caller) -> Reply:
        if caller.channel is None:
            return views.places_reply(await self.store.places(caller.user), caller.command)
        group = await self._here(caller)
        if group is None:
            no_group = views.no_group_here_reply(caller.command)
            help_blocks = views.help_reply(caller.command).blocks[1:]
            return Reply(summary=no_group.summary, blocks=(*no_group.blocks, *help_blocks))
        place = None if caller.public else await self.store.place(group.id, caller.user)
        return views.channel_reply(group, place, caller.command, public=caller.public)

    async def _create(self, caller: Caller, command: GroupCommand) -> Reply:
        if caller.channel is None:
            return message(views.NOT_A_CHANNEL.format(cmd=caller.command, verb="create"))
        group, new = await self.store.create(
            caller.channel, command.name or DEFAULT_NAME, caller.user
        )
        if not new:
            place = await self.store.place(group.id, caller.user)
            if place is None or not place.coach:
                return message(
                    f"This channel already is the group {group.name} — one channel, one group. "
                    f"To join it, type `{caller.command}group join`."
                )
        reply = views.created_reply(group, caller.command, new=new)
        return Reply(reply.summary, reply.blocks, post=views.welcome_post(group, caller.command))

    async def _join(self, caller: Caller, command: GroupCommand) -> Reply:
        if caller.channel is None:
            return message(views.NOT_A_CHANNEL.format(cmd=caller.command, verb="join"))
        group = await self._here(caller)
        if group is None:
            return views.no_group_here_reply(caller.command)
        if command.level is None:
            return await self._consent(caller, group)
        new = await self.store.join(group.id, caller.user, command.level, caller.display_name)
        return self._joined(caller, group, command.level, new=new)

    async def _mine(self, caller: Caller, command: GroupCommand) -> Reply:
        """``privacy`` and ``leave``: the channel's group, or outside a channel the caller's
        only group (several: a choice)."""
        if caller.channel is not None:
            group = await self._here(caller)
            if group is None:
                return views.no_group_here_reply(caller.command)
            place = await self.store.place(group.id, caller.user)
        else:
            member_of = [p for p in await self.store.places(caller.user) if p.level is not None]
            if not member_of:
                return views.places_reply([], caller.command)
            if len(member_of) > 1:
                return views.choose_group_reply(member_of, command.verb)
            place = member_of[0]
            group = place.group
        if place is None or place.level is None:
            return views.not_member_reply(group, caller.command)
        if command.verb == "leave":
            return await self._leave(caller, group)
        if command.level is None:
            shown = None if caller.public else place.level
            return views.consent_reply(group, shown, caller.command)
        return await self._set_level(caller, group, command.level)

    async def _add_coach(self, caller: Caller) -> Reply:
        if caller.channel is None:
            return message(views.NOT_A_CHANNEL.format(cmd=caller.command, verb="coach"))
        group = await self._here(caller)
        if group is None:
            return views.no_group_here_reply(caller.command)
        mentioned = list(dict.fromkeys(caller.mentions))
        if not mentioned:
            return message(views.WHO_COACH.format(cmd=caller.command))
        if len(mentioned) > 1:
            return message(views.ONE_COACH.format(cmd=caller.command))
        user = caller.user
        coach = UserRef(user.platform, user.workspace_id, mentioned[0])
        added = await self.store.add_coach(group.id, user, coach)
        if added is CoachAdded.REFUSED:
            return message(views.ONLY_COACHES)
        if added is CoachAdded.UNKNOWN:
            return message(views.NEW_COACH.format(cmd=caller.command))
        return views.coach_added_reply(group, added=added is CoachAdded.ADDED)

    # --- buttons --------------------------------------------------------------------------

    async def action(self, caller: Caller, act: Act, value: str) -> Reply:
        """A group button. ``value`` is untrusted: the group is looked up and checked."""
        group_part, _, level_part = value.partition(":")
        group = await self._group_of(caller, group_part)
        invalid = message(views.NOT_VALID.format(cmd=caller.command))
        if group is None:
            return invalid
        match act:
            case Act.GROUP_JOIN:
                if caller.channel != group.channel_id:
                    return invalid
                return await self._consent(caller, group)
            case Act.GROUP_LEVEL:
                level = SharingLevel.parse(level_part) if level_part else None
                if level is None:
                    return invalid
                if await self.store.set_level(group.id, caller.user, level):
                    return self._joined(caller, group, level, new=False)
                if caller.channel != group.channel_id:
                    return invalid  # joining only from the group's channel
                new = await self.store.join(group.id, caller.user, level, caller.display_name)
                return self._joined(caller, group, level, new=new)
            case Act.GROUP_PRIVACY:
                place = await self.store.place(group.id, caller.user)
                if place is None or place.level is None:
                    return views.not_member_reply(group, caller.command)
                shown = None if caller.public else place.level
                return views.consent_reply(group, shown, caller.command)
            case Act.GROUP_LEAVE:
                return await self._leave(caller, group)
            case Act.GROUP_BUDDIES:
                return await buddies_action(self.store, caller, group, level_part)
        return invalid

    async def _consent(self, caller: Caller, group: Group) -> Reply:
        """The consent step; where everyone reads along, without the caller's current level."""
        if caller.public:
            return views.consent_reply(group, None, caller.command)
        place = await self.store.place(group.id, caller.user)
        return views.consent_reply(group, place.level if place else None, caller.command)

    @staticmethod
    def _joined(caller: Caller, group: Group, level: SharingLevel, *, new: bool) -> Reply:
        if caller.public:
            return views.public_done_reply(group, joined=new)
        return views.joined_reply(group, level, caller.command, new=new)

    async def _group_of(self, caller: Caller, text: str) -> Group | None:
        group_id = parse_count(text, below=_MAX_GROUP_ID)
        group = await self.store.get(group_id) if group_id else None
        user = caller.user
        if group is None or (group.platform, group.workspace_id) != (
            user.platform,
            user.workspace_id,
        ):
            return None  # another workspace's group is simply not found
        return group

    async def _leave(self, caller: Caller, group: Group) -> Reply:
        if not await self.store.leave(group.id, caller.user):
            return views.not_member_reply(group, caller.command)
        return views.left_reply(group, caller.command)

    async def _set_level(self, caller: Caller, group: Group, level: SharingLevel) -> Reply:
        if not await self.store.set_level(group.id, caller.user, level):
            return views.not_member_reply(group, caller.command)
        return self._joined(caller, group, level, new=False)

    # --- elsewhere ------------------------------------------------------------------------

    async def home_blocks(self, user: UserRef) -> tuple[Block, ...]:
        """The Home's "Your groups" section (nothing when the person is in no group)."""
        return views.home_blocks(await self.store.places(user))

    async def places(self, user: UserRef) -> Sequence[Place]:
        """Every group ``user`` belongs to or coaches."""
        return await self.store.places(user)

    async def channel_gone(
        self, platform: str, workspace_id: str, channel_id: str, reason: str
    ) -> bool:
        """The platform said the channel was archived or deleted, or the bot was removed from
        it: mark its group (the weekly posts stop; the coach is told by the rhythm)."""
        return await self.store.mark_broken(platform, workspace_id, channel_id, reason)

    async def remember_channel(self, caller: Caller, reference: str) -> None:
        """Store the channel's conversation reference (Teams) if the channel is a group."""
        group = await self._here(caller)
        if group is not None:
            await self.store.save_post_reference(group.id, reference)
