"""The README's facts that drift: the scopes it lists and the newest migration it names."""

import re
from pathlib import Path

from tests.test_manifest import MANIFEST, bot_scopes

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
VERSIONS = ROOT / "storage" / "migrations" / "versions"
NUMBERS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]


def newest_migration() -> str:
    return max(p.name[:4] for p in VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))


def test_the_readme_names_the_newest_migration() -> None:
    text = " ".join(README.read_text().split())
    newest = newest_migration()
    assert f"the newest is `{newest}`" in text
    assert f"the database schema is at nothing, not {newest}." in text
    assert f"(`{newest}`" in text  # and says what it adds


def test_the_readme_lists_every_bot_scope_the_manifest_requests() -> None:
    text = README.read_text()
    scopes = bot_scopes(MANIFEST.read_text())
    count = re.search(r"- (\w+) bot scopes — ", text)
    assert count is not None
    assert count.group(1) == NUMBERS[len(scopes)]
    block = text[count.end() :].split("\n- ", 1)[0]
    heads = re.findall(r"^  - (.+?) — ", block, re.MULTILINE)  # "`a`, `b` — why"
    listed = {scope for head in heads for scope in re.findall(r"`([a-z.:_]+)`", head)}
    assert listed == scopes
