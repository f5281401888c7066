"""Rendering core replies as plain text, with numbered buttons."""

from __future__ import annotations

import textwrap

from bot.core.replies import (
    Actions,
    Button,
    Context,
    Divider,
    Em,
    Header,
    Inline,
    Mention,
    Reply,
    Section,
    Strong,
)

WIDTH = 88


def render(reply: Reply, *, bold: bool = False) -> tuple[str, list[Button]]:
    """The reply as text, and its buttons in the order they are numbered."""
    lines: list[str] = []
    buttons: list[Button] = []

    def number(button: Button) -> str:
        if button.url:  # a link: shown, not pressed
            return f"{button.label}: {button.url}"
        buttons.append(button)
        return f"[{len(buttons)}] {button.label}"

    for block in reply.blocks:
        match block:
            case Header(text=text):
                lines.extend(("", f"== {text} =="))
            case Section(parts=parts, button=button):
                text = _inline(parts, bold)
                if button is not None:
                    text += f"   {number(button)}"
                lines.extend(_wrap(text))
            case Context(parts=parts):
                lines.extend(_wrap(_inline(parts, bold), indent="   "))
            case Actions(buttons=row):
                lines.append("   " + "   ".join(number(b) for b in row))
            case Divider():
                lines.append("-" * 40)
    return "\n".join(lines).strip("\n"), buttons


def _inline(parts: tuple[Inline, ...], bold: bool) -> str:
    out = []
    for part in parts:
        if isinstance(part, Strong):
            out.append(f"\033[1m{part.text}\033[0m" if bold else part.text)
        elif isinstance(part, Em):
            out.append(f"\033[3m{part.text}\033[0m" if bold else part.text)
        elif isinstance(part, Mention):
            out.append(part.fallback)
        else:
            out.append(part)
    return "".join(out)


def _wrap(text: str, indent: str = "") -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(
            textwrap.wrap(paragraph, WIDTH, initial_indent=indent, subsequent_indent=indent) or [""]
        )
    return lines
