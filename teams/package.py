"""Build the Teams app package: ``dist/reconnect-teams.zip``.

    uv run python -m teams.package          (or: uv run python teams/package.py)

The zip holds ``manifest.json``, ``color.png`` and ``outline.png`` at its root, which is what
Teams (Developer Portal, or "Upload a custom app") accepts. The bot id comes from
``TEAMS_APP_ID`` or, failing that, ``CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID`` (the
Azure Bot's Entra app id, also read from ``.env``); it goes into ``bots[0].botId`` and the app
``id``. Without one the placeholder GUID stays and a warning says so: Teams would reject it.

The output is byte-for-byte the same for the same inputs, so running it twice changes nothing.
``--icons`` redraws the two icons (pure Python) before packaging.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MANIFEST = HERE / "manifest.json"
COLOR = HERE / "color.png"
OUTLINE = HERE / "outline.png"
OUTPUT = ROOT / "dist" / "reconnect-teams.zip"

PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
ID_VARIABLES = ("TEAMS_APP_ID", "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID")
GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
ICON_SIZES = {"color": 192, "outline": 32}
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the zip is reproducible


# --- manifest ------------------------------------------------------------------------------------


def load_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def app_id_from(env: Mapping[str, str]) -> str | None:
    """The first non-empty id variable, stripped."""
    for name in ID_VARIABLES:
        value = (env.get(name) or "").strip()
        if value:
            return value
    return None


def with_app_id(manifest: dict[str, Any], app_id: str) -> dict[str, Any]:
    """A copy of the manifest with ``app_id`` as the app id and the bot id."""
    if not GUID.match(app_id):
        raise ValueError(f"the bot id must be a GUID (the Entra app id), not {app_id!r}")
    result: dict[str, Any] = json.loads(json.dumps(manifest))
    result["id"] = app_id
    result["bots"][0]["botId"] = app_id
    return result


def problems(manifest: Mapping[str, Any], files: Mapping[str, bytes]) -> list[str]:
    """What Teams would refuse (the essentials of the v1.22 schema), given the package files."""
    found: list[str] = []
    for key in ("manifestVersion", "version", "id", "developer", "name", "description", "icons",
                "accentColor"):  # fmt: skip
        if key not in manifest:
            found.append(f"missing {key}")
    if found:
        return found
    if not re.fullmatch(r"\d+\.\d+\.\d+", str(manifest["version"])):
        found.append("version is not x.y.z")
    if not GUID.match(str(manifest["id"])):
        found.append("id is not a GUID")
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", str(manifest["accentColor"])):
        found.append("accentColor is not #rrggbb")
    developer = manifest["developer"]
    if not 0 < len(developer.get("name", "")) <= 32:
        found.append("developer.name must be 1-32 characters")
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        if not str(developer.get(key, "")).startswith("https://"):
            found.append(f"developer.{key} must be an https URL")
    if not 0 < len(manifest["name"].get("short", "")) <= 30:
        found.append("name.short must be 1-30 characters")
    if len(manifest["name"].get("full", "")) > 100:
        found.append("name.full is over 100 characters")
    description = manifest["description"]
    if not 0 < len(description.get("short", "")) <= 80:
        found.append("description.short must be 1-80 characters")
    if not 0 < len(description.get("full", "")) <= 4000:
        found.append("description.full must be 1-4000 characters")
    for bot in manifest.get("bots", []):
        if not GUID.match(str(bot.get("botId", ""))):
            found.append("bots[].botId is not a GUID")
        lists = bot.get("commandLists", [])
        if len(lists) > 3:
            found.append("more than 3 command lists")
        for command_list in lists:
            if len(command_list["commands"]) > 10:
                found.append(f"more than 10 commands for {command_list['scopes']}")
    for kind, size in ICON_SIZES.items():
        name = manifest["icons"].get(kind)
        if name not in files:
            found.append(f"icon {kind} ({name}) is not in the package")
        elif png_size(files[name]) != (size, size):
            found.append(f"icon {kind} is {png_size(files[name])}, not {size}x{size}")
    return found


# --- package -------------------------------------------------------------------------------------


def package_files(app_id: str | None) -> dict[str, bytes]:
    """The files of the package, by name at the zip root."""
    manifest = load_manifest()
    if app_id:
        manifest = with_app_id(manifest, app_id)
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    return {
        "manifest.json": text.encode("utf-8"),
        manifest["icons"]["color"]: (HERE / manifest["icons"]["color"]).read_bytes(),
        manifest["icons"]["outline"]: (HERE / manifest["icons"]["outline"]).read_bytes(),
    }


def build(output: Path = OUTPUT, app_id: str | None = None) -> Path:
    """Write the package to ``output`` (atomically) and return its path."""
    files = package_files(app_id)
    found = problems(json.loads(files["manifest.json"]), files)
    if found:
        raise ValueError("the Teams manifest is not valid: " + "; ".join(found))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    partial.write_bytes(buffer.getvalue())
    partial.replace(output)
    return output


def _load_dotenv() -> None:
    try:
        from dotenv import find_dotenv, load_dotenv
    except ImportError:  # the package does not need it
        return
    load_dotenv(find_dotenv(usecwd=True))  # never overrides the real environment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m teams.package", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"default: {OUTPUT}")
    parser.add_argument(
        "--icons", action="store_true", help="redraw color.png and outline.png first"
    )
    args = parser.parse_args(argv)
    if args.icons:
        COLOR.write_bytes(color_icon())
        OUTLINE.write_bytes(outline_icon())
        print(f"drew {COLOR} and {OUTLINE}")
    _load_dotenv()
    app_id = app_id_from(os.environ)
    if app_id is None:
        print(
            f"warning: neither {' nor '.join(ID_VARIABLES)} is set, so the package keeps the "
            f"placeholder bot id {PLACEHOLDER_ID}; Teams will not accept it. Set one to the "
            "Azure Bot's Microsoft App ID and run this again.",
            file=sys.stderr,
        )
    try:
        path = build(args.output, app_id)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(path)
    return 0


# --- PNG -----------------------------------------------------------------------------------------

Pixel = tuple[int, int, int, int]


def png(width: int, height: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """An 8-bit RGBA PNG from ``pixel(x, y)``."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # RGBA, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR, or None if it is not a PNG."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _coverage(x: int, y: int, inside: Callable[[float, float], bool], samples: int = 4) -> float:
    """The share of the pixel (x, y) that ``inside`` covers, by supersampling."""
    step = 1 / samples
    hits = sum(
        inside(x + (i + 0.5) * step, y + (j + 0.5) * step)
        for i in range(samples)
        for j in range(samples)
    )
    return hits / samples**2


def _over(bottom: tuple[float, ...], top: tuple[float, ...], alpha: float) -> tuple[float, ...]:
    return tuple(b + (t - b) * alpha for b, t in zip(bottom, top, strict=True))


def color_icon(accent: str | None = None) -> bytes:
    """192×192: two overlapping circles (two people meeting again) on the accent colour."""
    accent = accent or load_manifest()["accentColor"]
    background = _hex(accent)
    left, right = (78.0, 96.0, 40.0), (114.0, 96.0, 40.0)  # (cx, cy, r), within the 96px safe area
    white, amber, cream = (255, 255, 255), (0xF2, 0xB8, 0x72), (0xFA, 0xE3, 0xC4)

    def circle(cx: float, cy: float, r: float) -> Callable[[float, float], bool]:
        return lambda px, py: math.hypot(px - cx, py - cy) <= r

    in_left, in_right = circle(*left), circle(*right)

    def in_both(px: float, py: float) -> bool:
        return in_left(px, py) and in_right(px, py)

    def pixel(x: int, y: int) -> Pixel:
        colour: tuple[float, ...] = background
        colour = _over(colour, white, _coverage(x, y, in_left))
        colour = _over(colour, amber, _coverage(x, y, in_right))
        colour = _over(colour, cream, _coverage(x, y, in_both))
        r, g, b = (round(c) for c in colour)
        return r, g, b, 255

    return png(192, 192, pixel)


def outline_icon() -> bytes:
    """32×32: the same two circles as white rings on a transparent background."""
    rings = ((11.5, 16.0), (20.5, 16.0))
    radius, half_stroke = 8.0, 1.0

    def on_ring(px: float, py: float) -> bool:
        return any(abs(math.hypot(px - cx, py - cy) - radius) <= half_stroke for cx, cy in rings)

    def pixel(x: int, y: int) -> Pixel:
        return 255, 255, 255, round(255 * _coverage(x, y, on_ring, samples=6))

    return png(32, 32, pixel)


if __name__ == "__main__":
    sys.exit(main())
