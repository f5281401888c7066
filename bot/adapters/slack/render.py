"""Rendering core replies and forms as Block Kit, and reading modal submissions back."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from bot.adapters.slack.escaping import mrkdwn_escape
from bot.adapters.slack.inbound import clean_text
from bot.core.replies import (
    Actions,
    Block,
    Button,
    Context,
    DateField,
    Divider,
    Em,
    Form,
    Header,
    Inline,
    Mention,
    MultiSelectField,
    Reply,
    Section,
    SelectField,
    Strong,
    TextField,
    TimeField,
)
from bot.core.text import shorten

ACTION_PREFIX = "rc"
FORM_PREFIX = "rc_form:"
MAX_BLOCKS = 50
MAX_MODAL_BLOCKS = 100

JsonDict = dict[str, Any]


def blocks(reply: Reply, *, limit: int = MAX_BLOCKS) -> list[JsonDict]:
    """Block Kit blocks for ``reply`` (cut to Slack's block limit)."""
    return [_block(block, index) for index, block in enumerate(reply.blocks[:limit])]


def message(reply: Reply) -> JsonDict:
    """Keyword arguments for a message: fallback text and blocks."""
    return {"text": shorten(mrkdwn_escape(reply.summary), 3000), "blocks": blocks(reply)}


def home_view(reply: Reply) -> JsonDict:
    """The App Home view."""
    return {"type": "home", "blocks": blocks(reply, limit=MAX_MODAL_BLOCKS)}


def parse_action_id(action_id: str) -> str | None:
    """The core action named by one of our action ids (``rc:<action>:<n>``)."""
    prefix, _, rest = action_id.partition(":")
    if prefix != ACTION_PREFIX:
        return None
    action, _, _ = rest.rpartition(":")
    return action or None


def modal(form: Form, *, response_url: str | None = None) -> JsonDict:
    """A modal view for ``form``. ``response_url`` is kept to reply where the user asked."""
    metadata = json.dumps({"ctx": form.context, "url": response_url or ""})
    items: list[JsonDict] = []
    if form.intro:
        items.append(_mrkdwn_section(mrkdwn_escape(form.intro)))
    items.extend(_input(field) for field in form.fields)
    return {
        "type": "modal",
        "callback_id": FORM_PREFIX + form.kind.value,
        "title": _plain(form.title, 24),
        "submit": _plain(form.submit_label, 24),
        "close": _plain("Cancel", 24),
        "private_metadata": metadata
        if len(metadata) <= 3000
        else json.dumps({"ctx": form.context}),
        "blocks": items,
    }


def read_metadata(raw: object) -> tuple[str, str | None]:
    """``(form context, response_url)`` from a modal's private_metadata, tolerating garbage."""
    if not isinstance(raw, str | None):
        return "", None
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return "", None
    if not isinstance(data, dict):
        return "", None
    context = data.get("ctx")
    url = data.get("url")
    return (
        context if isinstance(context, str) else "",
        url if isinstance(url, str) and url.startswith("http") else None,
    )


def read_values(state: Mapping[str, Any]) -> dict[str, str | None]:
    """``{field id: value}`` from ``view.state.values`` (missing or odd entries become None)."""
    values: dict[str, str | None] = {}
    blocks = state.get("values") if isinstance(state, Mapping) else None
    for block_id, actions in (blocks if isinstance(blocks, Mapping) else {}).items():
        element = actions.get("value") if isinstance(actions, Mapping) else None
        if not isinstance(element, Mapping):
            continue
        kind = element.get("type")
        value: Any
        if kind == "static_select":
            value = (element.get("selected_option") or {}).get("value")
        elif kind == "datepicker":
            value = element.get("selected_date")
        elif kind == "timepicker":
            value = element.get("selected_time")
        elif kind == "checkboxes":
            chosen = element.get("selected_options")
            value = (
                ",".join(str(o.get("value")) for o in chosen if isinstance(o, Mapping))
                if isinstance(chosen, list)
                else None
            )
        else:
            value = element.get("value")
        values[str(block_id)] = clean_text(value) if isinstance(value, str) else None
    return values


def _block(block: Block, index: int) -> JsonDict:
    match block:
        case Header(text=text):
            return {"type": "header", "text": _plain(text, 150)}
        case Section(parts=parts, button=button):
            rendered = _mrkdwn_section(_inline(parts))
            if button is not None:
                rendered["accessory"] = _button(button, index, 0)
            return rendered
        case Context(parts=parts):
            return {"type": "context", "elements": [{"type": "mrkdwn", "text": _inline(parts)}]}
        case Actions(buttons=buttons):
            return {
                "type": "actions",
                "elements": [_button(b, index, i) for i, b in enumerate(buttons[:25])],
            }
        case Divider():
            return {"type": "divider"}
    raise TypeError(f"unknown block {block!r}")


def _inline(parts: tuple[Inline, ...]) -> str:
    out: list[str] = []
    for part in parts:
        if type(part) is str:  # most parts: plain text
            out.append(mrkdwn_escape(part))
        elif isinstance(part, Strong):
            out.append(_wrap(part.text, "*"))
        elif isinstance(part, Em):
            out.append(_wrap(part.text, "_"))
        elif isinstance(part, Mention):
            out.append(_mention(part))
        else:
            out.append(mrkdwn_escape(part))
    return shorten("".join(out), 3000) or " "


_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")


def _mention(part: Mention) -> str:
    """``<@U123>`` for a Slack user id (checked, so nothing else becomes markup)."""
    if _USER_ID.match(part.user_id):
        return f"<@{part.user_id}>"
    return mrkdwn_escape(part.fallback)


def _wrap(text: str, mark: str) -> str:
    """Emphasis only works on text without edge spaces; keep those outside the marks."""
    core = text.strip()
    if not core:
        return mrkdwn_escape(text)
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    return f"{lead}{mark}{mrkdwn_escape(core)}{mark}{trail}"


def _button(button: Button, block_index: int, index: int) -> JsonDict:
    rendered: JsonDict = {
        "type": "button",
        "text": _plain(button.label, 75),
        "action_id": f"{ACTION_PREFIX}:{button.action}:{block_index}.{index}",
        "value": button.value[:2000],
    }
    if button.style:
        rendered["style"] = button.style
    if button.url:
        rendered["url"] = button.url[:3000]  # Slack's limit for a button's url
    return rendered


def _input(field: TextField | SelectField | MultiSelectField | DateField | TimeField) -> JsonDict:
    element: JsonDict
    match field:
        case TextField():
            element = {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": field.multiline,
                "max_length": min(field.max_length, 3000),
            }
            if field.initial:
                element["initial_value"] = field.initial[: field.max_length]
            if field.placeholder:
                element["placeholder"] = _plain(field.placeholder, 150)
        case SelectField():
            options = [
                {"text": _plain(choice.label, 75), "value": choice.value[:150]}
                for choice in field.choices[:100]
            ]
            element = {"type": "static_select", "action_id": "value", "options": options}
            initial = next((o for o in options if o["value"] == field.initial), None)
            if initial is not None:
                element["initial_option"] = initial
        case MultiSelectField():
            boxes = [
                {"text": _plain(choice.label, 75), "value": choice.value[:150]}
                for choice in field.choices[:10]
            ]
            element = {"type": "checkboxes", "action_id": "value", "options": boxes}
            chosen = [o for o in boxes if o["value"] in field.initial]
            if chosen:
                element["initial_options"] = chosen
        case DateField():
            element = {"type": "datepicker", "action_id": "value"}
            if field.initial is not None:
                element["initial_date"] = field.initial.isoformat()
        case TimeField():
            element = {"type": "timepicker", "action_id": "value"}
            if field.initial is not None:
                element["initial_time"] = f"{field.initial:%H:%M}"
    return {
        "type": "input",
        "block_id": field.id,
        "optional": field.optional,
        "label": _plain(field.label, 2000),
        "element": element,
    }


def _mrkdwn_section(text: str) -> JsonDict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _plain(text: str, limit: int) -> JsonDict:
    return {"type": "plain_text", "text": shorten(text, limit) or " ", "emoji": True}
