"""Rendering core replies and forms as Adaptive Cards, and reading submissions back."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

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

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
#: Keys our Action.Submit data carries; everything else in a submission is an input value.
RESERVED = frozenset({"rc", "action", "value", "form", "ctx"})

#: Teams renders at most this many actions in one ActionSet (or a card's ``actions``).
MAX_ACTIONS = 6
#: Teams refuses messages over about 28 KB (413), measured as sent: JSON with non-ASCII escaped
#: as ``\uXXXX``. A card gets this much of it; the rest is the activity around it.
CARD_BUDGET = 24 * 1024
TEXT_MAX = 2000  # characters of one TextBlock in a card that is too big
TITLE_MAX = 60  # characters of one choice's title in a card that is too big

JsonDict = dict[str, Any]
_MARKDOWN = re.compile(r"([\\*_`\[\]<>#~|])")


def card(reply: Reply) -> JsonDict:
    """An Adaptive Card for ``reply``."""
    body: list[JsonDict] = []
    separate = False
    for block in reply.blocks:
        if isinstance(block, Divider):
            separate = True
            continue
        for element in _elements(block):
            if separate:
                element["separator"] = True
                element["spacing"] = "Medium"
                separate = False
            body.append(element)
    return _fit(_card(body or [_text(reply.summary)]))


def form_card(
    form: Form,
    values: Mapping[str, str | None] | None = None,
    errors: Mapping[str, str] | None = None,
) -> JsonDict:
    """A form as a card with inputs; ``values`` and ``errors`` redisplay a failed submission."""
    values, errors = values or {}, errors or {}
    body: list[JsonDict] = [_text(form.title, weight="Bolder", size="Medium")]
    if form.intro:
        body.append(_text(form.intro, subtle=True))
    for field in form.fields:
        body.append(_input(field, values.get(field.id)))
        if field.id in errors:
            body.append(_text(errors[field.id], color="Attention", size="Small"))
    submit = {
        "type": "Action.Submit",
        "title": form.submit_label,
        "style": "positive",
        "data": {"rc": "form", "form": form.kind.value, "ctx": form.context},
    }
    return _fit(_card(body, actions=[submit]))


def read_submission(value: Mapping[str, Any]) -> dict[str, str | None]:
    """Input values from an Action.Submit payload (everything but our own keys)."""
    return {
        str(key): (str(item) if item is not None else None)
        for key, item in value.items()
        if key not in RESERVED and isinstance(item, str | int | float | type(None))
    }


def attachment(content: JsonDict) -> JsonDict:
    """The attachment wrapper Bot Framework expects."""
    return {"contentType": CONTENT_TYPE, "content": content}


def _card(body: list[JsonDict], actions: list[JsonDict] | None = None) -> JsonDict:
    content: JsonDict = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": body,
    }
    if actions:
        content["actions"] = actions
    return content


def _elements(block: Block) -> list[JsonDict]:
    match block:
        case Header(text=text):
            return [_text(text, weight="Bolder", size="Medium")]
        case Section(parts=parts, button=button):
            elements = [_text(_markdown(parts), markdown=False)]
            if button is not None:
                elements.append(_action_set((button,)))
            return elements
        case Context(parts=parts):
            return [_text(_markdown(parts), subtle=True, size="Small", markdown=False)]
        case Actions(buttons=buttons):
            # More buttons than Teams shows in one set: several sets, each within the limit.
            return [
                _action_set(buttons[i : i + MAX_ACTIONS])
                for i in range(0, len(buttons), MAX_ACTIONS)
            ]
    return []


def _markdown(parts: tuple[Inline, ...]) -> str:
    out = []
    for part in parts:
        if isinstance(part, Strong | Em):
            out.append(_emphasis(part.text, "**" if isinstance(part, Strong) else "_"))
        else:
            out.append(_escape(part.fallback if isinstance(part, Mention) else part))
    # Adaptive Card markdown needs a blank line for a line break inside a paragraph.
    return "".join(out).replace("\n", "\n\n")


def _emphasis(text: str, marker: str) -> str:
    """``marker``-wrapped ``text``; its leading and trailing spaces go outside the markers
    (markdown ignores ``**bold **``), so ``Strong("Label: ")`` + ``"value"`` keeps its space."""
    core = text.strip()
    if not core:
        return text
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    return f"{lead}{marker}{_escape(core)}{marker}{trail}"


def _escape(text: str) -> str:
    """User text is shown literally, never as markdown."""
    return _MARKDOWN.sub(r"\\\1", text)


def _text(
    text: str,
    *,
    weight: str | None = None,
    size: str | None = None,
    subtle: bool = False,
    color: str | None = None,
    markdown: bool = True,
) -> JsonDict:
    element: JsonDict = {
        "type": "TextBlock",
        "text": _escape(text) if markdown else text,
        "wrap": True,
    }
    if weight:
        element["weight"] = weight
    if size:
        element["size"] = size
    if subtle:
        element["isSubtle"] = True
    if color:
        element["color"] = color
    return element


def _action_set(buttons: tuple[Button, ...]) -> JsonDict:
    return {"type": "ActionSet", "actions": [_submit(b) for b in buttons]}


def _submit(button: Button) -> JsonDict:
    if button.url:
        return {"type": "Action.OpenUrl", "title": button.label, "url": button.url}
    action: JsonDict = {
        "type": "Action.Submit",
        "title": button.label,
        "data": {"rc": "action", "action": button.action, "value": button.value},
    }
    if button.style:
        action["style"] = "positive" if button.style == "primary" else "destructive"
    return action


def _input(
    field: TextField | SelectField | MultiSelectField | DateField | TimeField, value: str | None
) -> JsonDict:
    element: JsonDict
    current: str | None  # the value the input shows: the submitted one, else the initial one
    match field:
        case TextField():
            element = {
                "type": "Input.Text",
                "isMultiline": field.multiline,
                "maxLength": field.max_length,
            }
            current = value if value is not None else field.initial
            if current:
                element["value"] = current
            if field.placeholder:
                element["placeholder"] = field.placeholder
        case SelectField():
            element = {
                "type": "Input.ChoiceSet",
                "style": "compact",
                "choices": [{"title": c.label, "value": c.value} for c in field.choices],
            }
            current = value if value is not None else field.initial
            if current:
                element["value"] = current
        case MultiSelectField():
            element = {
                "type": "Input.ChoiceSet",
                "style": "expanded",
                "isMultiSelect": True,
                "choices": [{"title": c.label, "value": c.value} for c in field.choices],
            }
            current = value if value is not None else ",".join(field.initial)
            if current:
                element["value"] = current
        case DateField():
            element = {"type": "Input.Date"}
            current = (
                value
                if value is not None
                else (field.initial.isoformat() if field.initial else None)
            )
            if current:
                element["value"] = current
        case TimeField():
            element = {"type": "Input.Time"}
            current = (
                value
                if value is not None
                else (f"{field.initial:%H:%M}" if field.initial else None)
            )
            if current:
                element["value"] = current
    element["id"] = field.id
    element["label"] = field.label
    element["isRequired"] = not field.optional
    if not field.optional:
        element["errorMessage"] = f"{field.label.rstrip(' :')} is required."
    return element


def size(content: JsonDict) -> int:
    """The bytes ``content`` takes in a request body, as the SDK sends it (ASCII-escaped)."""
    return len(json.dumps(content, ensure_ascii=True))


def _fit(content: JsonDict) -> JsonDict:
    """``content`` within :data:`CARD_BUDGET`: long texts and choice titles shortened, then long
    choice lists and trailing blocks dropped, each with an "…and N more" line."""
    if size(content) <= CARD_BUDGET:
        return content
    body: list[JsonDict] = content["body"]
    for element in body:
        if element.get("type") == "TextBlock":
            element["text"] = _cut(element["text"], TEXT_MAX)
        elif element.get("type") == "Input.ChoiceSet":
            for choice in element["choices"]:
                choice["title"] = _cut(choice["title"], TITLE_MAX)
    for index, element in reversed(list(enumerate(body))):
        choices = element.get("choices") if element.get("type") == "Input.ChoiceSet" else None
        if not choices or size(content) <= CARD_BUDGET:
            continue
        note = _text("", subtle=True, size="Small")
        body.insert(index + 1, note)
        total = len(choices)
        while size(content) > CARD_BUDGET and len(choices) > 1:
            dropped = choices.pop()
            if element.get("value") == dropped["value"]:
                del element["value"]
            note["text"] = f"…and {total - len(choices)} more (type the full name instead)"
        if len(choices) == total:
            body.remove(note)
    dropped_blocks = 0
    note = _text("", subtle=True, size="Small")
    while size(content) > CARD_BUDGET and len(body) > 1:
        removable = [
            i
            for i, e in enumerate(body)
            if i > 0 and e is not note and not e["type"].startswith("Input.")
        ]
        if not removable:
            break
        body.pop(removable[-1])
        if dropped_blocks == 0:
            body.append(note)
        dropped_blocks += 1
        note["text"] = f"…and {dropped_blocks} more"
    return content


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rstrip().rstrip("\\") + "…"
