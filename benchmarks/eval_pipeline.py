"""Throughput of the evaluation pipeline: generation -> extraction -> verification.

    .venv/bin/python benchmarks/eval_pipeline.py [--problems 20] [--samples 8] [--workers 2] [--verify-ms 200]

The model is the scripted OpenAI-compatible server on loopback (tests/support/openai_server.py)
answering after `--gen-ms`; Lean is the REPL test double (tests/support/fake_lean_repl.py), whose
`double_sleep_<ms>` proofs take `--verify-ms` to check. With generation faster than verification
the pipeline must keep every verifier worker busy: it prints attempts/s and the worker
utilisation = busy_seconds / (workers x wall), which should be >= 90 %.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.openai_server import ScriptedOpenAIServer  # noqa: E402

from theoremllama.data.records import Problem  # noqa: E402
from theoremllama.eval.config import EvalConfig  # noqa: E402
from theoremllama.eval.evaluate import evaluate  # noqa: E402
from theoremllama.lean.pool import Verifier  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", type=int, default=20)
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2, help="verifier workers (REPL processes)")
    ap.add_argument("--verify-ms", type=int, default=200, help="time the REPL double takes per proof")
    ap.add_argument("--gen-ms", type=int, default=20, help="server latency per completion")
    ap.add_argument("--concurrency", type=int, default=16, help="attempts in flight")
    args = ap.parse_args()

    problems = [Problem(name=f"bench_{i}", split="valid", header="import Mathlib\n",
                        formal_statement=f"theorem bench_{i} (x : ℕ) : x + 0 = x := by\n",
                        informal_statement="x + 0 = x.", informal_proof="By definition.")
                for i in range(args.problems)]
    answer = f"```lean4\ntheorem bench (x : ℕ) : x + 0 = x := by\n  double_sleep_{args.verify_ms}\n  simp\n```"
    fake_repl = [sys.executable, str(ROOT / "tests" / "support" / "fake_lean_repl.py")]
    with tempfile.TemporaryDirectory() as tmp, \
            ScriptedOpenAIServer(lambda body: answer, latency=args.gen_ms / 1000) as server, \
            Verifier(fake_repl, workers=args.workers, timeout=60, progress=False) as verifier:
        config = EvalConfig(split="valid", rounds=1, samples=args.samples, k_examples=2,
                            concurrency=args.concurrency, output_dir=tmp, report=False,
                            llm={"backend": "openai", "model": "bench", "base_url": server.base_url,
                                 "concurrency": args.concurrency})
        start = time.perf_counter()
        result = evaluate(config, problems=problems, seed_examples=[], verifier=verifier, progress=False)
        wall = time.perf_counter() - start
        stats = verifier.stats()
    attempts = sum(s.attempts for s in result.pipeline)
    busy = stats["busy_seconds"]
    workers = stats["workers"]
    ideal = attempts * args.verify_ms / 1000 / workers
    print(f"attempts            {attempts} ({args.problems} problems x {args.samples} samples)")
    print(f"generation          {args.gen_ms} ms/completion, {args.concurrency} in flight")
    print(f"verification        {args.verify_ms} ms/proof (REPL double), {workers} workers")
    print(f"wall                {wall:.2f} s (pipeline {result.pipeline[0].wall_seconds:.2f} s; "
          f"lower bound {ideal:.2f} s)")
    print(f"throughput          {attempts / wall:.2f} attempts/s")
    print(f"worker utilisation  {100 * busy / (workers * wall):.1f} % "
          f"(busy {busy:.2f} s / ({workers} x {wall:.2f} s))")
    print(f"verifier restarts   {stats['restarts']}, header imports {stats['header_imports']}")


if __name__ == "__main__":
    main()
