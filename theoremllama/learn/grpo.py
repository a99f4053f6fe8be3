"""GRPO with TRL's `GRPOTrainer`, the Lean verdict as reward (`reward.LeanReward`).

    problems --build_prompt (same as SFT/eval)--> prompts --policy samples G completions each-->
    LeanReward (project verifier, batched) --> group-normalised advantages --> policy update

What the recipe sets itself, from the config (`train/grpo.yaml`): the prompts (chat messages
made by `eval.prompts.build_prompt`, i.e. `train.prompt`'s format, with no worked examples), the
reward, DeepSpeed (a JSON config; start with `accelerate launch` for several processes), vLLM
generation (`use_vllm` when vLLM is installed and a GPU is there), LoRA (peft), precision,
resume from the last checkpoint in `output_dir`. Everything else is `trl.GRPOConfig` as is (the
`grpo:` section). Logs: TRL's metrics (reward, completions/mean_length, kl, ...) plus the
reward's `lean/*` metrics, to TensorBoard / W&B via `report_to`; every completion's verdict in
`output_dir/rewards.jsonl`.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from pathlib import Path
from types import SimpleNamespace

from theoremllama.data.jsonl import trim_jsonl
from theoremllama.errors import UserError
from theoremllama.eval.prompts import build_prompt
from theoremllama.learn.config import RLConfig
from theoremllama.learn.problems import HeldOut, load_problems
from theoremllama.learn.reward import LeanReward
from theoremllama.learn.verifier import make_verifier

log = logging.getLogger(__name__)

REWARDS_FILE = "rewards.jsonl"


def build_dataset(problems, variant: str):
    """One row per problem: `prompt` (chat messages, as in SFT and evaluation) and `problem` (its
    name, handed to the reward by TRL)."""
    from datasets import Dataset

    return Dataset.from_list([{"prompt": build_prompt(p, [], variant), "problem": p.name} for p in problems])


def vllm_wanted(config: RLConfig) -> tuple[bool, str]:
    """(use_vllm, vllm_mode): `auto` uses vLLM, colocated, when it is installed and a GPU is there."""
    if config.vllm == "off":
        return False, "colocate"
    if config.vllm in ("colocate", "server"):
        return True, config.vllm
    import torch

    return importlib.util.find_spec("vllm") is not None and torch.cuda.is_available(), "colocate"


def grpo_arguments(config: RLConfig):
    import torch
    from trl import GRPOConfig

    # torch, transformers (the rl extra)
    from theoremllama.train.recipe import deepspeed_config

    bf16 = config.precision == "bf16" or (config.precision == "auto" and torch.cuda.is_available()
                                          and torch.cuda.is_bf16_supported())
    use_vllm, vllm_mode = vllm_wanted(config)
    kwargs = dict(config.grpo)
    kwargs.setdefault("report_to", "none")
    reports = [kwargs["report_to"]] if isinstance(kwargs["report_to"], str) else list(kwargs["report_to"])
    for name, module in (("tensorboard", "tensorboard"), ("wandb", "wandb")):
        if name in reports and importlib.util.find_spec(module) is None:
            raise UserError(f"config key 'grpo.report_to': {name} is not installed (pip install {module})")
    try:
        return GRPOConfig(output_dir=config.output_dir, seed=config.seed, bf16=bf16,
                          deepspeed=deepspeed_config(SimpleNamespace(deepspeed=config.deepspeed)),
                          use_cpu=not torch.cuda.is_available(), use_vllm=use_vllm, vllm_mode=vllm_mode,
                          **kwargs)
    except (TypeError, ValueError) as e:
        raise UserError(f"config key 'grpo': {e}") from None


def train(config: RLConfig, *, verifier=None, callbacks=None) -> Path:
    """Run (or resume) GRPO; returns the directory of the final model. `verifier` may be shared
    (default: from the config); `callbacks` are extra `transformers.TrainerCallback`s."""
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOTrainer

    # torch, transformers (the rl extra)
    from theoremllama.train.recipe import ensure_distributed_env, last_checkpoint, trainer_step

    config.check()
    problems = load_problems(config.problems)[: config.limit]
    HeldOut.load(config.heldout).refuse_overlap(problems, what=f"config key 'problems' ({config.problems})")
    if config.deepspeed:
        ensure_distributed_env()
    transformers.set_seed(config.seed)
    args = grpo_arguments(config)
    try:
        tokenizer = AutoTokenizer.from_pretrained(config.tokenizer or config.model)
        model = AutoModelForCausalLM.from_pretrained(config.model, dtype="auto")
    except OSError as e:
        raise UserError(f"config key 'model': cannot load {config.model!r} ({e})") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    peft_config = None
    if config.lora is not None:
        from peft import LoraConfig

        lora = {"r": 16, "alpha": 32, "dropout": 0.05,
                "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
                **config.lora}
        peft_config = LoraConfig(r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"],
                                 target_modules=lora["target_modules"], task_type="CAUSAL_LM")
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    resume = last_checkpoint(out)
    rank = int(os.environ.get("RANK", "0"))
    rewards_path = out / (REWARDS_FILE if rank == 0 else f"rewards.rank{rank}.jsonl")
    if resume is not None:
        trim_rewards(rewards_path, trainer_step(resume))
    own_verifier = verifier is None
    if verifier is None:
        verifier = make_verifier(config.verifier)
    reward = LeanReward(problems, verifier, log_path=rewards_path, format_reward=config.format_reward)
    try:
        trainer = GRPOTrainer(model=model, reward_funcs=[reward], args=args,
                              train_dataset=build_dataset(problems, config.prompt), processing_class=tokenizer,
                              peft_config=peft_config, callbacks=callbacks)
        if resume is not None:
            log.info("resuming from %s", resume)
        trainer.train(resume_from_checkpoint=str(resume) if resume else None)
        final = out / "final"
        trainer.save_model(str(final))
        if trainer.accelerator.is_main_process:
            tokenizer.save_pretrained(str(final))
            summary = {"verdicts": dict(sorted(reward.totals.items())), "batches": reward.batches,
                       "verifier_seconds": round(reward.verifier_seconds, 3)}
            (out / "rl_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    finally:
        if own_verifier:
            verifier.close()
    return final


def trim_rewards(path: Path, step: int) -> None:
    """Keep the reward lines of steps <= `step` (those after the checkpoint are redone on resume)."""
    trim_jsonl(path, lambda d: d["step"] <= step)
