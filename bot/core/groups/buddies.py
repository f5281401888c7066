"""``group buddies [on|off]`` and the practice-buddy buttons: members opt in or out; coaches
see how many opted in (a count, never who).

The rules are the group service's: a button's group is looked up and checked against the
caller's workspace before this runs, and a member only ever changes their own choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.core.actions import Act
from bot.core.groups import views
from bot.core.groups.model import Group, Place
from bot.core.groups.ports import GroupStore
from bot.core.replies import Actions, Block, Button, Reply, Strong, context, message, section

if TYPE_CHECKING:
    from bot.core.service import Caller

__all__ = ["buddies_action", "buddies_command"]

ABOUT = (
    "Once a week, on the group's theme day, I pair everyone who opted in (three of you when "
    "the count is odd) and introduce you, with one small thing to try together — rehearse an "
    "opener, or hold each other to the week's goal. Nobody is paired with the same person "
    "again until everyone has met everyone."
)
NOTHING_SHARED = (
    "Your buddy learns your name and nothing else: never your contacts, notes or numbers."
)


async def buddies_command(store: GroupStore, caller: Caller, on: bool | None) -> Reply:
    """``group buddies`` (show), ``group buddies on`` / ``off``: for the channel's group, or
    outside a channel the caller's only group (several: a choice)."""
    cmd = caller.command
    if caller.channel is not None:
        user = caller.user
        group = await store.by_channel(user.platform, user.workspace_id, caller.channel)
        if group is None:
            return views.no_group_here_reply(cmd)
        place = await store.place(group.id, user)
        if place is None:
            return views.not_member_reply(group, cmd)
        return await _answer(store, caller, place, on)
    places = await store.places(caller.user)
    if not places:
        return views.places_reply([], cmd)
    if len(places) > 1:
        return _choose(places, on)
    return await _answer(store, caller, places[0], on)


async def buddies_action(store: GroupStore, caller: Caller, group: Group, choice: str) -> Reply:
    """A practice-buddy button: ``choice`` is "on", "off" or "" (show)."""
    place = await store.place(group.id, caller.user)
    if place is None:
        return views.not_member_reply(group, caller.command)
    on = {"on": True, "off": False}.get(choice)
    if choice and on is None:
        return message(views.NOT_VALID.format(cmd=caller.command))
    return await _answer(store, caller, place, on)


async def _answer(store: GroupStore, caller: Caller, place: Place, on: bool | None) -> Reply:
    group, cmd = place.group, caller.command
    if place.level is None:
        if on is not None or not place.coach:
            return views.not_member_reply(group, cmd)
        return await _coach_count(store, group, cmd)
    if on is None:
        if caller.public:
            return message(views.PRIVATE_HINT)
        return await _status(store, place, cmd)
    if not await store.set_buddies(group.id, caller.user, on):
        return views.not_member_reply(group, cmd)
    if caller.public:
        return message(f"Done — your choice for {group.name} is saved. {views.PRIVATE_HINT}")
    if on:
        head = f"You're in for practice buddies in {group.name}."
        body = f"{ABOUT} {NOTHING_SHARED}"
    else:
        head = f"Practice buddies are off for you in {group.name}."
        body = "You won't be paired from the next pairing on; nobody is told."
    updated = Place(group, place.level, place.coach, on)
    return Reply(
        summary=head,
        blocks=(
            section(Strong(head)),
            section(body),
            Actions((views.buddy_button(group, buddies=updated.buddies),)),
        ),
    )


async def _status(store: GroupStore, place: Place, cmd: str) -> Reply:
    group = place.group
    head = (
        f"Practice buddies: you're in, in {group.name}."
        if place.buddies
        else f"Practice buddies: you're not in, in {group.name}."
    )
    blocks: list[Block] = [section(Strong(head)), section(ABOUT), section(NOTHING_SHARED)]
    if place.coach:
        blocks.append(section(await _count_line(store, group)))
    blocks.append(Actions((views.buddy_button(group, buddies=place.buddies),)))
    blocks.append(context(f"`{cmd}group buddies on` or `{cmd}group buddies off` work too."))
    return Reply(summary=head, blocks=tuple(blocks))


async def _coach_count(store: GroupStore, group: Group, cmd: str) -> Reply:
    line = await _count_line(store, group)
    return Reply(
        summary=line,
        blocks=(
            section(Strong(line)),
            section(ABOUT),
            context(
                "Members opt in themselves — from their Home, `group` in their chat with me, "
                f"or `{cmd}group buddies on`."
            ),
        ),
    )


async def _count_line(store: GroupStore, group: Group) -> str:
    """How many opted in, as a coach sees it (never who)."""
    opted, members = await store.buddy_count(group.id)
    if members == 0:
        return f"{group.name} has no members yet."
    of = "member" if members == 1 else "members"
    if opted == 0:
        return f"None of the {members} {of} of {group.name} has opted in to practice buddies."
    verb = "has" if opted == 1 else "have"
    return f"{opted} of the {members} {of} of {group.name} {verb} opted in to practice buddies."


def _choose(places: Sequence[Place], on: bool | None) -> Reply:
    suffix = "" if on is None else (":on" if on else ":off")
    buttons = tuple(
        Button(p.group.name[:60], Act.GROUP_BUDDIES, f"{p.group.id}{suffix}") for p in places
    )
    rows = [Actions(buttons[i : i + 5]) for i in range(0, len(buttons), 5)]
    return Reply(summary="Which group?", blocks=(section("Which group do you mean?"), *rows))
