"""The core stays platform-neutral: no chat SDK, web framework or database library in bot/core."""

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "bot" / "core"
FORBIDDEN = ("slack_bolt", "slack_sdk", "microsoft_agents", "botbuilder", "aiohttp", "sqlalchemy",
             "storage", "bot.adapters", "bot.app", "bot.web")  # fmt: skip


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_sources_import_no_platform_module() -> None:
    offenders = {
        f"{path.name}: {name}"
        for path in CORE.rglob("*.py")
        for name in imported_modules(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not offenders, offenders


def test_importing_the_core_loads_no_platform_module() -> None:
    """Catches indirect imports too: load the core in a fresh interpreter and look."""
    code = (
        "import sys, bot.core.service, bot.core.forms, bot.core.views\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} or "
        "m.startswith(('bot.adapters', 'bot.app', 'bot.web'))]\n"
        "print(','.join(sorted(bad)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=CORE.parent.parent,
    )  # fmt: skip
    assert result.stdout.strip() == ""


def test_the_check_would_catch_an_offender(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from slack_sdk.web import WebClient\nimport aiohttp.web\n")
    assert {"slack_sdk.web", "aiohttp.web"} <= imported_modules(bad)


def test_the_nudge_runner_reaches_storage_only_through_its_port() -> None:
    """jobs.runner needs jobs.ports.NudgeStorePort and storage.records' plain values, nothing
    of SQL: so its unit tests run on the in-memory fake (tests/fakes/memory_nudges.py)."""
    code = (
        "import sys, jobs.runner\n"
        "bad = [m for m in sys.modules if m.split('.')[0] == 'sqlalchemy' or "
        "(m.startswith('storage.') and m != 'storage.records')]\n"
        "print(','.join(sorted(bad)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=CORE.parent.parent,
    )  # fmt: skip
    assert result.stdout.strip() == ""
