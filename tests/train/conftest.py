"""Fixtures for the training tests: a tokenizer trained in-process, the shipped OBT-like records,
and a helper that writes a tiny-model recipe config (absolute paths) for a test run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RECORDS = ROOT / "data" / "theoremllama_eval" / "MiniF2F_valid_partial_withProof_commented.json"
TINY_CONFIG = ROOT / "train" / "tiny_cpu.yaml"


@pytest.fixture(scope="session")
def records_path() -> Path:
    return RECORDS


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory) -> Path:
    """A byte-level BPE (1024 tokens, Llama-3-style chat template) trained on the shipped records."""
    from theoremllama.train.smoke_tokenizer import build_tiny_tokenizer, texts_of

    out = tmp_path_factory.mktemp("tiny_tokenizer")
    build_tiny_tokenizer(texts_of(RECORDS), out, vocab_size=1024)
    return out


@pytest.fixture(scope="session")
def tokenizer(tokenizer_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tokenizer_dir))


@pytest.fixture(scope="session")
def make_config(tokenizer_dir):
    """make_config(path, output_dir, **overrides): write a tiny-model config for a test run."""
    return lambda path, output_dir, **overrides: write_config(path, tokenizer_dir, output_dir, **overrides)


def write_config(path: Path, tokenizer_dir: Path, output_dir: Path, **overrides) -> Path:
    """train/tiny_cpu.yaml with absolute paths and `overrides` (dotted keys for nested ones)."""
    cfg = yaml.safe_load(TINY_CONFIG.read_text())
    cfg.update(tokenizer=str(tokenizer_dir), data=str(RECORDS), output_dir=str(output_dir),
               deepspeed=str(ROOT / "train" / "ds_zero2.json"))
    for key, value in overrides.items():
        node = cfg
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path
