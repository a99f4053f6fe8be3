"""A small byte-level BPE tokenizer with a Llama-3-style chat template, trained in seconds.

For smoke runs, tests and benchmarks on CPU (`train/tiny_cpu.yaml`): no model hub is needed.
Byte-level, so every Lean symbol (ℝ, ∀, ⟨⟩ ...) is encodable; the chat template renders turns
the way Llama 3 Instruct does, so the SFT code paths are the real ones.

    python -m theoremllama.train.smoke_tokenizer --out runs/tiny_tokenizer \
        --data data/theoremllama_eval/MiniF2F_valid_partial_withProof_commented.json
"""

from __future__ import annotations

import argparse
from pathlib import Path
from theoremllama.train.format import load_obt_records, record_answer, record_instruction
from theoremllama.train.prompt import SYSTEM_PROMPT

SPECIAL_TOKENS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                  "<|end_header_id|>", "<|eot_id|>", "<|pad|>"]

# Llama 3 Instruct's template, without its tool-calling and date logic.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)


def build_tiny_tokenizer(texts: list[str], out_dir: str | Path, vocab_size: int = 512):
    """Train a byte-level BPE on `texts`, save it as an HF tokenizer in `out_dir`, and return it."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|begin_of_text|>",
                                   eos_token="<|eot_id|>", pad_token="<|pad|>")
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(str(out_dir))
    return fast


def texts_of(path: str | Path) -> list[str]:
    """The text fields of a records file (OBT or TheoremLlama MiniF2F), to train the BPE on."""
    records = load_obt_records(path)
    return [SYSTEM_PROMPT] + [t for r in records for t in (record_instruction(r), record_answer(r))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="directory to save the tokenizer to")
    parser.add_argument("--data", default="data/theoremllama_eval/MiniF2F_valid_partial_withProof_commented.json")
    parser.add_argument("--vocab-size", type=int, default=512)
    args = parser.parse_args(argv)
    build_tiny_tokenizer(texts_of(args.data), args.out, args.vocab_size)
    print(f"saved a {args.vocab_size}-token tokenizer to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
