"""The Teams app package: manifest fields, icons, and the zip that ``python -m teams.package`` writes.

The manifest, as written and as packaged, is validated against the Teams v1.22 manifest schema
vendored in ``tests/schemas/teams`` (its README says where it comes from).
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from teams import package

ROOT = Path(__file__).resolve().parent.parent
TEAMS = ROOT / "teams"
SCHEMA = ROOT / "tests" / "schemas" / "teams" / "MicrosoftTeams.schema.json"
APP_ID = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b"
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
PERSONAL_COMMANDS = [
    "help", "add", "log", "due", "list", "snooze", "settings", "pause", "resume", "export",
]  # fmt: skip


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TEAMS / "manifest.json").read_text(encoding="utf-8"))
    return data


# --- manifest ------------------------------------------------------------------------------------


def test_manifest_has_the_required_fields(manifest: dict[str, Any]) -> None:
    assert manifest["$schema"] == (
        "https://developer.microsoft.com/json-schemas/teams/v1.22/MicrosoftTeams.schema.json"
    )
    assert manifest["manifestVersion"] == "1.22"
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert GUID.match(manifest["id"])
    developer = manifest["developer"]
    assert 0 < len(developer["name"]) <= 32
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert developer[key].startswith("https://"), key
    assert manifest["name"]["short"] == "Reconnect"
    assert len(manifest["name"]["full"]) <= 100
    assert 0 < len(manifest["description"]["short"]) <= 80
    assert 0 < len(manifest["description"]["full"]) <= 4000
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", manifest["accentColor"])
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert manifest["permissions"] == ["identity", "messageTeamMembers"]
    assert manifest["validDomains"] == []


def test_manifest_declares_one_bot_with_command_lists(manifest: dict[str, Any]) -> None:
    [bot] = manifest["bots"]
    assert bot["botId"] == manifest["id"] == package.PLACEHOLDER_ID
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    # File-consent cards (export) work only for a bot that declares file support.
    assert bot["supportsFiles"] is True
    lists = bot["commandLists"]
    assert len(lists) <= 3
    by_scope = {tuple(sorted(entry["scopes"])): entry["commands"] for entry in lists}
    personal = by_scope[("personal",)]
    assert [c["title"] for c in personal] == PERSONAL_COMMANDS
    # In a channel or group chat: help, and the channel's outplacement group.
    assert [c["title"] for c in by_scope[("groupChat", "team")]] == ["help", "group"]
    add = next(c for c in personal if c["title"] == "add")
    assert "add Dana Whitfield every 2 months -- former CFO" in add["description"]
    for entry in lists:
        assert len(entry["commands"]) <= 10
        for command in entry["commands"]:
            assert set(command) == {"title", "description"}
            assert 0 < len(command["title"]) <= 32  # the v1.19 limit, to stay portable
            assert 0 < len(command["description"]) <= 128


def test_the_packager_finds_no_problem_and_catches_some(manifest: dict[str, Any]) -> None:
    files = {"color.png": (TEAMS / "color.png").read_bytes(),
             "outline.png": (TEAMS / "outline.png").read_bytes()}  # fmt: skip
    assert package.problems(manifest, files) == []

    broken = json.loads(json.dumps(manifest))
    broken["accentColor"] = "teal"
    broken["developer"]["privacyUrl"] = "http://example.com"
    broken["bots"][0]["commandLists"][0]["commands"] *= 2
    swapped = {"color.png": files["outline.png"], "outline.png": files["outline.png"]}
    found = package.problems(broken, swapped)
    assert "accentColor is not #rrggbb" in found
    assert "developer.privacyUrl must be an https URL" in found
    assert any(p.startswith("more than 10 commands") for p in found)
    assert any(p.startswith("icon color is (32, 32)") for p in found)


# The schema is draft-04 but pins manifestVersion with draft-06's "const" (as Microsoft's own
# ajv-based validator honours); a plain Draft4Validator would ignore it.
_Validator = jsonschema.validators.extend(
    jsonschema.Draft4Validator, {"const": jsonschema.Draft6Validator.VALIDATORS["const"]}
)


def schema_errors(manifest: dict[str, Any]) -> list[str]:
    """What the Teams v1.22 manifest schema says about ``manifest`` (fails if it is missing)."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["properties"]["manifestVersion"]["const"] == "1.22"
    _Validator.check_schema(schema)
    return sorted(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _Validator(schema).iter_errors(manifest)
    )


def test_the_manifest_and_the_packaged_one_pass_the_schema(
    manifest: dict[str, Any], tmp_path: Path
) -> None:
    assert manifest["$schema"].endswith("/teams/v1.22/MicrosoftTeams.schema.json")
    assert schema_errors(manifest) == []
    with zipfile.ZipFile(package.build(tmp_path / "app.zip", APP_ID)) as archive:
        packaged = json.loads(archive.read("manifest.json"))
    assert schema_errors(packaged) == []


def test_the_schema_check_catches_what_teams_would_refuse(manifest: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(manifest))
    broken["manifestVersion"] = "1.21"
    broken["bots"][0]["scopes"] = ["everywhere"]
    broken["bots"][0]["commandList"] = broken["bots"][0].pop("commandLists")  # a typo
    found = schema_errors(broken)
    assert any(e.startswith("manifestVersion: ") for e in found), found
    assert any(e.startswith("bots/0/scopes/0: ") for e in found), found
    assert any("'commandList' was unexpected" in e for e in found), found


# --- icons ---------------------------------------------------------------------------------------


def png_header(data: bytes) -> tuple[int, int, int, int]:
    """(width, height, bit depth, colour type) from the IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height, depth, colour_type = struct.unpack(">IIBB", data[16:26])
    return width, height, depth, colour_type


def rgba_pixels(data: bytes) -> list[list[tuple[int, ...]]]:
    """Decode an 8-bit RGBA, non-interlaced PNG (all five row filters)."""
    width, height, depth, colour_type = png_header(data)
    if (depth, colour_type, data[28]) != (8, 6, 0):
        pytest.skip("pixel checks only read 8-bit RGBA non-interlaced PNGs")
    offset, idat = 8, b""
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == b"IDAT":
            idat += data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    raw, stride, rows = zlib.decompress(idat), width * 4, []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - 4] if i >= 4 else 0
            b = previous[i]
            c = previous[i - 4] if i >= 4 else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                nearest = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + nearest) & 0xFF
        rows.append([tuple(line[x * 4 : x * 4 + 4]) for x in range(width)])
        previous = line
    return rows


def test_colour_icon_is_192_square_and_opaque_on_the_accent_colour(
    manifest: dict[str, Any],
) -> None:
    data = (TEAMS / "color.png").read_bytes()
    width, height, _, _ = png_header(data)
    assert (width, height) == (192, 192)
    assert package.png_size(data) == (192, 192)
    pixels = rgba_pixels(data)
    accent = tuple(int(manifest["accentColor"][i : i + 2], 16) for i in (1, 3, 5))
    assert pixels[0][0] == pixels[191][191] == (*accent, 255)
    assert all(p[3] == 255 for row in pixels for p in row)
    assert len({p for row in pixels for p in row}) > 3  # a mark, not a flat square


def test_outline_icon_is_32_square_white_on_transparent() -> None:
    data = (TEAMS / "outline.png").read_bytes()
    width, height, _, colour_type = png_header(data)
    assert (width, height) == (32, 32)
    assert colour_type in (4, 6)  # has an alpha channel
    pixels = [p for row in rgba_pixels(data) for p in row]
    visible = [p for p in pixels if p[3] > 0]
    assert visible and len(visible) < len(pixels) // 2
    assert all(p[:3] == (255, 255, 255) for p in visible)
    assert pixels[0][3] == pixels[-1][3] == 0


# --- the package ---------------------------------------------------------------------------------


def test_build_writes_the_three_files_at_the_zip_root_and_is_reproducible(
    tmp_path: Path,
) -> None:
    first = package.build(tmp_path / "a" / "reconnect-teams.zip", APP_ID)
    second = package.build(tmp_path / "b.zip", APP_ID)
    assert first.read_bytes() == second.read_bytes()
    again = package.build(first, APP_ID)  # overwrite in place
    assert again == first and first.read_bytes() == second.read_bytes()

    with zipfile.ZipFile(first) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert archive.testzip() is None
        inside = json.loads(archive.read("manifest.json"))
        assert archive.read("color.png") == (TEAMS / "color.png").read_bytes()
        assert archive.read("outline.png") == (TEAMS / "outline.png").read_bytes()
    assert inside["id"] == inside["bots"][0]["botId"] == APP_ID
    assert list(tmp_path.glob("**/*.partial")) == []


def test_app_id_comes_from_teams_app_id_then_the_client_id() -> None:
    client = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"
    assert package.app_id_from({}) is None
    assert package.app_id_from({client: f" {APP_ID} "}) == APP_ID
    assert package.app_id_from({"TEAMS_APP_ID": "a", client: "b"}) == "a"
    assert package.app_id_from({"TEAMS_APP_ID": "", client: "b"}) == "b"
    with pytest.raises(ValueError, match="GUID"):
        package.with_app_id({"bots": [{}]}, "not-a-guid")


def run_packager(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in package.ID_VARIABLES}
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=tmp_path,  # no .env here
        env={**clean, **env}, timeout=60,
    )  # fmt: skip


def test_command_without_an_id_keeps_the_placeholder_and_warns(tmp_path: Path) -> None:
    output = tmp_path / "dist" / "reconnect-teams.zip"
    result = run_packager(["-m", "teams.package", "--output", str(output)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(output)
    assert "warning" in result.stderr and package.PLACEHOLDER_ID in result.stderr
    with zipfile.ZipFile(output) as archive:
        assert json.loads(archive.read("manifest.json"))["bots"][0]["botId"] == (
            package.PLACEHOLDER_ID
        )


def test_script_form_substitutes_the_client_id(tmp_path: Path) -> None:
    output = tmp_path / "out.zip"
    result = run_packager(
        [str(TEAMS / "package.py"), "--output", str(output)],
        tmp_path,
        CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID=APP_ID,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(output) and result.stderr == ""
    with zipfile.ZipFile(output) as archive:
        inside = json.loads(archive.read("manifest.json"))
    assert inside["id"] == inside["bots"][0]["botId"] == APP_ID


def test_command_refuses_an_id_that_is_not_a_guid(tmp_path: Path) -> None:
    output = tmp_path / "out.zip"
    result = run_packager(
        ["-m", "teams.package", "--output", str(output)], tmp_path, TEAMS_APP_ID="reconnect-bot"
    )
    assert result.returncode == 2
    assert "GUID" in result.stderr and not output.exists()
