"""Reading Slack-escaped command text and writing mrkdwn."""

import pytest

from bot.adapters.slack.escaping import mrkdwn_escape, read_command_text


async def namer(user_id: str) -> str | None:
    return {"U1": "Dana Whitfield"}.get(user_id)


@pytest.mark.parametrize(
    ("raw", "typed"),
    [
        ("add Tom &amp; Jerry", "add Tom & Jerry"),
        ("&lt;3 &gt; &amp;lt;", "<3 > &lt;"),
        ("add <@U1|dana>", "add dana"),
        ("add <@U1>", "add Dana Whitfield"),
        ("add <@U404>", "add @U404"),
        ("see <#C1|general>", "see #general"),
        ("<!here> <!subteam^S1|@team>", "@here @team"),
        ("<mailto:a@b.c|a@b.c>", "a@b.c"),
        ("<https://example.com|example.com>", "https://example.com"),
        ("<https://example.com/a?b=1&amp;c=2>", "https://example.com/a?b=1&c=2"),
        ("<https://x.io/p|profile>", "profile (https://x.io/p)"),
        ("unbalanced < and > stay", "unbalanced < and > stay"),
    ],
)
async def test_read_command_text(raw: str, typed: str) -> None:
    assert await read_command_text(raw, namer) == typed


def test_mrkdwn_escape_once() -> None:
    assert mrkdwn_escape("a & <b> &amp;") == "a &amp; &lt;b&gt; &amp;amp;"
