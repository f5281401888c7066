"""Everything the group features say, in plain words. Names typed by people (a group's
name) are plain text here; adapters escape them for their platform."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.actions import Act
from bot.core.groups.levels import DEFAULT_LEVEL, SharingLevel
from bot.core.groups.model import Group, Place
from bot.core.replies import (
    Actions,
    Block,
    Button,
    Context,
    Divider,
    Header,
    Reply,
    Strong,
    context,
    message,
    section,
)

#: A level's short name, as shown on its button and in confirmations.
LABELS: dict[SharingLevel, str] = {
    SharingLevel.MEMBERSHIP: "Membership only",
    SharingLevel.NUMBERS: "My weekly numbers",
    SharingLevel.NAMES: "Numbers and names",
    SharingLevel.OUTCOMES: "Numbers, names and outcomes",
}

#: What the coaches see at each level, in the member's own voice.
COACH_SEES: dict[SharingLevel, str] = {
    SharingLevel.MEMBERSHIP: "that I'm in the group, and nothing else",
    SharingLevel.NUMBERS: (
        "my weekly numbers: how many people I reached out to, how many replied, how many "
        "conversations I had, and whether I met my weekly goal"
    ),
    SharingLevel.NAMES: "my weekly numbers, and also the names of the people I reached out to",
    SharingLevel.OUTCOMES: (
        "my weekly numbers, the names of the people I reached out to, and also what came of it "
        "(introductions, referrals, interviews, offers) and my next steps"
    ),
}

NEVER_SHARED = (
    "Whatever you choose, your contacts' details, your notes and what you write about your "
    "conversations are never shared — not with the coach, not with the group."
)
MEMBERS_SEE = (
    "The other members see only the group's totals for the week and the wins you choose to "
    "share yourself (one click, never automatic)."
)
NOT_VALID = "That button isn't valid here any more. Type `{cmd}group` to see your groups."
NOT_A_CHANNEL = (
    "Groups live in channels: run `{cmd}group {verb}` in the channel of the group "
    "(in Teams, mention @Reconnect there)."
)


def level_line(level: SharingLevel) -> str:
    """``"2. My weekly numbers"`` (the number people can type)."""
    return f"{level.rank + 1}. {LABELS[level]}"


def consent_reply(group: Group, current: SharingLevel | None, cmd: str) -> Reply:
    """The consent step: what the coaches and the members will see, and the four levels as
    buttons (the current one, or the default, marked)."""
    joining = current is None
    title = f"Join {group.name}" if joining else f"What you share with {group.name}"
    blocks: list[Block] = [
        Header(title[:150]),
        section(
            "Choose what you share. The coaches of this group will see:"
            if joining
            else "You can change this at any time; it applies at once, to past weeks too. "
            "The coaches of this group will see:"
        ),
    ]
    for level in SharingLevel:
        marks = []
        if level is DEFAULT_LEVEL:
            marks.append("suggested")
        if level is current:
            marks.append("your choice now")
        note = f" ({', '.join(marks)})" if marks else ""
        blocks.append(section(Strong(level_line(level) + note), f" — {COACH_SEES[level]}."))
    blocks.append(section(NEVER_SHARED, " ", MEMBERS_SEE))
    buttons = tuple(
        Button(
            LABELS[level],
            Act.GROUP_LEVEL,
            f"{group.id}:{level.value}",
            style="primary" if level is (current or DEFAULT_LEVEL) else None,
        )
        for level in SharingLevel
    )
    blocks.append(Actions(buttons))
    blocks.append(
        context(
            f"You can change this or leave at any time: `{cmd}group privacy`, "
            f"`{cmd}group leave`, or from your Home."
        )
    )
    summary = f"{title}: choose what you share."
    return Reply(summary=summary, blocks=tuple(blocks))


def joined_reply(group: Group, level: SharingLevel, cmd: str, *, new: bool) -> Reply:
    """Confirmation of joining (or of a new level), saying what that level shares."""
    head = f"You're in {group.name}." if new else f"Done — new sharing level for {group.name}."
    return Reply(
        summary=f"{head} You share: {LABELS[level].lower()}.",
        blocks=(
            section(Strong(head), f" You share: {LABELS[level].lower()}."),
            section(f"The coaches see {COACH_SEES[level]}. {NEVER_SHARED}"),
            Actions(
                (
                    Button("Change what I share", Act.GROUP_PRIVACY, str(group.id)),
                    Button("Leave the group", Act.GROUP_LEAVE, str(group.id), style="danger"),
                )
            ),
            context(f"`{cmd}group privacy` or `{cmd}group leave` work at any time, too."),
        ),
    )


def public_done_reply(group: Group, *, joined: bool) -> Reply:
    """A join or a level change answered where everyone reads along (a Teams channel): it
    says nothing of the level chosen."""
    head = (
        f"You're in {group.name}." if joined else f"Done — your choice for {group.name} is saved."
    )
    return Reply(
        summary=head,
        blocks=(
            section(Strong(head), " ", PRIVATE_HINT),
            context(NEVER_SHARED),
        ),
    )


PRIVATE_HINT = (
    "What you share stays between you and the coaches: to see or change it, type `group` in "
    "your personal chat with Reconnect."
)


def left_reply(group: Group, cmd: str) -> Reply:
    """Confirmation of leaving."""
    return message(
        f"You left {group.name}. From now on the coaches and the group see nothing of yours, "
        f"including past weeks. To come back, type `{cmd}group join` in its channel."
    )


def not_member_reply(group: Group, cmd: str) -> Reply:
    """Privacy or leave for a group the person is not in."""
    return message(
        f"You're not a member of {group.name}. To join, type `{cmd}group join` in its channel."
    )


def no_group_here_reply(cmd: str) -> Reply:
    """A group command in a channel that is not a group."""
    return message(
        f"This channel isn't a group yet. A coach can make it one with `{cmd}group create <name>`."
    )


def created_reply(group: Group, cmd: str, *, new: bool) -> Reply:
    """What the coach who ran ``group create`` reads (the welcome goes to the channel)."""
    head = (
        f"{group.name} is set up, and you're its coach."
        if new
        else f"This channel already is the group {group.name}; I've posted the welcome again."
    )
    return Reply(
        summary=head,
        blocks=(
            section(Strong(head)),
            section(
                "I've posted a welcome with a Join button in the channel. Each member chooses "
                "what you will see; nobody shares contacts or notes. Add co-coaches with "
                f"`{cmd}group coach @someone`."
            ),
        ),
    )


def welcome_post(group: Group, cmd: str) -> Reply:
    """The welcome posted in the channel for everyone, with the Join button."""
    return Reply(
        summary=f"Welcome to {group.name} — join to share your progress with the group.",
        blocks=(
            Header(f"Welcome to {group.name}"[:150]),
            section(
                "This channel is a Reconnect group: each week a theme on Monday and a recap of "
                "the group's totals on Friday. Joining takes one click, and you choose what "
                "the coaches see — from only that you're in the group, up to your weekly "
                "numbers, names and outcomes."
            ),
            section(NEVER_SHARED),
            _join_actions(group),
            context(f"Or type `{cmd}group join` here. Leaving takes one click, too."),
        ),
    )


def coach_added_reply(group: Group, *, added: bool) -> Reply:
    """Confirmation of ``group coach``."""
    if added:
        return message(f"Done — they're now a coach of {group.name}.")
    return message(f"They're already a coach of {group.name}.")


ONLY_COACHES = "Only a coach of this group can add coaches."
WHO_COACH = "Whom should I add as a coach? Mention them: `{cmd}group coach @someone`."
ONE_COACH = "Please add one coach at a time: `{cmd}group coach @someone`."
NEW_COACH = (
    "They haven't used Reconnect yet, so I can't add them. Ask them to open Reconnect once — "
    "its Home tab in Slack, or a chat with it in Teams — then add them again."
)


def help_reply(cmd: str) -> Reply:
    """What the group commands do."""
    lines = (
        f"`{cmd}group create [name]` — make this channel a group; you become its coach",
        f"`{cmd}group join` — join this channel's group and choose what you share",
        f"`{cmd}group privacy [1-4]` — see or change what you share",
        f"`{cmd}group leave` — leave the group, at once",
        f"`{cmd}group coach @someone` — add a co-coach (coaches only)",
        f"`{cmd}group settings` — the weekly rhythm: time zone, theme and recap days, "
        "shout-outs, quiet days (coaches change them)",
        f"`{cmd}group pause until 5 Jan` / `{cmd}group resume` — pause the weekly posts "
        "(coaches only)",
        f"`{cmd}group buddies on` / `off` — a weekly practice buddy from the group, or not",
    )
    return Reply(
        summary="Group commands",
        blocks=(Header("Groups"), *(section(line) for line in lines), context(NEVER_SHARED)),
    )


def channel_reply(group: Group, place: Place | None, cmd: str, *, public: bool = False) -> Reply:
    """Bare ``group`` in a channel: what group this is, the caller's level, what to do.
    ``public`` (everyone reads the answer): the caller's own place is not shown."""
    blocks: list[Block] = [Header(f"This channel is the group {group.name}"[:150])]
    if public:
        blocks.append(section(PRIVATE_HINT))
        blocks.append(_join_actions(group))
    else:
        if place is not None and place.coach:
            blocks.append(section("You're a coach of this group."))
        if place is not None and place.level is not None:
            blocks.append(
                section(
                    "You're a member. You share: ",
                    Strong(LABELS[place.level].lower()),
                    f" — the coaches see {COACH_SEES[place.level]}.",
                )
            )
            blocks.append(_member_actions(group, buddies=place.buddies))
        else:
            blocks.append(section("You're not a member."))
            blocks.append(_join_actions(group))
    if group.broken:
        blocks.append(
            context("I can't post in this channel any more (it was archived or I was removed).")
        )
    blocks.extend(help_reply(cmd).blocks[1:])
    return Reply(summary=f"This channel is the group {group.name}.", blocks=tuple(blocks))


def places_reply(places: Sequence[Place], cmd: str) -> Reply:
    """Bare ``group`` outside a channel: every group the caller is in or coaches."""
    if not places:
        return Reply(
            summary="You're not in any group.",
            blocks=(
                section(
                    "You're not in any group. If your coach runs one, type "
                    f"`{cmd}group join` in its channel (or press Join on its welcome post)."
                ),
                *help_reply(cmd).blocks[1:],
            ),
        )
    blocks = list(home_blocks(places))
    blocks.append(context(f"`{cmd}group help` lists the group commands."))
    return Reply(summary="Your groups", blocks=tuple(blocks))


def choose_group_reply(places: Sequence[Place], verb: str) -> Reply:
    """``privacy``/``leave`` outside a channel with several groups: pick one."""
    act = Act.GROUP_PRIVACY if verb == "privacy" else Act.GROUP_LEAVE
    buttons = tuple(
        Button(p.group.name[:60], act, str(p.group.id)) for p in places if p.level is not None
    )
    rows = [Actions(buttons[i : i + 5]) for i in range(0, len(buttons), 5)]
    return Reply(
        summary="Which group?",
        blocks=(section("Which group do you mean?"), *rows),
    )


def home_blocks(places: Sequence[Place]) -> tuple[Block, ...]:
    """The "Your groups" section of the Home: each group with the level chosen and buttons to
    change it or leave; groups the person coaches say so."""
    if not places:
        return ()
    blocks: list[Block] = [Divider(), Header("Your groups")]
    for place in places:
        parts: list[str | Strong] = [Strong(place.group.name)]
        if place.level is not None:
            parts.append(f" — you share: {LABELS[place.level].lower()}.")
            if place.buddies:
                parts.append(" Practice buddies: on.")
        if place.coach:
            parts.append(" You're a coach of this group.")
        blocks.append(section(*parts))
        if place.level is not None:
            blocks.append(_member_actions(place.group, buddies=place.buddies))
    return tuple(blocks)


def _join_actions(group: Group) -> Actions:
    return Actions((Button("Join", Act.GROUP_JOIN, str(group.id), style="primary"),))


def _member_actions(group: Group, *, buddies: bool) -> Actions:
    return Actions(
        (
            Button("Change what I share", Act.GROUP_PRIVACY, str(group.id)),
            Button("Leave the group", Act.GROUP_LEAVE, str(group.id), style="danger"),
            buddy_button(group, buddies=buddies),
        )
    )


def buddy_button(group: Group, *, buddies: bool) -> Button:
    """Opt in to weekly practice buddies, or (already in) out."""
    if buddies:
        return Button("Stop practice buddies", Act.GROUP_BUDDIES, f"{group.id}:off")
    return Button("Pair me with a practice buddy", Act.GROUP_BUDDIES, f"{group.id}:on")


def with_group_section(home: Reply, blocks: Sequence[Block]) -> Reply:
    """``home`` with the "Your groups" ``blocks`` inserted before its closing hint."""
    if not blocks:
        return home
    body = list(home.blocks)
    at = len(body) - 1 if body and isinstance(body[-1], Context) else len(body)
    return Reply(summary=home.summary, blocks=(*body[:at], *blocks, *body[at:]), files=home.files)
