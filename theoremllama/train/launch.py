"""Entry point for launchers: `deepspeed [--hostfile H] -m theoremllama.train.launch --config C ...`.

The same arguments as `theoremllama train`; errors a user can fix are printed as one line (exit 2)
on every rank instead of a traceback per process.
"""

from __future__ import annotations

import sys

from theoremllama.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
