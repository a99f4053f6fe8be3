"""Fixtures for the learning tests: problem files, a tokenizer trained in-process, a tiny
random Llama saved in HF format, and a tiny SFT recipe (no hub access anywhere)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from support.learning import ROOT, TINY_MODEL  # noqa: F401


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory) -> Path:
    """A small byte-level BPE with a Llama-3-style chat template, trained in a second."""
    from theoremllama.train.smoke_tokenizer import build_tiny_tokenizer
    from theoremllama.train.prompt import SYSTEM_PROMPT

    out = tmp_path_factory.mktemp("tokenizer")
    texts = [SYSTEM_PROMPT, "theorem p (x : ℕ) (h : x = 2) : x + x = 4 := by norm_num",
             "by\n  simp [h]\n  omega", "Natural language version of theorem and proof:"] * 10
    build_tiny_tokenizer(texts, out, vocab_size=320)
    return out


@pytest.fixture(scope="session")
def tiny_recipe(tmp_path_factory, tokenizer_dir) -> Path:
    """train/tiny_cpu.yaml made smaller still: 6 steps, a checkpoint every 2, no DeepSpeed."""
    cfg = yaml.safe_load((ROOT / "train" / "tiny_cpu.yaml").read_text())
    cfg["model"] = {"from_config": dict(TINY_MODEL)}
    cfg.update(tokenizer=str(tokenizer_dir), data="unused", output_dir="unused", deepspeed=None,
               max_seq_len=256, block_training=False)
    cfg["trainer"].update(max_steps=6, save_steps=2, per_device_train_batch_size=2, save_total_limit=None)
    path = tmp_path_factory.mktemp("recipe") / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path
