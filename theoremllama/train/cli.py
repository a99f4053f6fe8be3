"""`theoremllama train --config train/sft.yaml [--set key=value ...]`

One process:       theoremllama train --config train/tiny_cpu.yaml
Several GPUs:      deepspeed --num_gpus 8 -m theoremllama.train.launch --config train/sft.yaml
Several nodes:     deepspeed --hostfile train/hostfile -m theoremllama.train.launch --config train/sft.yaml
                   (or train/slurm_example.sh)
Overrides:         --set trainer.learning_rate=1e-5 --set block_training=false
"""

from __future__ import annotations

import argparse
import logging


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="recipe YAML (see train/sft.yaml for every key)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key (dotted for nested keys: trainer.max_steps=100); repeatable")
    # The deepspeed launcher passes --local_rank=N to every process; LOCAL_RANK in the env says the same.
    parser.add_argument("--local_rank", "--local-rank", type=int, default=None, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    # imported on use: `theoremllama --help` and the other subcommands stay light
    from theoremllama.train.config import load_config

    cfg = load_config(args.config, args.overrides)  # checked before anything heavy is imported
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # torch, transformers, deepspeed (the train extra): after the config is known good
    from theoremllama.train import recipe

    done = recipe.completed_run(cfg)
    if done is not None:
        print(f"theoremllama train: {cfg.output_dir} already holds this finished run (step "
              f"{done['global_step']}); nothing to do. Final model in {done['final']}")
        return 0
    try:
        final = recipe.train(cfg)
    finally:
        recipe.shutdown()
    print(f"theoremllama train: final model in {final}")
    return 0
