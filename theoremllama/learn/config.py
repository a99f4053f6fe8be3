"""The configs of `theoremllama iterate` (train/expert_iteration.yaml) and `theoremllama rl`
(train/grpo.yaml): YAML, `--set key=value` overrides, every key checked before anything runs.

Keys are documented on the dataclasses below; a wrong key or type is one line naming it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from theoremllama.config import apply_overrides, build_config, read_yaml_mapping
from theoremllama.errors import UserError

DEFAULT_HELDOUT = ["minif2f:valid", "minif2f:test"]
ATTEMPT_MODES = ("unsolved", "all")
INIT_MODES = ("previous", "base")
PROMPTS = ("nl", "formal")


@dataclass
class TrainSection:
    """How each round's SFT runs: the project's recipe (`theoremllama train`)."""

    recipe: str = "train/sft.yaml"
    """The recipe config every round starts from (model, DeepSpeed, trainer keys...)."""
    set: dict = field(default_factory=dict)
    """Overrides of recipe keys (dotted: `trainer.max_steps: 100`), applied every round."""
    init: str = "previous"
    """`previous`: round r fine-tunes round r-1's checkpoint (round 0: the recipe's model);
    `base`: every round fine-tunes the recipe's model afresh on all data so far."""
    launcher: list = field(default_factory=list)
    """The command that runs the recipe; `--config ROUND_RECIPE` is appended. Empty: this Python,
    `-m theoremllama.cli train`. Several GPUs: `[deepspeed, --num_gpus, "8", --module,
    theoremllama.train.launch]`."""


@dataclass
class IterateConfig:
    """Expert iteration: rounds of prove -> collect verified proofs -> SFT."""

    problems: str
    """The training problems: a problem file (`Problem` records) or `minif2f:valid|test`."""
    heldout: list = field(default_factory=lambda: list(DEFAULT_HELDOUT))
    """Problem sets that must never be trained on (specs or record files, see `problems.py`)."""
    base_data: str | None = None
    """SFT rows trained on in every round besides the verified proofs (OBT JSONL/JSON/dataset)."""
    output_dir: str = "runs/iterate"
    """Run directory: `round-R/` per round, `rounds.json` (the table of rounds), `config.yaml`."""
    rounds: int = 3
    """Rounds of prove -> collect -> train."""
    samples: int = 32
    """Completions per problem per round."""
    attempt: str = "unsolved"
    """`unsolved`: only problems without a verified proof yet; `all`: every problem that has fewer
    than `max_per_problem` proofs kept (the cap)."""
    max_per_problem: int = 4
    """Most proofs kept per problem over all rounds (shortest first)."""
    limit: int | None = None
    """Use only the first N problems (quick runs)."""
    k_examples: int = 0
    """Worked examples in each prompt, from the proofs verified in earlier rounds (never the
    problem's own). 0: the bare SFT prompt."""
    prompt: str = "nl"
    """Prompt variant (`nl` or `formal`), as in evaluation."""
    seed: int = 0
    """Base seed of the samples (problem, round, sample)."""
    concurrency: int = 64
    """Attempts in flight at once (generating or being verified)."""
    llm: dict = field(default_factory=lambda: {"backend": "vllm", "model": "meta-llama/Meta-Llama-3-8B-Instruct"})
    """Generator of round 0 (`backend`: vllm, hf or openai, and its options). Later rounds replace
    `model` by the previous round's checkpoint."""
    sampling: dict = field(default_factory=lambda: {"temperature": 1.0, "top_p": 0.95, "max_tokens": 1024})
    """`Sampling` fields other than n and seed."""
    verifier: dict = field(default_factory=dict)
    """Verifier options (see `learn/verifier.py`)."""
    train: TrainSection = field(default_factory=TrainSection)
    """Each round's SFT (see TrainSection)."""

    def check(self) -> "IterateConfig":
        for name in ("rounds", "samples", "max_per_problem", "concurrency"):
            _at_least(name, getattr(self, name), 1)
        _at_least("k_examples", self.k_examples, 0)
        if self.limit is not None:
            _at_least("limit", self.limit, 1)
        _one_of("attempt", self.attempt, ATTEMPT_MODES)
        _one_of("prompt", self.prompt, PROMPTS)
        _one_of("train.init", self.train.init, INIT_MODES)
        if not isinstance(self.llm, dict) or self.llm.get("backend") not in ("vllm", "hf", "openai"):
            raise UserError("config key 'llm.backend': must be one of vllm, hf, openai")
        if not Path(self.train.recipe).is_file():
            raise UserError(f"config key 'train.recipe': no such file {self.train.recipe}")
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class RLConfig:
    """GRPO with the Lean verdict as reward."""

    problems: str
    """Prompts: a problem file (`Problem` records) or `minif2f:valid|test`."""
    model: str
    """The policy to train: a hub id or a local HF checkpoint (e.g. an `iterate` round's)."""
    tokenizer: str | None = None
    """Default: the model's."""
    heldout: list = field(default_factory=lambda: list(DEFAULT_HELDOUT))
    """Problem sets that must never be trained on (as in `iterate`)."""
    output_dir: str = "runs/grpo"
    """Checkpoints, `rewards.jsonl` (every completion's verdict and reward), TensorBoard logs."""
    limit: int | None = None
    """Use only the first N problems."""
    prompt: str = "nl"
    """Prompt variant (`nl` or `formal`), as in SFT and evaluation."""
    format_reward: float = 0.0
    """Added to the reward when the completion holds a ```lean4 block with a proof, whatever Lean
    says (a small shaping term; 0 = the Lean verdict alone)."""
    seed: int = 42
    """Seed of initialisation and sampling."""
    precision: str = "auto"
    """`auto` (bf16 on GPUs that support it, else fp32), `bf16`, `fp32`."""
    deepspeed: str | None = None
    """A DeepSpeed JSON (`train/ds_zero2.json`, `ds_zero3.json`); run under `accelerate launch`."""
    lora: dict | None = None
    """`{r, alpha, dropout, target_modules}` for LoRA adapters (peft); None: full fine-tuning."""
    vllm: str = "auto"
    """Generation with vLLM: `auto` (when installed and a GPU is there), `colocate`, `server`, `off`."""
    verifier: dict = field(default_factory=dict)
    """Verifier options (see `learn/verifier.py`)."""
    grpo: dict = field(default_factory=dict)
    """`trl.GRPOConfig` keys as is (num_generations, max_completion_length, learning_rate,
    max_steps, beta, temperature, logging_steps, save_steps, report_to, ...), except those the
    recipe owns (output_dir, seed, deepspeed, bf16, use_vllm, vllm_mode)."""

    OWNED = ("output_dir", "seed", "data_seed", "deepspeed", "bf16", "fp16", "use_cpu", "use_vllm", "vllm_mode")

    def check(self) -> "RLConfig":
        if self.limit is not None:
            _at_least("limit", self.limit, 1)
        _one_of("prompt", self.prompt, PROMPTS)
        _one_of("precision", self.precision, ("auto", "bf16", "fp32"))
        _one_of("vllm", self.vllm, ("auto", "colocate", "server", "off"))
        if self.format_reward < 0:
            raise UserError(f"config key 'format_reward': must be >= 0, got {self.format_reward}")
        if self.deepspeed is not None and not Path(self.deepspeed).is_file():
            raise UserError(f"config key 'deepspeed': no such file {self.deepspeed}")
        owned = [k for k in self.grpo if k in self.OWNED]
        if owned:
            raise UserError(f"config key 'grpo.{owned[0]}' is set by the recipe; use the top-level key instead")
        if self.lora is not None:
            unknown = sorted(set(self.lora) - {"r", "alpha", "dropout", "target_modules"})
            if unknown:
                raise UserError(f"unknown config key 'lora.{unknown[0]}' (known: r, alpha, dropout, target_modules)")
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _at_least(name: str, value, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise UserError(f"config key '{name}': must be an integer >= {low}, got {value!r}")


def _one_of(name: str, value, allowed: tuple) -> None:
    if value not in allowed:
        raise UserError(f"config key '{name}': must be one of {', '.join(allowed)}, got {value!r}")


def load_iterate_config(path: str | Path | None, overrides=()) -> IterateConfig:
    raw = read_yaml_mapping(path) if path else {}
    return build_config(IterateConfig, apply_overrides(raw, overrides)).check()


def load_rl_config(path: str | Path | None, overrides=()) -> RLConfig:
    raw = read_yaml_mapping(path) if path else {}
    return build_config(RLConfig, apply_overrides(raw, overrides)).check()
