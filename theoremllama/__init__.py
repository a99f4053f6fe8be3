"""theoremllama: turn a general-purpose LLM into a Lean 4 prover.

Stages (each a subpackage, talking to the others only through records and files):
  lean/       the Lean REPL harness and the verdict policy
  data/       typed records, JSONL / HF datasets I/O, MiniF2F, theorem extraction
  llm/        generation backends (OpenAI-compatible, vLLM, HF) and example retrieval
  bootstrap/  NL-FL bootstrapping into an OBT dataset
  train/      SFT with DeepSpeed, block training, curriculum sorting
  eval/       MiniF2F evaluation with iterative proof writing, pass@k, reports
"""

__version__ = "0.1.0"
