"""The SFT recipe: OBT records -> a fine-tuned prover checkpoint, on one process or many.

Read top to bottom; each step is one small function:

    distributed env   -> a single process gets the env DeepSpeed expects (else it looks for MPI)
    tokenizer, records, training order (curriculum or seeded permutation)
    dataset           -> SFTDataset (block training or one record per sequence)
    model             -> from a hub id / path, or from a config with random weights; LoRA optional
    TrainingArguments -> the YAML's `trainer:` keys + what the recipe owns (no shuffling, DeepSpeed)
    OrderedTrainer    -> the HF Trainer drawing batches in OUR order, logging which records it saw
    train             -> resumes from the last checkpoint when there is one
    save              -> final/ in HF format + run_info.json (config, versions, seed), then
                         complete.json: a rerun of a finished run does nothing (and says so)

The same module runs under the `deepspeed` launcher (several GPUs, several nodes): the launcher
sets RANK/WORLD_SIZE/... and passes `--local_rank`, which `cli.py` accepts.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import socket
from pathlib import Path

import torch
import transformers
from transformers import Trainer, TrainingArguments

from theoremllama.data.jsonl import atomic_write_json, trim_jsonl
from theoremllama.errors import UserError
from theoremllama.identity import check_same_run as check
from theoremllama.train.config import TrainConfig
from theoremllama.train.curriculum import OrderedSampler, training_order
from theoremllama.train.dataset import PadCollator, SFTDataset
from theoremllama.train.format import ChatEncoder, load_obt_records

log = logging.getLogger(__name__)

RUN_INFO = "run_info.json"
DATA_ORDER = "data_order.jsonl"
COMPLETE = "complete.json"  # written last, after final/: its presence means the run is finished
FINAL = "final"
# Checkpoint files that are training state, not the model (everything else is what save_model wrote).
TRAINING_STATE_FILES = ("latest", "trainer_state.json", "optimizer.pt", "scheduler.pt", "scaler.pt",
                        "zero_to_fp32.py", "zero_to_torch.py")


def ensure_distributed_env() -> None:
    """Give a process started without a launcher the env of a one-process group (gloo/nccl).

    Without it DeepSpeed falls back to MPI discovery, which fails on machines without mpi4py."""
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        return
    with socket.socket() as s:  # a free port on loopback
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": "0",
                       "WORLD_SIZE": "1", "LOCAL_RANK": "0", "LOCAL_WORLD_SIZE": "1"})


def load_tokenizer(cfg: TrainConfig):
    from transformers import AutoTokenizer

    source = cfg.tokenizer or cfg.model.name_or_path
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as e:
        raise UserError(f"config key 'tokenizer': cannot load a tokenizer from {source!r} ({e})") from None
    if tokenizer.pad_token_id is None:
        # Llama 3 has no pad token; padding positions are masked out of attention and loss anyway.
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def resolve_precision(cfg: TrainConfig) -> str:
    if cfg.precision != "auto":
        return cfg.precision
    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return "bf16"
    return "fp32"


def build_model(cfg: TrainConfig, tokenizer, precision: str):
    from transformers import AutoConfig, AutoModelForCausalLM

    # Under DeepSpeed, bf16 weights are fine: DeepSpeed keeps fp32 master weights in the optimizer.
    # Without it (and for fp16, which uses a loss-scaled fp32 model) the model stays fp32 and
    # autocast does the mixed precision.
    dtype = torch.bfloat16 if precision == "bf16" and cfg.deepspeed else torch.float32
    extra = {"attn_implementation": cfg.model.attn_implementation} if cfg.model.attn_implementation else {}
    if cfg.model.from_config is not None:
        spec = dict(cfg.model.from_config)
        spec.setdefault("vocab_size", len(tokenizer))
        for name in ("pad_token_id", "bos_token_id", "eos_token_id"):
            spec.setdefault(name, getattr(tokenizer, name))
        model_type = spec.pop("model_type")
        try:
            config = AutoConfig.for_model(model_type, **spec)
        except (ValueError, TypeError) as e:
            raise UserError(f"config key 'model.from_config': {e}") from None
        model = AutoModelForCausalLM.from_config(config, dtype=dtype, **extra)
    else:
        try:
            model = AutoModelForCausalLM.from_pretrained(cfg.model.name_or_path, dtype=dtype, **extra)
        except OSError as e:
            raise UserError(f"config key 'model.name_or_path': cannot load {cfg.model.name_or_path!r} ({e})") from None
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        model.resize_token_embeddings(len(tokenizer))
    if cfg.gradient_checkpointing:
        model.config.use_cache = False  # the cache is useless in training and clashes with checkpointing
    if cfg.lora is not None:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha,
                                                 lora_dropout=cfg.lora.dropout,
                                                 target_modules=cfg.lora.target_modules,
                                                 task_type="CAUSAL_LM"))
        if cfg.gradient_checkpointing:
            model.enable_input_require_grads()  # checkpointed blocks need a grad-requiring input
    return model


def deepspeed_config(cfg: TrainConfig) -> dict | None:
    """The DeepSpeed JSON as a dict, adapted to a machine without GPUs."""
    if cfg.deepspeed is None:
        return None
    try:
        ds = json.loads(Path(cfg.deepspeed).read_text())
    except json.JSONDecodeError as e:
        raise UserError(f"config key 'deepspeed': {cfg.deepspeed} is not valid JSON ({e})") from None
    if not torch.cuda.is_available() and isinstance(ds.get("optimizer"), dict):
        # FusedAdam/CPUAdam would be compiled at start-up; on CPU torch's AdamW does the job.
        ds["optimizer"].setdefault("params", {})["torch_adam"] = True
    return ds


def trainer_kwargs(cfg: TrainConfig) -> dict:
    """The YAML's `trainer:` keys as the installed transformers wants them."""
    kwargs = dict(cfg.trainer)
    fields = {f.name for f in dataclasses.fields(TrainingArguments)}
    if "warmup_ratio" in kwargs and "warmup_ratio" not in fields:
        # transformers 5 has no warmup_ratio: a float warmup_steps below 1 is the ratio there.
        ratio = kwargs.pop("warmup_ratio")
        if ratio:
            kwargs["warmup_steps"] = float(ratio)
    return kwargs


def training_arguments(cfg: TrainConfig, precision: str) -> TrainingArguments:
    kwargs = trainer_kwargs(cfg)
    fields = {f.name for f in dataclasses.fields(TrainingArguments)}
    kwargs.setdefault("report_to", "none")
    kwargs.setdefault("save_strategy", "steps")
    kwargs.setdefault("ddp_find_unused_parameters", False)  # every parameter takes part in the loss
    # transformers 5 renamed gradient_checkpointing; 4.x has only the old name.
    kwargs["activation_checkpointing" if "activation_checkpointing" in fields
           else "gradient_checkpointing"] = cfg.gradient_checkpointing
    if "train_sampling_strategy" in fields:
        kwargs["train_sampling_strategy"] = "sequential"  # never shuffled (OrderedTrainer's sampler)
    try:
        return TrainingArguments(
            output_dir=cfg.output_dir,
            seed=cfg.seed,
            deepspeed=deepspeed_config(cfg),
            bf16=precision == "bf16",
            fp16=precision == "fp16",
            use_cpu=not torch.cuda.is_available(),  # needed for multi-process data sharding on CPU
            remove_unused_columns=False,  # keep `record_idx` in the batch; OrderedTrainer drops it
            **kwargs,
        )
    except (TypeError, ValueError) as e:
        raise UserError(f"config key 'trainer': {e}") from None


class OrderedTrainer(Trainer):
    """The HF Trainer, drawing training samples in a fixed order and logging what each step saw."""

    def __init__(self, *args, order: list[int], data_order_log: Path | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.data_order_log = data_order_log

    def _get_train_sampler(self, train_dataset=None):
        # Across processes, accelerate gives each rank every world_size-th batch of this sequence.
        return OrderedSampler(self.order)

    def compute_loss(self, model, inputs, *args, **kwargs):
        record_idx = inputs.pop("record_idx", None)
        if record_idx is not None and self.data_order_log is not None and model.training:
            line = {"step": self.state.global_step + 1, "rank": self.args.process_index,
                    "records": record_idx.tolist()}
            with open(self.data_order_log, "a", encoding="utf-8") as f:  # append + flush per batch
                f.write(json.dumps(line) + "\n")
        return super().compute_loss(model, inputs, *args, **kwargs)


def last_checkpoint(output_dir: str | Path) -> Path | None:
    """The `checkpoint-STEP` directory with the highest step that holds a trainer state."""
    out = Path(output_dir)
    if not out.is_dir():
        return None
    done = [p for p in out.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()
            and (p / "trainer_state.json").is_file()]
    return max(done, key=lambda p: int(p.name.split("-")[-1]), default=None)


def resolve_resume(cfg: TrainConfig) -> str | None:
    if cfg.resume == "never":
        return None
    if cfg.resume == "auto":
        found = last_checkpoint(cfg.output_dir)
        return str(found) if found else None
    if not (Path(cfg.resume) / "trainer_state.json").is_file():
        raise UserError(f"config key 'resume': {cfg.resume} is not a checkpoint directory (no trainer_state.json)")
    return cfg.resume


def trainer_step(checkpoint: str | Path) -> int:
    return int(json.loads((Path(checkpoint) / "trainer_state.json").read_text())["global_step"])


def trim_data_order(path: Path, step: int) -> None:
    """Keep the data-order lines of steps <= `step`: the steps after the checkpoint are redone, and a
    line cut short by a kill is dropped. Atomic (temporary file + rename)."""
    trim_jsonl(path, lambda d: d["step"] <= step)


def _rank() -> int:
    return int(os.environ.get("RANK", "0"))


def check_same_run(cfg: TrainConfig) -> None:
    """Refuse to continue a run in output_dir that was started with other settings."""
    for name in (COMPLETE, RUN_INFO):
        path = Path(cfg.output_dir) / name
        if not path.is_file():
            continue
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))["identity"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            continue  # written before identities were recorded (or torn): nothing to compare
        check(previous, cfg.identity(), where=cfg.output_dir,
              new_run_hint="set another output_dir (--set output_dir=DIR; add --set resume=CHECKPOINT "
                           "to start from one of this run's checkpoints)")
        return


def completed_run(cfg: TrainConfig) -> dict | None:
    """What `complete.json` says if output_dir holds this run, finished (else None)."""
    check_same_run(cfg)
    path = Path(cfg.output_dir) / COMPLETE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def finished_checkpoint(checkpoint: str | None) -> int | None:
    """The step of `checkpoint` if the run had done all its steps when it was saved.

    (The HF Trainer, resumed from such a checkpoint, trains one step past max_steps.)"""
    if not checkpoint:
        return None
    state = json.loads((Path(checkpoint) / "trainer_state.json").read_text())
    if state.get("max_steps") and state["global_step"] >= state["max_steps"]:
        return int(state["global_step"])
    return None


def _publish_final(cfg: TrainConfig, partial: Path, step: int) -> Path:
    """Rank 0: move the finished model into final/ and write complete.json (both atomic)."""
    import shutil

    out = Path(cfg.output_dir)
    final = out / FINAL
    if final.exists():  # an earlier, unfinished attempt at saving (complete.json was never written)
        shutil.rmtree(final)
    os.replace(partial, final)
    info = {"global_step": step, "final": str(final), "identity": cfg.identity()}
    atomic_write_json(out / COMPLETE, info)
    return final


def final_from_checkpoint(cfg: TrainConfig, checkpoint: str, step: int) -> Path:
    """A run killed after its last checkpoint but before final/: final/ is that checkpoint's
    model (the same files `save_model` writes), without its training state."""
    import shutil

    out = Path(cfg.output_dir)
    if _rank() != 0:
        return out / FINAL
    partial = out / (FINAL + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir()
    for f in Path(checkpoint).iterdir():
        if f.is_file() and f.name not in TRAINING_STATE_FILES and not f.name.startswith("rng_state"):
            shutil.copy2(f, partial / f.name)
    shutil.copy2(Path(checkpoint) / "trainer_state.json", out / "trainer_state.json")
    return _publish_final(cfg, partial, step)


def versions() -> dict:
    import deepspeed

    # the package's own version; a top-level import of the parent package would be circular
    import theoremllama

    return {"torch": torch.__version__, "transformers": transformers.__version__,
            "deepspeed": deepspeed.__version__, "theoremllama": theoremllama.__version__}


def write_run_info(cfg: TrainConfig, args: TrainingArguments, n_records: int, n_trained: int,
                   refused_sorry: int = 0) -> None:
    """run_info.json beside the checkpoints: config, identity, versions, seed, world size (rank 0
    only), and the record counts (`records_refused_sorry`: targets holding `sorry`, never trained on)."""
    info = {"config": cfg.to_dict(), "identity": cfg.identity(), "versions": versions(), "seed": cfg.seed,
            "world_size": args.world_size, "records": n_records, "records_trained": n_trained,
            "records_refused_sorry": refused_sorry}
    atomic_write_json(Path(cfg.output_dir) / RUN_INFO, info)  # a killed run never leaves half a file


def train(cfg: TrainConfig) -> Path:
    """Run the recipe; returns the directory of the final model. A finished run is not trained
    again (its final model is returned); a killed one continues from its last checkpoint."""
    done = completed_run(cfg)  # refuses a run started with other settings
    if done is not None:
        log.info("%s holds the finished run (step %s): nothing to do", cfg.output_dir, done["global_step"])
        return Path(done["final"])
    resume = resolve_resume(cfg)
    step = finished_checkpoint(resume)
    if step is not None:
        log.info("%s has done all its steps (%d): writing final/ from it", resume, step)
        return final_from_checkpoint(cfg, resume, step)
    if cfg.deepspeed:
        ensure_distributed_env()
    transformers.set_seed(cfg.seed)
    precision = resolve_precision(cfg)

    # Data first: a bad file or tokenizer is reported before any process group or model exists.
    tokenizer = load_tokenizer(cfg)
    records = load_obt_records(cfg.data)
    if not records:
        raise UserError(f"config key 'data': {cfg.data} holds no records")
    order = training_order(records, curriculum=cfg.curriculum, seed=cfg.seed)
    encoder = ChatEncoder(tokenizer)
    dataset = SFTDataset(encoder.prefix_ids, encoder.encode(records), order, cfg.max_seq_len,
                         block_training=cfg.block_training, block_fill=cfg.block_fill)
    if len(dataset.refused_sorry) == len(records):
        raise UserError(f"config key 'data': every record of {cfg.data} has `sorry` in its target")
    if not dataset.order:
        raise UserError(f"config key 'max_seq_len': no record fits in {cfg.max_seq_len} tokens")

    # Before the model: under ZeRO-3 the arguments make from_pretrained shard weights as they load.
    args = training_arguments(cfg, precision)  # initialises the process group under DeepSpeed
    model = build_model(cfg, tokenizer, precision)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    trainer = OrderedTrainer(model=model, args=args, train_dataset=dataset,
                             data_collator=PadCollator(tokenizer.pad_token_id),
                             processing_class=tokenizer, order=dataset.order,
                             data_order_log=out / DATA_ORDER if cfg.log_data_order else None)
    if args.process_index == 0:
        write_run_info(cfg, args, len(records), len(dataset.order), len(dataset.refused_sorry))
    if resume:
        log.info("resuming from %s", resume)
        if args.process_index == 0 and cfg.log_data_order:
            # No rank reaches its first batch before rank 0 joins DeepSpeed's set-up in train().
            trim_data_order(out / DATA_ORDER, trainer_step(resume))
    trainer.train(resume_from_checkpoint=resume)

    trainer.save_state()  # trainer_state.json (loss history) beside the checkpoints
    partial = out / (FINAL + ".partial")  # renamed to final/ once whole: a kill never leaves half a model
    trainer.save_model(str(partial))  # HF format (ZeRO-3: gathered weights; LoRA: the adapter)
    if args.process_index != 0:
        return out / FINAL
    tokenizer.save_pretrained(str(partial))
    return _publish_final(cfg, partial, trainer.state.global_step)


def shutdown() -> None:
    """End the process group cleanly (exiting with one open can abort the process)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()  # no rank tears the group down while another still uses it
        torch.distributed.destroy_process_group()
