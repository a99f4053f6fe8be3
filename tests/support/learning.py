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




# Whole proofs as single tokens: a tiny random model whose completions are one token each
# (everything else suppressed at generation) writes a proof the REPL double accepts, rejects,
# refuses as forbidden, or crashes on.
PROOF_TOKENS = ["by norm_num", "by double_error", "by double_crash", "by sorry"]


def build_proof_vocab_model(out: Path, seed: int = 0) -> list[int]:
    """Save a tiny random Llama and a word-level tokenizer (Llama-3-style chat template) to `out`;
    return the ids of every token that is not a whole proof (to suppress at generation)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from theoremllama.train.smoke_tokenizer import CHAT_TEMPLATE, SPECIAL_TOKENS

    words = ["[UNK]", "theorem", "x", ":", ":=", "lean4", "```"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]")
    fast.add_special_tokens({"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "pad_token": "<|pad|>",
                             "additional_special_tokens": [t for t in SPECIAL_TOKENS if t not in
                                                           ("<|begin_of_text|>", "<|eot_id|>", "<|pad|>")]})
    fast.add_tokens(PROOF_TOKENS)
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(out)
    torch.manual_seed(seed)
    config = LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                         num_key_value_heads=2, vocab_size=len(fast), max_position_embeddings=2048,
                         bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                         pad_token_id=fast.pad_token_id, tie_word_embeddings=True)
    LlamaForCausalLM(config).save_pretrained(out)
    proof_ids = set(fast.convert_tokens_to_ids(PROOF_TOKENS))
    return [i for i in range(len(fast)) if i not in proof_ids]
