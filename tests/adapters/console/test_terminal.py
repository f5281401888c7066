"""The console in a real terminal (a pseudo-terminal): Ctrl-C, Ctrl-D and line editing."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROMPT = b"reconnect> "
#: Make the pseudo-terminal the child's controlling terminal, so Ctrl-C becomes SIGINT.
_SPAWN = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.executable, [sys.executable, '-m', 'bot', 'console'])"
)


class Terminal:
    """``python -m bot console`` on a pseudo-terminal."""

    def __init__(self, tmp_path: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
        env.update(
            PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{tmp_path / 't.sqlite3'}", TERM="xterm"
        )
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _SPAWN],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=tmp_path,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.output = b""

    def read_until(self, marker: bytes, timeout: float = 60) -> bytes:
        """Everything up to and including the next ``marker``."""
        deadline = time.monotonic() + timeout
        while marker not in self.output:
            left = deadline - time.monotonic()
            assert left > 0, f"no {marker!r} in {self.output.decode(errors='replace')!r}"
            if select.select([self.master], [], [], left)[0]:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the child is gone
                    chunk = b""
                if not chunk:
                    break
                self.output += chunk
        head, found, self.output = self.output.partition(marker)
        return head + found

    def type(self, keys: bytes) -> None:
        """Type ``keys`` a moment after the prompt appeared, as a person would: Python's
        ``input()`` prints its prompt a few instructions before it starts waiting, and a signal
        in between is noticed only once a key comes in (a race no typist can hit)."""
        time.sleep(0.3)
        os.write(self.master, keys)

    def exit_code(self, timeout: float = 10) -> int:
        """Wait for the process to end (draining its output, so it never blocks on it)."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            if select.select([self.master], [], [], 0.1)[0]:
                with contextlib.suppress(OSError):
                    self.output += os.read(self.master, 4096)
        code = self.process.poll()
        assert code is not None, f"still running: {self.output.decode(errors='replace')!r}"
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(tmp_path)
    try:
        yield term
    finally:
        term.close()


def test_ctrl_c_at_the_prompt_leaves_at_once(terminal: Terminal) -> None:
    terminal.read_until(PROMPT)
    terminal.type(b"\x03")
    assert terminal.exit_code() == 0
    assert b"Bye" in terminal.output


def test_ctrl_c_in_a_form_leaves_at_once(terminal: Terminal) -> None:
    terminal.read_until(PROMPT)
    terminal.type(b"add\r")
    terminal.read_until(b"Full name: ")
    terminal.type(b"\x03")
    assert terminal.exit_code() == 0
    assert b"Bye" in terminal.output


def test_arrow_keys_edit_the_line_and_ctrl_d_leaves(terminal: Terminal) -> None:
    terminal.read_until(PROMPT)
    terminal.type(b"hep\x1b[Dl\r")  # "hep", Left, "l": help
    answer = terminal.read_until(PROMPT)
    assert b"/reconnect snooze" in answer, answer
    terminal.type(b"\x04")
    assert terminal.exit_code() == 0
    assert b"Bye" in terminal.output
