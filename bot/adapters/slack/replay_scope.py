"""Which signed Slack requests need replay protection: those that may change data."""

from __future__ import annotations

from typing import Any

from bot.adapters.slack.render import parse_action_id
from bot.core.service import action_may_write, command_may_write


def may_write(payload: dict[str, Any]) -> bool:
    """Whether the request may change data, so that a replay of it must be refused.

    A request that only reads (``due``, ``list``, a button that opens a form) is answered
    again if replayed, with nothing stored twice; skipping the replay table for it saves a
    database statement (and, on PostgreSQL, a commit) on most requests.
    """
    if "command" in payload:
        return command_may_write(str(payload.get("text") or ""))
    if payload.get("type") == "block_actions":
        actions = payload.get("actions") or []
        return any(
            action_may_write(parse_action_id(str(action.get("action_id", ""))) or "")
            for action in actions
        )
    return True
