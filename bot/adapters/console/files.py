"""Delivering a reply's files in the console: written to a folder, their paths printed.

The folder is ``./reconnect-exports`` unless ``RECONNECT_EXPORT_DIR`` names another. It is made
readable by its owner only (an export holds everything about your contacts), and an existing
file is never overwritten: a second export the same day gets ``-2``, ``-3``, … in its name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.core.replies import FileOut

EXPORT_DIR_ENV = "RECONNECT_EXPORT_DIR"
DEFAULT_EXPORT_DIR = Path("reconnect-exports")
#: What a file name may contain here; anything else becomes "_".
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def export_dir(env: Mapping[str, str] | None = None) -> Path:
    """The folder files are written to (``RECONNECT_EXPORT_DIR`` or ``./reconnect-exports``)."""
    raw = (os.environ if env is None else env).get(EXPORT_DIR_ENV, "").strip()
    return Path(raw).expanduser() if raw else DEFAULT_EXPORT_DIR


def write_files(folder: Path, files: Sequence[FileOut]) -> list[Path]:
    """Write ``files`` into ``folder`` (created, owner-only); the paths written, in order."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = []
    for file in files:
        name = _UNSAFE.sub("_", Path(file.filename).name).lstrip(".") or "file"
        path = _free(folder / name)
        # O_EXCL: never follow a link or overwrite a file that appeared meanwhile.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(file.content)
        written.append(path)
    return written


def _free(path: Path) -> Path:
    if not path.exists():
        return path
    for number in range(2, 10_000):
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(path)
