"""What arrives at ``POST /slack/events``, checked before Bolt sees it.

Bolt parses a body (and trusts its shape) before it checks the signature, so a body it cannot
parse used to end in a 500 and a traceback. Here a request is read as bytes, its signature is
checked over those bytes, and its body must decode as UTF-8 (whatever charset it claims) and
parse into the shapes Bolt reads. Also here: :func:`clean_text`, which strips what a database
refuses (NUL, lone surrogates) from text before it reaches the core.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.core.text import storable

#: Slack's window for a request's timestamp (and so for a replayed signature), in seconds.
SIGNATURE_WINDOW_SECONDS = 5 * 60

#: Events about the whole installation, which name no user (bot.adapters.slack.uninstall).
USERLESS_EVENTS = frozenset(
    {
        "app_uninstalled",
        "tokens_revoked",
        # A group's channel is gone, or the bot left it (bot.adapters.slack.groups).
        "channel_archive",
        "group_archive",
        "channel_deleted",
        "group_deleted",
        "channel_left",
        "group_left",
    }
)

#: Keys of a payload that Bolt reads as objects when present.
_OBJECTS = ("team", "enterprise", "channel", "container", "view", "event", "message", "user")
#: ... of which these may also be plain ids (``user`` in a slash command is ``user_id``, but
#: some payloads carry ``"user": "U…"``).
_OBJECT_OR_STRING = frozenset({"user", "channel", "team", "enterprise"})

#: The hosts of Slack's own response URLs (commercial and GovSlack).
SLACK_HOOK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})


class Rejected(Exception):
    """A request answered 400 (``status``) or 401 without reaching Bolt; ``reason`` is logged."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Signed:
    """A verified request: its decoded body, parsed payload and replay key."""

    body: str
    payload: dict[str, Any]
    timestamp: int
    signature: str


def verify(
    raw: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    now: Callable[[], float] = time.time,
) -> tuple[int, str]:
    """``(timestamp, signature)`` of a request Slack signed; raises :class:`Rejected` (401)."""
    stamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not secret or not stamp or not signature:
        raise Rejected(401, "unsigned")
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        raise Rejected(401, "bad_timestamp")
    timestamp = int(stamp)
    if abs(now() - timestamp) > SIGNATURE_WINDOW_SECONDS:
        raise Rejected(401, "stale_timestamp")
    base = b"v0:" + stamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise Rejected(401, "bad_signature")
    return timestamp, signature


def parse(raw: bytes, content_type: str) -> tuple[str, dict[str, Any]]:
    """``(body text, payload)`` as Bolt will read them; raises :class:`Rejected` (400).

    The body is decoded as UTF-8 whatever charset the request claims (Slack sends UTF-8).
    """
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "not_utf8") from None
    try:
        payload = _parse_like_bolt(body, content_type.split(";")[0].strip().lower())
    except ValueError:
        raise Rejected(400, "unparseable") from None
    if not isinstance(payload, dict):
        raise Rejected(400, "not_an_object")
    for key in _OBJECTS:
        value = payload.get(key)
        if value is None or isinstance(value, dict):
            continue
        if key in _OBJECT_OR_STRING and isinstance(value, str):
            continue
        raise Rejected(400, f"bad_{key}")
    authorizations = payload.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and all(isinstance(a, dict) for a in authorizations)
    ):
        raise Rejected(400, "bad_authorizations")
    return body, payload


def unusable(payload: Mapping[str, Any]) -> str | None:
    """Why a signed payload (parsed by :func:`parse`) cannot be acted on, or None.

    Such a request is acknowledged and ignored: Slack sent it (or someone with our secret did),
    so an error status would only make Slack retry it.
    """
    kind = payload.get("type")
    if "command" in payload:
        return None if _nonempty(payload.get("user_id")) else "no_user"
    if kind == "event_callback":
        event = payload.get("event") or {}
        if event.get("type") in USERLESS_EVENTS:
            return None if _nonempty(payload.get("team_id")) else "no_team"
        # file_shared names its user ``user_id``.
        user = event.get("user") or event.get("user_id")
        return None if _nonempty(user) else "no_user"
    if kind not in ("block_actions", "view_submission", "view_closed"):
        return None
    user = payload.get("user")
    if not isinstance(user, dict) or not _nonempty(user.get("id")):
        return "no_user"
    if kind == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions:
            return "no_actions"
        if not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions):
            return "bad_actions"
        return None
    view = payload.get("view")
    if not isinstance(view, dict) or not isinstance(view.get("callback_id"), str):
        return "bad_view"
    state = view.get("state")
    if state is not None and not (
        isinstance(state, dict) and isinstance(state.get("values", {}), dict)
    ):
        return "bad_view_state"
    if not isinstance(view.get("private_metadata") or "", str):
        return "bad_private_metadata"
    return None


def _nonempty(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _parse_like_bolt(body: str, content_type: str) -> Any:
    """``slack_bolt.request.internals.parse_body``, without trusting the result's type."""
    if not body:
        return {}
    if content_type == "application/json" or body.startswith("{"):
        return json.loads(body)
    params = form_fields(body)
    if "payload" in body:
        payload = params.get("payload")
        return {} if payload is None else json.loads(payload)
    return params


#: A ``%`` that does not start an escape (two hex digits).
_NOT_AN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def form_fields(body: str) -> dict[str, str]:
    """``dict(parse_qsl(body, keep_blank_values=True))``, decoding the ``%XX`` escapes in C.

    A click's payload is a ~1 KB JSON document sent form-encoded, a couple of hundred escapes,
    which ``urllib.parse.unquote`` decodes one by one in Python (~0.3 M instructions a
    request). Quoted-printable decoding (``binascii.a2b_qp``) is the same decoding with ``=``
    for ``%``, so each field's ``=`` becomes ``=3D`` and its ``%`` becomes ``=``. Only for what
    that maps exactly: ASCII bodies (as Slack sends) where every ``%`` starts an escape;
    anything else goes to ``parse_qsl`` itself.
    """
    if not body.isascii() or _NOT_AN_ESCAPE.search(body) is not None:
        return dict(parse_qsl(body, keep_blank_values=True))
    fields: dict[str, str] = {}
    for pair in body.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            fields[_unquote(name)] = _unquote(value)
    return fields


def _unquote(text: str) -> str:
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    quoted = text.replace("=", "=3D").replace("%", "=").encode("ascii")
    return binascii.a2b_qp(quoted).decode("utf-8", "replace")


#: ``value`` without NUL characters and lone surrogates (which no database stores).
clean_text = storable


def clean_value(value: str) -> str:
    """A button value, cleaned; a value holding JSON (a pick's ``{"op": …, "note": …}``) is
    cleaned inside too, where an escaped ``\\ud800`` or ``\\u0000`` hides from
    :func:`clean_text`."""
    value = clean_text(value)
    if not value.startswith("{") or "\\u" not in value:
        return value
    try:
        data = json.loads(value)
    except ValueError:
        return value
    return json.dumps(clean(data), ensure_ascii=False)


def clean(value: Any) -> Any:
    """:func:`clean_text` applied to every string in a JSON-like value."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def response_url_allowed(url: str, *, api_url: str | None) -> bool:
    """Whether the bot may POST to ``url``, a response URL read back from a payload: only
    Slack's hooks hosts over https, or the origin of the configured Slack API (a test fake)."""
    origin = _origin(url)
    if origin is None:
        return False
    if origin[0] == "https" and origin[1] in SLACK_HOOK_HOSTS and origin[2] == 443:
        return True
    return api_url is not None and origin == _origin(api_url)


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)
