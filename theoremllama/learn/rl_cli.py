"""`theoremllama rl --config train/grpo.yaml [--set key=value ...]`

One process:        theoremllama rl --config train/grpo.yaml
Several GPUs:       accelerate launch --num_processes 8 -m theoremllama.cli rl --config train/grpo.yaml
                    (with `deepspeed: train/ds_zero2.json` or ds_zero3.json in the config)
Rerun the same command to resume from the last checkpoint. See `learn/grpo.py`.
"""

from __future__ import annotations

import argparse
import logging


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="YAML config (see train/grpo.yaml)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key (dotted: grpo.learning_rate=1e-6); repeatable")
    parser.add_argument("--local_rank", "--local-rank", type=int, default=None, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    # imported on use: `theoremllama --help` and the other subcommands stay light
    from theoremllama.learn.config import load_rl_config

    config = load_rl_config(args.config, args.overrides)  # checked before torch is imported
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # trl, torch, transformers (the rl extra): after the config is known good
    from theoremllama.learn import grpo
    from theoremllama.train.recipe import shutdown

    try:
        final = grpo.train(config)
    finally:
        shutdown()
    print(f"theoremllama rl: final model in {final}; verdicts of every completion in "
          f"{config.output_dir}/{grpo.REWARDS_FILE}")
    return 0
