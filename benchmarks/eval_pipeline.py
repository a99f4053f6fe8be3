"""Throughput of the evaluation pipeline: generation -> extraction -> verification.

    .venv/bin/python benchmarks/eval_pipeline.py [--problems 20] [--samples 8] [--workers 2] [--verify-ms 200]
    .venv/bin/python benchmarks/eval_pipeline.py --repair 0.5     # half the samples fail and are repaired

The model is the scripted OpenAI-compatible server on loopback (tests/support/openai_server.py)
answering after `--gen-ms`; Lean is the REPL test double (tests/support/fake_lean_repl.py), whose
`double_sleep_<ms>` proofs take `--verify-ms` to check. With generation faster than verification
the pipeline must keep every verifier worker busy: it prints attempts/s and the worker
utilisation = busy_seconds / (workers x wall), which should be >= 90 %.

With `--repair F`, a share F of the fresh samples fails ("unsolved goals") and is repaired once
(`repair.rounds: 1`); the server answers a repair prompt, which holds the error, with a right
proof. Repairs join the queue as failures are verified, interleaved with the fresh samples still
to come: the run prints how many repairs were recorded before the last fresh sample, and the
utilisation must stay >= 90 %.
"""

from __future__ import annotations

import argparse
import hashlib
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
    ap.add_argument("--repair", type=float, default=0.0, metavar="F",
                    help="share of fresh samples that fail and are repaired once (0: plain sampling)")
    args = ap.parse_args()

    problems = [Problem(name=f"bench_{i}", split="valid", header="import Mathlib\n",
                        formal_statement=f"theorem bench_{i} (x : ℕ) : x + 0 = x := by\n",
                        informal_statement="x + 0 = x.", informal_proof="By definition.")
                for i in range(args.problems)]
    answer = f"```lean4\ntheorem bench (x : ℕ) : x + 0 = x := by\n  double_sleep_{args.verify_ms}\n  simp\n```"
    wrong = answer.replace("simp", "double_error")

    def respond(body: dict) -> str:
        if "unsolved goals" in body["messages"][-1]["content"]:
            return answer  # a repair prompt: it shows Lean's error
        digest = hashlib.sha256(str(body["seed"]).encode()).digest()  # a stable coin per sample
        return wrong if int.from_bytes(digest[:4], "big") / 2 ** 32 < args.repair else answer

    fake_repl = [sys.executable, str(ROOT / "tests" / "support" / "fake_lean_repl.py")]
    with tempfile.TemporaryDirectory() as tmp, \
            ScriptedOpenAIServer(respond, latency=args.gen_ms / 1000) as server, \
            Verifier(fake_repl, workers=args.workers, timeout=60, progress=False) as verifier:
        config = EvalConfig(split="valid", rounds=1, samples=args.samples, k_examples=2,
                            concurrency=args.concurrency, output_dir=tmp, report=False,
                            llm={"backend": "openai", "model": "bench", "base_url": server.base_url,
                                 "concurrency": args.concurrency},
                            repair={"rounds": 1} if args.repair > 0 else {})
        start = time.perf_counter()
        result = evaluate(config, problems=problems, seed_examples=[], verifier=verifier, progress=False)
        wall = time.perf_counter() - start
        stats = verifier.stats()
        from theoremllama.eval.attempts import read_attempts

        _, recorded = read_attempts(result.attempts_path)
    attempts = sum(s.attempts for s in result.pipeline)
    repairs = sum(s.repairs for s in result.pipeline)
    last_fresh = max((i for i, a in enumerate(recorded) if a.depth == 0), default=-1)
    interleaved = sum(1 for a in recorded[:last_fresh] if a.depth > 0)
    busy = stats["busy_seconds"]
    workers = stats["workers"]
    ideal = attempts * args.verify_ms / 1000 / workers
    print(f"attempts            {attempts} ({args.problems} problems x {args.samples} samples"
          f" + {repairs} repairs)")
    if repairs:
        print(f"repairs interleaved {interleaved} of {repairs} recorded before the last fresh sample; "
              f"solved {len(result.summary.solved)}/{args.problems}")
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
