"""Taking a removed contact out of stored morning messages.

A stored nudge (``nudges.content``) keeps, for each card, the contact's id and the one-line
reason it was shown, which can quote the contact's name and notes. When the contact is removed,
nothing of them may stay behind: every record naming their id goes, wherever it sits in the
content (cards, follow-ups, and whatever later features add under a ``contact_id`` key). A
button on the old message for that contact then answers that the message is no longer active.
"""

from __future__ import annotations

import json
from typing import Any

#: The key every record about one contact carries in stored nudge content.
KEY = "contact_id"
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def mentions(content: str, contact_id: int) -> bool:
    """Whether ``content`` may hold a record about ``contact_id`` (a cheap text check)."""
    return f'"{KEY}":{contact_id}' in content.replace(" ", "")


def without_contact(content: str, contact_id: int) -> str | None:
    """``content`` with every record about ``contact_id`` taken out; ``None`` when there was
    none. Content that is not JSON (it never should be) is blanked rather than kept."""
    try:
        data = json.loads(content)
    except ValueError:
        return "" if mentions(content, contact_id) else None
    cleaned, changed = _drop(data, contact_id)
    return _ENCODER.encode(cleaned) if changed else None


def _drop(node: Any, contact_id: int) -> tuple[Any, bool]:
    if isinstance(node, list):
        kept, changed = [], False
        for item in node:
            if isinstance(item, dict) and _names(item, contact_id):
                changed = True
                continue
            cleaned, inner = _drop(item, contact_id)
            kept.append(cleaned)
            changed = changed or inner
        return kept, changed
    if isinstance(node, dict):
        out, changed = {}, False
        for key, value in node.items():
            if isinstance(value, dict) and _names(value, contact_id):
                changed = True
                continue
            cleaned, inner = _drop(value, contact_id)
            out[key] = cleaned
            changed = changed or inner
        return out, changed
    return node, False


def _names(record: dict[str, Any], contact_id: int) -> bool:
    value = record.get(KEY)
    return type(value) is int and value == contact_id
