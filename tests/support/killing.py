"""Run a CLI command in its own process group and SIGKILL the whole group (the command and its
REPL workers) once a condition on its outputs holds: how the kill/resume tests simulate a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable


def kill_when(args: list[str], cwd: Path, ready: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Start `python -m theoremllama.cli ARGS`; SIGKILL its process group as soon as `ready()`.
    Fails the test if the command exits first or `ready()` is not true within `timeout` s."""
    proc = subprocess.Popen([sys.executable, "-m", "theoremllama.cli", *args], cwd=cwd,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, f"the run recorded {what} in {timeout:g} s"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole process group: the command and its REPLs
        proc.wait()
