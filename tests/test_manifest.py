"""manifest.yml: its comments say no more and no less than what it asks Slack for."""

import re
from pathlib import Path

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"


def bot_scopes(text: str) -> set[str]:
    """The bot scopes requested (the ``- scope`` items under ``oauth_config.scopes.bot``)."""
    block = text.split("\n    bot:\n", 1)[1]
    scopes = set()
    for line in block.splitlines():
        if line.strip() and not line.startswith("      "):
            break
        item = re.fullmatch(r"\s*- ([a-z.:_]+)", line)
        if item:
            scopes.add(item.group(1))
    return scopes


def test_no_comment_denies_a_scope_the_manifest_requests() -> None:
    text = MANIFEST.read_text()
    requested = bot_scopes(text)
    assert {
        "commands",
        "chat:write",
        "users:read",
        "im:write",
        "im:history",
        "files:read",
        "files:write",
        "channels:read",  # outplacement groups: a group's channel archived, deleted, left
        "groups:read",  # the same for private channels
        "channels:history",  # a group's weekly post in doubt looked for in its channel
        "groups:history",  # the same in a private channel
        "mpim:write",  # practice buddies: a group DM with each pair
        "mpim:history",  # and an intro in doubt looked for there
    } == requested
    comments = " ".join(line.split("#", 1)[1] for line in text.splitlines() if "#" in line)
    denied = set(re.findall(r"\bno ([a-z]+:[a-z]+)(?: scope)?\b", comments))
    assert not denied & requested, f"comments deny requested scopes: {denied & requested}"


def test_uninstall_events_are_subscribed() -> None:
    events = MANIFEST.read_text().split("bot_events:", 1)[1].split("interactivity:", 1)[0]
    subscribed = set(re.findall(r"^\s*- ([a-z_]+)$", events, re.MULTILINE))
    assert {"app_home_opened", "app_uninstalled", "tokens_revoked"} <= subscribed


def test_channel_events_the_groups_listen_to_are_subscribed() -> None:
    from bot.adapters.slack.groups import GONE_EVENTS

    events = MANIFEST.read_text().split("bot_events:", 1)[1].split("interactivity:", 1)[0]
    subscribed = set(re.findall(r"^\s*- ([a-z_.]+)$", events, re.MULTILINE))
    assert {*GONE_EVENTS, "member_left_channel"} <= subscribed


def test_practice_buddies_can_open_and_check_their_group_dms() -> None:
    # conversations.open with several users (an mpim), and conversations.history there to
    # find an intro a crash left in doubt (jobs/buddy_runner.py).
    assert {"mpim:write", "mpim:history"} <= bot_scopes(MANIFEST.read_text())
