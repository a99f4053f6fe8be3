"""`theoremllama iterate --config train/expert_iteration.yaml [--set key=value ...]`

Runs (or resumes: rerun the same command) expert iteration; see `learn/iterate.py`.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="YAML config (see train/expert_iteration.yaml)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key (dotted for nested keys: train.init=base); repeatable")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    # imported on use: `theoremllama --help` and the other subcommands stay light
    from theoremllama.learn.config import load_iterate_config
    from theoremllama.learn.iterate import iterate

    config = load_iterate_config(args.config, args.overrides)
    result = iterate(config, progress=not args.no_progress)
    for row in result.rounds:
        print(f"round {row['round']}: {row['solved']} problems solved ({row['newly_solved']} new), "
              f"{row['new_proofs']} new proofs, {row['total_proofs']} in all"
              + (f"; trained {row['checkpoint']}" if row.get("checkpoint") else ""))
    if result.stopped:
        print(f"stopped: {result.stopped}")
    print(f"latest model: {result.model}; rounds in {config.output_dir}/rounds.json")
    return 3 if result.waiting_for_server else 0
