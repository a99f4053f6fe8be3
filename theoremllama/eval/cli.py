"""`theoremllama eval --config eval/minif2f.yaml [--set key=value ...] [--limit N]`.

Runs (or resumes: rerun the same command) a MiniF2F evaluation with iterative proof writing,
then writes the report next to the attempts. See `eval/minif2f.yaml` for the keys.
"""

from __future__ import annotations

import argparse

from theoremllama.eval.config import load_config
from theoremllama.eval.report import _pct


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=None, help="YAML config (default: the built-in defaults)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key (dotted for nested keys: llm.base_url=...); repeatable")
    parser.add_argument("--limit", type=int, default=None, help="evaluate only the first N problems")
    parser.add_argument("--output-dir", default=None, help="override output_dir")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    # imported on use: `theoremllama --help` and the other subcommands stay light
    from theoremllama.eval.evaluate import evaluate

    overrides = list(args.overrides)
    if args.limit is not None:
        overrides.append(f"limit={args.limit}")
    if args.output_dir is not None:
        overrides.append(f"output_dir={args.output_dir}")
    config = load_config(args.config, overrides)
    result = evaluate(config, progress=not args.no_progress)
    s = result.summary
    per_round = ", ".join(f"round {r.round}: +{r.solved_new}" for r in s.rounds)
    print(f"MiniF2F-{s.split}: {len(s.solved)}/{s.problems} solved, cumulative accuracy "
          f"{_pct(s.cumulative_accuracy)} ({per_round}); attempts in {result.attempts_path}")
    return 0
