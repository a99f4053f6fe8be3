"""`theoremllama bootstrap --config CONFIG.yaml [overrides]`: theorem records -> OBT dataset.

Rerunning the same command resumes: theorems already accepted or rejected are skipped.
"""

from __future__ import annotations

import argparse
import json
import sys

from theoremllama.bootstrap.config import load_config
from theoremllama.config import parse_override




def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="YAML config (see configs/bootstrap/default.yaml)")
    parser.add_argument("--input", help="override `input`: TheoremRecord JSONL or an OBT-schema file")
    parser.add_argument("--output", help="override `output`: the output directory")
    parser.add_argument("--limit", type=int,
                        help="override `limit`: only the first N theorems of the input (a rerun finishes "
                             "them, never adds N more)")
    parser.add_argument("--concurrency", type=int, help="override `concurrency`: theorems in flight")
    parser.add_argument("--lean-check", "--verify", dest="verify", action=argparse.BooleanOptionalAction,
                        default=None, help="override `verify.enabled`: re-check every commented proof with "
                                           "Lean (needs `setup-lean`; do it for data you train on or publish)")
    parser.add_argument("--retry-rejected", action="store_true", default=None,
                        help="retry theorems an earlier run rejected")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override any config key, dotted, value in YAML (e.g. --set examples.k=5)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def overrides_from_args(args: argparse.Namespace) -> dict:
    overrides = {}
    for key, dotted in (("input", "input"), ("output", "output"), ("limit", "limit"),
                        ("concurrency", "concurrency"), ("verify", "verify.enabled"),
                        ("retry_rejected", "retry_rejected")):
        value = getattr(args, key, None)
        if value is not None:
            overrides[dotted] = value
    overrides.update(parse_override(item) for item in args.set)
    return overrides


def run(args: argparse.Namespace) -> int:
    # imported on use: `theoremllama --help` and the other subcommands stay light
    from theoremllama.bootstrap.pipeline import run_bootstrap

    config = load_config(args.config, overrides_from_args(args))
    summary = run_bootstrap(config, progress=not args.no_progress)
    print(f"bootstrap: {summary.accepted} accepted, {sum(summary.rejected.values())} rejected "
          f"of {summary.processed} processed ({summary.already_done} already done, "
          f"{summary.records_per_second:.2f} theorems/s); {summary.total_accepted} records in "
          f"{config.output}/obt.jsonl", file=sys.stderr)
    if summary.rejected:
        print("rejected by reason: " + json.dumps(dict(sorted(summary.rejected.items()))), file=sys.stderr)
    if summary.attempt_failures:
        print("failed attempts by reason: " + json.dumps(dict(sorted(summary.attempt_failures.items()))),
              file=sys.stderr)
    print(f"tokens: {summary.prompt_tokens} prompt, {summary.completion_tokens} completion "
          f"in {summary.requests} requests", file=sys.stderr)
    return 0
