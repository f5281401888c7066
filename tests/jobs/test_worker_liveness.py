"""Whether a worker's process on this host still runs: a zombie does not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.processes import pid_alive, state_of

needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="no /proc")


def test_a_running_process_is_alive() -> None:
    assert pid_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert pid_alive(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not pid_alive(child.pid)  # reaped: gone


@needs_proc
def test_a_killed_process_its_parent_has_not_reaped_is_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert pid_alive(child.pid)
        child.kill()
        # Wait for it to exit, but leave it unreaped (WNOWAIT): a zombie, as a kill -9'd
        # clock is until its parent gets round to waiting for it.
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
        assert state_of(Path(f"/proc/{child.pid}/stat").read_text()) == "Z"
        os.kill(child.pid, 0)  # it still exists for kill(pid, 0)…
        assert not pid_alive(child.pid)  # …but will never finish its claims
    finally:
        child.kill()
        child.wait()


@pytest.mark.parametrize(
    ("stat", "state"),
    [
        ("1234 (python3) S 1 1234 1234 0 -1", "S"),
        ("1234 (clock) Z 1 1234", "Z"),
        ("1234 (a b) R 1 1234", "R"),
        ("1234 (x) Z (y) S 1 1234", "S"),  # a command name with ") Z (" in it
        ("1234 ((sd-pam)) S 1", "S"),
        ("garbage", None),
        ("1234 (cut", None),
    ],
)
def test_the_state_is_read_after_the_command_name(stat: str, state: str | None) -> None:
    assert state_of(stat) == state
