"""The training recipe's configuration: a YAML file, checked, with `--set key=value` overrides.

Every key is documented on `TrainConfig` below; `train/sft.yaml` is the annotated full example.
A wrong key or value raises a UserError naming the key, before any model is loaded.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from theoremllama.config import apply_overrides, build_config, check_model_source, read_yaml_mapping
from theoremllama.errors import UserError

# TrainingArguments fields the recipe sets itself (from the keys above them), so `trainer:` may not.
RECIPE_OWNED_ARGS = ("output_dir", "seed", "data_seed", "deepspeed", "bf16", "fp16", "use_cpu",
                     "remove_unused_columns", "train_sampling_strategy", "gradient_checkpointing",
                     "activation_checkpointing",
                     "resume_from_checkpoint", "ignore_data_skip")

PRECISIONS = ("auto", "bf16", "fp16", "fp32")


@dataclass
class ModelConfig:
    """Which model to fine-tune: exactly one of `name_or_path` and `from_config`."""

    name_or_path: str | None = None
    """A hub id or a local directory with HF weights (e.g. `meta-llama/Meta-Llama-3-8B-Instruct`)."""
    from_config: dict | None = None
    """An HF config as a mapping (must include `model_type`): a model with random weights, for
    smoke runs and tests. Its `vocab_size` defaults to the tokenizer's."""
    attn_implementation: str | None = None
    """`sdpa`, `flash_attention_2`, `eager`; None lets transformers choose."""


@dataclass
class LoraConfig:
    """Low-rank adapters (peft) instead of full fine-tuning."""

    r: int = 16
    """Adapter rank."""
    alpha: int = 32
    """Scaling numerator (`lora_alpha`)."""
    dropout: float = 0.05
    """Dropout on the adapter input."""
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj",
                                                              "gate_proj", "up_proj", "down_proj"])
    """Module names that get adapters (Llama's attention and MLP projections)."""


@dataclass
class TrainConfig:
    """One training run. Paths are relative to the working directory."""

    model: ModelConfig
    """The model to fine-tune (see ModelConfig)."""
    data: str
    """Training records: OBT JSONL, a JSON list, or an HF `datasets` directory (split `train`)."""
    output_dir: str
    """Where checkpoints (`checkpoint-STEP/`, HF format), `run_info.json`, `data_order.jsonl`
    and the final model (`final/`) go."""
    tokenizer: str | None = None
    """Tokenizer hub id or path; default: the model's `name_or_path`. Must have a chat template."""
    max_seq_len: int = 4096
    """Tokens per training sequence (block training fills it with worked examples)."""
    block_training: bool = True
    """Preceding records (in training order) as in-context examples (see `block.py`)."""
    block_fill: str = "exact"
    """`exact`: fill the sequence to max_seq_len, the farthest example cut at its front;
    `whole`: whole examples only."""
    curriculum: bool = True
    """Train easy-to-hard by `curriculum.difficulty` in that fixed order; false: a permutation
    fixed by `seed`."""
    seed: int = 42
    """Seed for initialisation, dropout and (without curriculum) the data order."""
    deepspeed: str | None = None
    """A DeepSpeed JSON config (`train/ds_zero{1,2,3}.json`, `train/ds_zero3_offload.json`);
    None trains without DeepSpeed."""
    precision: str = "auto"
    """`auto` (bf16 on GPUs that support it, else fp32), `bf16`, `fp16` or `fp32`."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass (less memory, ~30% more compute)."""
    lora: LoraConfig | None = None
    """Train LoRA adapters instead of all weights (None: full fine-tuning)."""
    resume: str = "auto"
    """`auto`: continue from the last `checkpoint-*` in output_dir if there is one; `never`;
    or the path of a checkpoint directory."""
    log_data_order: bool = True
    """Append one line per micro-batch to `data_order.jsonl`: step, rank and the records' idx."""
    trainer: dict[str, Any] = field(default_factory=dict)
    """Passed to `transformers.TrainingArguments` as is (batch size, learning rate, schedule,
    epochs or max_steps, logging/save steps...), except the keys in RECIPE_OWNED_ARGS."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def identity(self) -> dict:
        """Everything that changes the trained weights (see `theoremllama.identity`): not where
        the run lives, how it resumes, or how often it logs and saves."""
        ident = self.to_dict()
        for key in ("output_dir", "resume", "log_data_order"):
            ident.pop(key)
        ident["trainer"] = {k: v for k, v in sorted(self.trainer.items()) if k not in OPERATIONAL_TRAINER_ARGS}
        return ident


# TrainingArguments that change how a run is logged, saved or fed, not what it learns.
OPERATIONAL_TRAINER_ARGS = frozenset({
    "logging_steps", "logging_strategy", "logging_first_step", "logging_dir", "report_to", "run_name",
    "save_steps", "save_strategy", "save_total_limit", "save_only_model", "dataloader_num_workers",
    "dataloader_pin_memory", "dataloader_persistent_workers", "dataloader_prefetch_factor",
    "disable_tqdm", "log_level", "log_level_replica",
})


def check(cfg: TrainConfig) -> TrainConfig:
    """Checks across keys (each failure names the key)."""
    m = cfg.model
    if (m.name_or_path is None) == (m.from_config is None):
        raise UserError("config key 'model': give exactly one of 'model.name_or_path' and 'model.from_config'")
    if m.from_config is not None and "model_type" not in m.from_config:
        raise UserError("config key 'model.from_config.model_type' is required (e.g. llama)")
    if cfg.tokenizer is None and m.name_or_path is None:
        raise UserError("config key 'tokenizer' is required when the model is built from a config")
    check_model_source(m.name_or_path, "config key 'model.name_or_path'")
    check_model_source(cfg.tokenizer, "config key 'tokenizer'")
    if cfg.max_seq_len < 16:
        raise UserError(f"config key 'max_seq_len': must be at least 16, got {cfg.max_seq_len}")
    if cfg.block_fill not in ("exact", "whole"):
        raise UserError(f"config key 'block_fill': must be 'exact' or 'whole', got {cfg.block_fill!r}")
    if cfg.precision not in PRECISIONS:
        raise UserError(f"config key 'precision': must be one of {', '.join(PRECISIONS)}, got {cfg.precision!r}")
    if cfg.deepspeed is not None and not Path(cfg.deepspeed).is_file():
        raise UserError(f"config key 'deepspeed': no such file {cfg.deepspeed}")
    owned = [k for k in cfg.trainer if k in RECIPE_OWNED_ARGS]
    if owned:
        raise UserError(f"config key 'trainer.{owned[0]}' is set by the recipe; use the top-level key instead")
    from transformers import TrainingArguments  # only the field names are needed

    known = {f.name: f for f in dataclasses.fields(TrainingArguments)}
    _check_warmup(cfg.trainer)
    unknown = [k for k in cfg.trainer if k not in known and k != "warmup_ratio"]
    if unknown:
        raise UserError(f"unknown config key 'trainer.{unknown[0]}' (not a transformers.TrainingArguments field)")
    for k, v in cfg.trainer.items():
        if k not in known:  # warmup_ratio on transformers 5 (checked above)
            continue
        # YAML 1.1 reads `1e-5` (no dot) as a string; a float field wants the number.
        kind = known[k].type if isinstance(known[k].type, str) else getattr(known[k].type, "__name__", "")
        if isinstance(v, str) and kind.startswith("float"):
            try:
                cfg.trainer[k] = float(v)
            except ValueError:
                raise UserError(f"config key 'trainer.{k}': expected a number, got {v!r}") from None
    return cfg


def _check_warmup(trainer: dict) -> None:
    """`warmup_ratio` (a fraction of all steps) works on every supported transformers: version 5
    dropped the key and reads a float `warmup_steps` below 1 as the ratio instead, while 4.x
    reads `warmup_steps` as a step count (0.03 would mean no warmup at all). The recipe maps the
    ratio onto whichever key the installed version has (`recipe.training_arguments`)."""
    ratio, steps = trainer.get("warmup_ratio"), trainer.get("warmup_steps")
    if ratio is not None:
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 <= ratio < 1:
            raise UserError(f"config key 'trainer.warmup_ratio': expected a number in [0, 1), got {ratio!r}")
        if steps:
            raise UserError("config keys 'trainer.warmup_ratio' and 'trainer.warmup_steps': give one of them")
    if isinstance(steps, float) and not steps.is_integer():
        raise UserError(f"config key 'trainer.warmup_steps': expected a whole number of steps, got {steps!r} "
                        "(for a fraction of all steps use trainer.warmup_ratio)")


def load_config(path: str | Path, overrides: list[str] = ()) -> TrainConfig:
    """Read, override and check a recipe config."""
    raw = apply_overrides(read_yaml_mapping(path), list(overrides))
    if raw.get("lora") is True:  # `lora: true`: LoRA with its defaults
        raw = {**raw, "lora": {}}
    return check(build_config(TrainConfig, raw))
