"""Building signed Slack requests exactly as Slack sends them: form-encoded or JSON, with
``X-Slack-Signature`` and ``X-Slack-Request-Timestamp``."""

from __future__ import annotations

import itertools
import json
import os
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "test-signing-secret"
TEAM = "T1"

_triggers = itertools.count(1)


def new_trigger_id() -> str:
    """A trigger id no other request carries, as Slack's are: two requests sent in the same
    second are then never byte-identical, so never taken for a replay of each other."""
    return f"T.{os.getpid()}.{next(_triggers)}"


def signed_headers(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None, content_type: str
) -> dict[str, str]:
    """Headers Slack would send with ``body``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
        "Content-Type": content_type,
    }


def slash_command(
    text: str,
    *,
    user: str = "U1",
    team: str = TEAM,
    response_url: str = "",
    trigger_id: str | None = None,
) -> str:
    """The form-encoded body of ``/reconnect <text>``."""
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": team,
            "team_domain": "test",
            "channel_id": "C1",
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/reconnect",
            "text": text,
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or new_trigger_id(),
        }
    )


def block_action(
    action_id: str, value: str, *, user: str = "U1", team: str = TEAM, response_url: str = "",
    container: str = "message", ephemeral: bool = True,
) -> str:  # fmt: skip
    """The form-encoded body of a button click (``payload=<json>``): on the Home tab
    (``container="view"``), or on a message in C1 — ephemeral, or one everyone sees."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "trigger_id": new_trigger_id(),
        "team": {"id": team, "domain": "test"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b1",
                "text": {"type": "plain_text", "text": "Button"},
                "value": value,
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    if container == "view":
        payload["container"] = {"type": "view", "view_id": "V1"}
        payload["view"] = {"id": "V1", "type": "home", "callback_id": "", "blocks": []}
    else:
        payload["container"] = {
            "type": "message",
            "message_ts": "1.1",
            "channel_id": "C1",
            "is_ephemeral": ephemeral,
        }
        payload["channel"] = {"id": "C1", "name": "general"}
    return urlencode({"payload": json.dumps(payload)})


def view_submission(
    callback_id: str, values: dict[str, Any], *, private_metadata: str = "", user: str = "U1",
    team: str = TEAM,
) -> str:  # fmt: skip
    """The body of a modal submission. ``values`` maps block ids to element state, or to plain
    strings (taken as ``plain_text_input`` values)."""
    state = {
        block_id: {
            "value": value
            if isinstance(value, dict)
            else {"type": "plain_text_input", "value": value}
        }
        for block_id, value in values.items()
    }
    payload = {
        "type": "view_submission",
        "team": {"id": team, "domain": "test"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "trigger_id": new_trigger_id(),
        "view": {
            "id": "V9",
            "team_id": team,
            "type": "modal",
            "blocks": [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": state},
            "hash": "h",
            "title": {"type": "plain_text", "text": "Form"},
        },
    }
    return urlencode({"payload": json.dumps(payload)})


def select(value: str) -> dict[str, Any]:
    """A ``static_select`` state with ``value`` chosen."""
    return {"type": "static_select", "selected_option": {"value": value, "text": {}}}


def date_picked(value: str | None) -> dict[str, Any]:
    """A ``datepicker`` state."""
    return {"type": "datepicker", "selected_date": value}


def app_home_opened(*, user: str = "U1", team: str = TEAM, tab: str = "home") -> str:
    """The JSON body of an ``app_home_opened`` event callback."""
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": team,
            "api_app_id": "A1",
            "event": {
                "type": "app_home_opened",
                "user": user,
                "channel": "D1",
                "tab": tab,
                "event_ts": f"{time.time():.6f}",
            },
            "type": "event_callback",
            "event_id": f"Ev{int(time.time() * 1000)}",
            "event_time": int(time.time()),
            "authorizations": [
                {"enterprise_id": None, "team_id": team, "user_id": "UBOT", "is_bot": True},
            ],
        }
    )


def _event_callback(event: dict[str, Any], team: str) -> str:
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": team,
            "api_app_id": "A1",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{time.time_ns()}",
            "event_time": int(time.time()),
            "authorizations": [
                {"enterprise_id": None, "team_id": team, "user_id": "UBOT", "is_bot": True},
            ],
        }
    )


def dm_file_share(file_id: str, *, user: str = "U1", team: str = TEAM, channel: str = "DU1") -> str:
    """A ``message.im`` event: ``user`` uploaded a file in the app's DM (subtype file_share)."""
    return _event_callback(
        {
            "type": "message",
            "subtype": "file_share",
            "channel": channel,
            "channel_type": "im",
            "user": user,
            "text": "",
            "files": [{"id": file_id, "name": "Connections.csv", "mode": "hosted"}],
            "ts": f"{time.time():.6f}",
            "event_ts": f"{time.time():.6f}",
        },
        team,
    )


def file_shared(file_id: str, *, user: str = "U1", team: str = TEAM, channel: str = "DU1") -> str:
    """A ``file_shared`` event: the same upload, as Slack's other event."""
    return _event_callback(
        {
            "type": "file_shared",
            "channel_id": channel,
            "file_id": file_id,
            "user_id": user,
            "file": {"id": file_id},
            "event_ts": f"{time.time():.6f}",
        },
        team,
    )


def dm_message(text: str, *, user: str = "U1", team: str = TEAM, channel: str = "DU1") -> str:
    """A ``message.im`` event: ``user`` typed ``text`` in the app's DM."""
    return _event_callback(
        {
            "type": "message",
            "channel": channel,
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": f"{time.time():.6f}",
            "event_ts": f"{time.time():.6f}",
        },
        team,
    )
