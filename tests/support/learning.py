"""Helpers of the learning tests (tests/learn): problem rows, base SFT rows, the REPL double's
command, a tiny Llama config. Test-only; the product never imports this."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAKE_REPL = [sys.executable, str(ROOT / "tests" / "support" / "fake_lean_repl.py")]


def problem(name: str, k: int) -> dict:
    """A training problem no held-out set contains (its statement is made up for the tests)."""
    return {"name": name, "split": "train", "header": "import Mathlib\n",
            "formal_statement": f"theorem {name} (x : ℕ) (h : x = {k}) : x + x = {2 * k} := by\n",
            "informal_statement": f"Show that x + x = {2 * k} when x = {k}.",
            "informal_proof": "Substitute and compute."}


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


BASE_ROWS = [
    {"idx": 7, "Name": "base_add_zero", "Statement": "theorem base_add_zero (n : ℕ) : n + 0 = n :=",
     "Proof": "theorem base_add_zero (n : ℕ) : n + 0 = n := by\n  simp",
     "Generated_informal_statement_and_proof": "Adding zero changes nothing.",
     "Commented_proof": "theorem base_add_zero (n : ℕ) : n + 0 = n := by\n  -- zero is neutral\n  simp"},
    {"idx": 9, "Name": "base_mul_one", "Statement": "theorem base_mul_one (n : ℕ) : n * 1 = n :=",
     "Proof": "theorem base_mul_one (n : ℕ) : n * 1 = n := by\n  simp",
     "Generated_informal_statement_and_proof": "Multiplying by one changes nothing.", "Commented_proof": ""},
]


TINY_MODEL = {"model_type": "llama", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
              "num_attention_heads": 2, "num_key_value_heads": 2, "max_position_embeddings": 1024,
              "tie_word_embeddings": True}


