"""What /api/messages refuses before the SDK (or the database) sees an activity.

Teams and the Bot Connector send well-formed activities; anything else — a token without a key
id, an activity without a usable ``serviceUrl`` or naming someone else's, ids longer than our
columns, card submissions with objects where text belongs — is refused here, with one log line,
instead of becoming a 500 or a database error further in.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from microsoft_agents.activity import Activity

from bot.core.text import UNSTORABLE, storable

#: Column widths in storage.models (users.external_id / workspace_id, conversation_refs).
MAX_USER_ID = 255
MAX_TENANT_ID = 64
MAX_CONVERSATION_ID = 255

#: Microsoft's Bot Connector service hosts (https only): the public Teams service
#: (``https://smba.trafficmanager.net/teams/``, ``…/amer/``, ``…/emea/`` …), the Bot Framework
#: channels (``https://*.botframework.com``) and the US government clouds (GCC, GCC High, DoD).
MICROSOFT_HOSTS = frozenset(
    {
        "smba.trafficmanager.net",
        "smba.infra.gcc.teams.microsoft.com",
        "smba.infra.gov.teams.microsoft.us",
        "smba.infra.dod.teams.microsoft.us",
    }
)
MICROSOFT_SUFFIXES = (".botframework.com",)
_LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an activity is refused, and the HTTP status that says so."""

    status: int
    reason: str


def origin(url: str) -> str | None:
    """``scheme://host[:port]`` (lower case) of an http(s) URL, or ``None`` if it isn't one."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def service_url_allowed(url: str, allowed_origins: Iterable[str], *, anonymous: bool) -> bool:
    """``url`` is a Microsoft service host, a configured origin or (anonymous mode) loopback."""
    found = origin(url)
    if found is None:
        return False
    if found in {origin(o) for o in allowed_origins}:
        return True
    host = (urlsplit(url.strip()).hostname or "").lower()
    microsoft = host in MICROSOFT_HOSTS or host.endswith(MICROSOFT_SUFFIXES)
    if microsoft and found == f"https://{host}":  # https on its default port only
        return True
    return anonymous and _loopback(host)


def _loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse(
    activity: Activity, allowed_origins: Iterable[str], *, anonymous: bool
) -> Refusal | None:
    """Why ``activity`` must not be processed, or ``None`` when it may be."""
    service_url = activity.service_url
    if not isinstance(service_url, str) or origin(service_url) is None:
        return Refusal(400, "no_service_url")
    if not service_url_allowed(service_url, allowed_origins, anonymous=anonymous):
        return Refusal(403, "service_url_not_allowed")
    conversation = activity.conversation
    conversation_id = getattr(conversation, "id", None)
    if not isinstance(conversation_id, str) or not conversation_id:
        return Refusal(400, "no_conversation")
    if len(conversation_id) > MAX_CONVERSATION_ID:
        return Refusal(400, "conversation_id_too_long")
    sender = activity.from_property
    user_id = getattr(sender, "aad_object_id", None) or getattr(sender, "id", None)
    if isinstance(user_id, str) and len(user_id) > MAX_USER_ID:
        return Refusal(400, "user_id_too_long")
    tenants: list[Any] = [getattr(conversation, "tenant_id", None)]
    if isinstance(activity.channel_data, Mapping):
        tenant = activity.channel_data.get("tenant")
        tenants.append(tenant.get("id") if isinstance(tenant, Mapping) else None)
    if any(t is not None and (not isinstance(t, str) or len(t) > MAX_TENANT_ID) for t in tenants):
        return Refusal(400, "tenant_id_too_long")
    return None


def unstorable(body: Any, *, cleaned: frozenset[str] = frozenset({"text", "value"})) -> bool:
    """A NUL byte or lone surrogate in any string of the activity, outside the fields the
    handlers clean (``text``, ``value``): no column or JSON encoder can take it."""
    if isinstance(body, str):
        return UNSTORABLE.search(body) is not None
    if isinstance(body, Mapping):
        return any(
            unstorable(key, cleaned=frozenset()) or (key not in cleaned and unstorable(item))
            for key, item in body.items()
        )
    if isinstance(body, list):
        return any(unstorable(item) for item in body)
    return False


#: ``text`` without NUL bytes and lone surrogates (which no database column can store).
clean_text = storable


def clean_submission(value: Mapping[str, Any]) -> dict[str, str | None] | None:
    """An Action.Submit payload with every field text (or absent), or ``None`` if any field is
    something else (an object, an array, a number, a boolean): our cards only submit strings."""
    cleaned: dict[str, str | None] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            return None
        if item is None:
            cleaned[clean_text(key)] = None
        elif isinstance(item, str):
            cleaned[clean_text(key)] = clean_text(item)
        else:
            return None
    return cleaned
