"""Verifier time as a share of a GRPO step: how much of the step the policy waits for Lean.

CPU only, here: TRL's GRPOTrainer on a tiny random Llama (hidden 32, one layer; the proof-vocabulary
model of the tests, `tests/support/learning.py`), completions of --tokens tokens, the reward from
the project's `Verifier` driving the REPL test double with --workers processes. The double checks
a proof in about a millisecond; --lean-ms makes every check of a statement take at least that long
(the statement carries a `double_sleep_<ms>` hypothesis name), to stand in for real Lean. Prints,
per setting, the mean step time, the mean verifier time per step (the reward's batched
verification) and the share. These are CPU figures of a toy policy: they say how the share moves
with Lean's latency and the worker count, not what it is on a GPU with a 1B+ policy.

    python benchmarks/grpo_verifier_share.py --steps 4 --lean-ms 0 50 200 --workers 1 4
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
DOUBLE = [sys.executable, str(ROOT / "tests" / "support" / "fake_lean_repl.py")]


def run_once(tmp: Path, model_dir: Path, suppress: list[int], steps: int, lean_ms: int, workers: int,
             generations: int, prompts: int, tokens: int) -> tuple[float, float]:
    from transformers import TrainerCallback

    from support.learning import write_jsonl
    from theoremllama.learn import grpo
    from theoremllama.learn.config import RLConfig
    from theoremllama.lean.pool import Verifier

    hyp = f"(double_sleep_{lean_ms} : ℕ) " if lean_ms else ""
    rows = [{"name": f"q{k}", "split": "train", "header": "import Mathlib\n",
             "formal_statement": f"theorem q{k} {hyp}(x : ℕ) (h : x = {k}) : x + x = {2 * k} := by\n"}
            for k in range(1, 9)]
    out = tmp / f"out-{lean_ms}-{workers}"
    config = RLConfig(problems=str(write_jsonl(tmp / "p.jsonl", rows)), model=str(model_dir), output_dir=str(out),
                      heldout=[], precision="fp32", vllm="off",
                      grpo={"num_generations": generations, "per_device_train_batch_size": generations * prompts,
                            "max_completion_length": tokens, "max_steps": steps, "logging_steps": 1,
                            "save_strategy": "no", "beta": 0.0, "disable_tqdm": True, "learning_rate": 1e-3,
                            "generation_kwargs": {"suppress_tokens": suppress}})

    class Logs(TrainerCallback):  # TRL logs both per step: step_time and our lean/verifier_seconds
        rows: list[dict] = []

        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "step_time" in logs:
                self.rows.append(dict(logs))

    logs = Logs()
    logs.rows = []
    with Verifier(DOUBLE, workers=workers, timeout=60, progress=False) as verifier, \
            open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
        grpo.train(config, verifier=verifier, callbacks=[logs])
    timed = logs.rows[1:]  # the first step pays for starting the workers and importing headers
    step = sum(r["step_time"] for r in timed) / len(timed)
    verify = sum(r["lean/verifier_seconds"] for r in timed) / len(timed)
    return step, verify


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--lean-ms", type=int, nargs="+", default=[0, 50, 200])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--prompts", type=int, default=2, help="prompts per step")
    parser.add_argument("--tokens", type=int, default=32, help="completion tokens")
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from support.learning import PROOF_TOKENS, build_proof_vocab_model

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        suppress = build_proof_vocab_model(tmp / "model")
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(tmp / "model")
        # no crash (restarts) and no sorry (refused before Lean runs): every completion goes to Lean
        suppress = suppress + tok.convert_tokens_to_ids([t for t in PROOF_TOKENS if "crash" in t or "sorry" in t])
        print(f"GRPO step on CPU: {args.prompts} prompts x {args.generations} completions x {args.tokens} tokens, "
              f"tiny policy; {args.steps - 1} timed steps each")
        print("| Lean latency / proof | workers | step (s) | verifier (s) | verifier share |")
        print("|---|---|---|---|---|")
        for lean_ms in args.lean_ms:
            for workers in args.workers:
                step, verify = run_once(tmp, tmp / "model", suppress, args.steps, lean_ms, workers,
                                        args.generations, args.prompts, args.tokens)
                print(f"| {lean_ms} ms | {workers} | {step:.3f} | {verify:.3f} | {100 * verify / step:.0f} % |",
                      flush=True)


if __name__ == "__main__":
    main()
