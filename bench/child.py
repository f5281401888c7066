"""A fake service in a child process, driven over its stdin/stdout: the benchmarks run their
fakes apart from the measured process so neither shares the other's interpreter or memory.

The child prints ``PORT <n>`` once it listens, then answers one line per command line until it
reads ``quit`` (or end of file).
"""

from __future__ import annotations

import contextlib
import select
import subprocess
import sys
from pathlib import Path
from typing import IO


class FakeChild:
    """``python <script> <args…>`` started as the fake; ``what`` names it in errors."""

    def __init__(self, script: str, args: list[str], *, what: str, cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, script, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=cwd,
        )
        line = readline(self.process.stdout, 30.0)
        if not line.startswith("PORT "):
            self.close()
            raise RuntimeError(f"{what} did not start: {line!r}")
        self.port = int(line.split()[1])

    def ask(self, command: str, timeout: float = 120.0) -> str:
        """Send one command line and return the child's one-line answer."""
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return readline(self.process.stdout, timeout)

    def close(self) -> None:
        """Ask the child to quit; kill it if it does not."""
        with contextlib.suppress(OSError, ValueError):
            assert self.process.stdin is not None
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def readline(stream: IO[str] | None, timeout: float) -> str:
    """One line from ``stream``, or ``TimeoutError`` after ``timeout`` seconds."""
    assert stream is not None
    ready, _, _ = select.select([stream], [], [], timeout)
    if not ready:
        raise TimeoutError("no answer from the child process")
    return stream.readline().strip()
