"""A long job's log file: everything the job logs (INFO and up) also goes to OUTPUT/run.log.

The console shows warnings and one-line summaries; the details (each corrected MiniF2F name, each
skipped record) are INFO records: in the run's log file always, on the console with `--verbose`.

    with run_log(output_dir / "run.log"):
        ...   # logging.getLogger("theoremllama.…").info(...) lands in the file
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

LOG_FILE = "run.log"


@contextlib.contextmanager
def run_log(path: str | Path):
    """Append theoremllama's log records (INFO and up) to `path` while the block runs."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("theoremllama")
    previous = logger.level
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)  # INFO records reach the file; the console keeps its own level
    logger.addHandler(handler)
    console = None
    if not logging.getLogger().handlers:
        # With a handler of its own the logger no longer falls back to printing warnings on
        # stderr (logging.lastResort): keep them there.
        console = logging.StreamHandler()
        console.setLevel(logging.WARNING)
        console.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(console)
    try:
        yield path
    finally:
        logger.removeHandler(handler)
        if console is not None:
            logger.removeHandler(console)
        logger.setLevel(previous)
        handler.close()
