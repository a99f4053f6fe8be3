"""`theoremllama serve`: one Verifier pool behind HTTP (FastAPI + uvicorn).

    theoremllama serve --workers 15 --timeout 120 --api-key "$KEY" --host 0.0.0.0 --port 8000

The pool options are `theoremllama verify`'s (defined once, in `theoremllama.lean.cli`). The
server binds 127.0.0.1 unless `--host` says otherwise; the key can also come from
THEOREMLLAMA_API_KEY (better than the command line, which other users of the machine can read).
"""

from __future__ import annotations

import argparse
import os
import sys
from theoremllama.errors import UserError

# `verify`'s options that make no sense for a server (its input and output files, its client modes).
_VERIFY_ONLY = {"help", "input", "output", "no_progress", "verifier_url", "ray"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # imported on use: `theoremllama --help` and the other subcommands stay light
    from theoremllama.lean import cli as verify_cli

    # The pool options are copied from `verify`'s parser, so that they are defined in one place.
    verify_parser = argparse.ArgumentParser(add_help=False)
    verify_cli.add_arguments(verify_parser)
    for action in verify_parser._actions:
        if action.dest not in _VERIFY_ONLY:
            parser._add_action(action)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--api-key", default=os.environ.get("THEOREMLLAMA_API_KEY"),
                        help="require `Authorization: Bearer KEY` (default: $THEOREMLLAMA_API_KEY; unset: no auth)")
    parser.add_argument("--max-request-mb", type=float, default=32.0, help="largest request body, MiB (default 32)")
    parser.add_argument("--max-batch", type=int, default=4096, help="most jobs in one request (default 4096)")
    parser.add_argument("--max-queue", type=int, default=65536,
                        help="most jobs accepted and not yet answered; beyond, 429 with Retry-After (default 65536)")


def run(args: argparse.Namespace) -> int:
    import uvicorn  # the serve extra

    # the serve extra (fastapi, pydantic) is imported only when serving
    from theoremllama.lean.open import verifier_options
    from theoremllama.lean.pool import Verifier
    from theoremllama.serve.app import Limits, create_app

    for name in ("max_batch", "max_queue"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1")
    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.api_key:
        print(f"serve: warning: listening on {args.host} without an API key: anyone who can reach it can use "
              "this machine's CPUs", file=sys.stderr)
    limits = Limits(api_key=args.api_key or None, max_request_bytes=int(args.max_request_mb * 2**20),
                    max_batch=args.max_batch, max_queue=args.max_queue)
    options = verifier_options(args)
    options["progress"] = False
    with Verifier(**options) as verifier:
        uvicorn.run(create_app(verifier, limits), host=args.host, port=args.port, log_level="warning")
    return 0
