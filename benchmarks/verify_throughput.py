"""How much the verification harness costs on top of the REPL, and how it scales.

    .venv/bin/python benchmarks/verify_throughput.py [--proofs 2000] [--sleep-ms 40] [--sleep-proofs 120]

Figures printed:
  1. harness overhead per proof (target < 2 ms): the Verifier checking N trivial proofs with one
     worker, minus a bare `LeanRepl` sending the very same requests (header import, then per proof
     the proof and its check commands, plus the one reference-type command) to the same REPL;
  2. throughput with 1 and 2 workers on proofs that each keep the REPL busy for --sleep-ms
     (`double_sleep_<ms>`: the "REPL" dominates, as Lean does), and the scaling efficiency
     (target >= 0.9 x linear);
  3. header imports per batch (target: one per worker, plus restarts);
  4. with a real REPL (THEOREMLLAMA_REPL_CMD or `setup-lean`'s): proofs/s with header reuse vs
     importing the header for every proof;
  5. Lean checks saved by checking identical proofs once, on a MiniF2F-like batch (--problems
     problems x --samples samples each, as in the paper's 128 samples per problem) with this
     duplicate model, stated because no sampled completions ship with the project:
       - a problem is "short" with probability 49/106: of the 106 MiniF2F-valid proofs shipped in
         data/examples, 49 are a single tactic (`apply Eq.refl`, `ring`, `linarith`, `norm_num`,
         ...). For a short problem a sampling model mostly writes one of a few one-line tactic
         proofs: each sample is drawn from 16 one-liners with Zipf(1) weights;
       - on the other problems proofs are long and mostly differ: a sample repeats an earlier one
         of the same problem with probability 5%.
     The figure is measured, not computed: the batch goes through the Verifier and the REPL
     double logs every request; a Lean check is one proof request.
Items 1-3 and 5 use the REPL test double (tests/support/fake_lean_repl.py): it is a benchmark of
the harness, not of Lean. Jobs of items 1-4 are all distinct (a comment numbers them), so that
no check is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from theoremllama.errors import UserError  # noqa: E402
from theoremllama.lean import Verifier, VerifyJob  # noqa: E402
from theoremllama.lean.repl import LeanRepl  # noqa: E402
from theoremllama.lean.job import prepare_job  # noqa: E402
from theoremllama.lean.worker import check_commands, reference_code  # noqa: E402

DOUBLE = [sys.executable, str(ROOT / "tests" / "support" / "fake_lean_repl.py")]
HEADER = "import Mathlib\nimport Aesop\nset_option maxHeartbeats 400000\nopen BigOperators Real Nat Topology Rat\n"
STATEMENT = "theorem bench (x : ℕ) (h : x = 2) : x + x = 4 := by\n"


def jobs(n: int, proof: str) -> list[VerifyJob]:
    """n distinct jobs (identical ones would share one check)."""
    return [VerifyJob(str(i), STATEMENT, f"{proof}\n  -- attempt {i}", HEADER) for i in range(n)]


def bare_round_trips(n: int, repl_cmd: list[str]) -> float:
    """Seconds for a bare LeanRepl to send the requests the Verifier sends for n trivial proofs."""
    p = prepare_job(jobs(1, "  norm_num")[0])
    with LeanRepl(repl_cmd) as repl:
        start = time.perf_counter()
        header_env = repl.command(p.header, timeout=60).env
        for i in range(n):
            reply = repl.command(p.body, header_env, timeout=60)
            repl.command(check_commands(p.name), reply.env, timeout=60)
            if i == 0:
                repl.command(reference_code(p.statement, p.name), header_env, timeout=60)
        return time.perf_counter() - start


def verifier_time(n: int, repl_cmd: list[str], workers: int, proof: str) -> tuple[float, dict]:
    with Verifier(repl_cmd, workers=workers, timeout=60, max_uses=10**9, progress=False) as v:
        start = time.perf_counter()
        out = v.verify_many(jobs(n, proof))
        elapsed = time.perf_counter() - start
        stats = v.stats()
    bad = [x for x in out if not x.passed]
    if bad:
        raise SystemExit(f"benchmark proofs failed: {bad[0]}")
    return elapsed, stats


def overhead(n: int, repeats: int) -> None:
    rows = []
    for _ in range(repeats):
        bare = bare_round_trips(n, DOUBLE)
        harness, stats = verifier_time(n, DOUBLE, 1, "  norm_num")
        rows.append((bare, harness, stats))
    bare = statistics.median(r[0] for r in rows)
    harness = statistics.median(r[1] for r in rows)
    per_proof_ms = (harness - bare) / n * 1000
    print(f"1. overhead: {n} trivial proofs, 1 worker (median of {repeats}): bare LeanRepl {bare:.3f}s "
          f"({bare / n * 1000:.3f} ms/proof, {2 * n + 2} requests), Verifier {harness:.3f}s "
          f"({harness / n * 1000:.3f} ms/proof) -> harness overhead {per_proof_ms:.3f} ms/proof (target < 2 ms)")


def scaling(n: int, sleep_ms: int) -> None:
    proof = f"  double_sleep_{sleep_ms}\n  norm_num"
    t1, s1 = verifier_time(n, DOUBLE, 1, proof)
    t2, s2 = verifier_time(n, DOUBLE, 2, proof)
    r1, r2 = n / t1, n / t2
    print(f"2. throughput, {n} proofs of {sleep_ms} ms each: 1 worker {r1:.2f} proofs/s ({t1:.2f}s), "
          f"2 workers {r2:.2f} proofs/s ({t2:.2f}s) -> {r2 / r1:.3f}x, efficiency {r2 / r1 / 2:.3f} of linear "
          f"(target >= 0.9); ideal 1-worker rate {1000 / sleep_ms:.2f} proofs/s")
    print(f"3. header imports per batch: 1 worker {s1['header_imports']} (restarts {s1['restarts']}), "
          f"2 workers {s2['header_imports']} (restarts {s2['restarts']}) (target: workers + restarts)")


def real_lean(n: int) -> None:
    from theoremllama.lean.setup import resolve_repl_command

    try:
        argv, cwd, env = resolve_repl_command()
    except UserError as e:
        print(f"4. real REPL: skipped ({e})")
        return
    header = "import Mathlib\n"
    statement = "theorem real_bench (a b : ℕ) : a + b = b + a :="
    with Verifier(workers=1, timeout=300, progress=False) as v:  # the same REPL, resolved the same way
        start = time.perf_counter()
        out = v.verify_many([VerifyJob(str(i), statement, f"by omega -- attempt {i}", header) for i in range(n)])
        reuse = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(n):
        with LeanRepl(argv, cwd=cwd, env=env) as repl:
            repl.command(header + statement + " by omega", timeout=300)
    fresh = time.perf_counter() - start
    print(f"4. real REPL ({' '.join(argv)}), {n} proofs, 1 worker: header reuse {n / reuse:.2f} proofs/s "
          f"({sum(x.passed for x in out)} passed); importing the header per proof {n / fresh:.2f} proofs/s "
          f"-> {fresh / reuse:.1f}x")


SHORT_FRACTION = 49 / 106
"""Shipped MiniF2F-valid proofs that are a single tactic (data/examples/minif2f_valid_commented.jsonl)."""
ONE_LINERS = ["norm_num", "linarith", "nlinarith", "simp", "ring", "omega", "decide", "positivity",
              "norm_num [h]", "simp_all", "linarith [h]", "field_simp", "ring_nf", "nlinarith [h]",
              "apply Eq.refl", "rfl"]
LONG_REPEAT = 0.05


def minif2f_like_batch(problems: int, samples: int, seed: int) -> list[VerifyJob]:
    """`samples` proofs for each of `problems` problems under the duplicate model of item 5."""
    rng = random.Random(seed)
    weights = [1 / (k + 1) for k in range(len(ONE_LINERS))]  # Zipf(1)
    batch = []
    for p in range(problems):
        statement = f"theorem mf{p} (x : ℕ) (h : x = 2) : x + x = 4 := by\n"
        short = rng.random() < SHORT_FRACTION
        written: list[str] = []
        for i in range(samples):
            if short:
                proof = "  " + rng.choices(ONE_LINERS, weights)[0]
            elif written and rng.random() < LONG_REPEAT:
                proof = rng.choice(written)
            else:
                proof = f"  have step{i} : x = 2 := h\n  subst h\n  norm_num"
            written.append(proof)
            batch.append(VerifyJob(f"mf{p}-{i}", statement, proof, HEADER))
    return batch


def duplicates(problems: int, samples: int, seed: int) -> None:
    batch = minif2f_like_batch(problems, samples, seed)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "requests.jsonl"
        os.environ["FAKE_LEAN_REPL_LOG"] = str(log)  # the double appends every request it receives
        try:
            with Verifier(DOUBLE, workers=2, timeout=60, max_uses=10**9, progress=False) as v:
                start = time.perf_counter()
                out = v.verify_many(batch)
                elapsed = time.perf_counter() - start
                stats = v.stats()
        finally:
            del os.environ["FAKE_LEAN_REPL_LOG"]
        requests = [json.loads(line)["request"] for line in log.read_text(encoding="utf-8").splitlines()]
    checks = sum(1 for r in requests if "env" in r and "#check" not in r["cmd"])
    distinct = len({(j.statement, j.proof) for j in batch})
    if checks != distinct or stats["shared"] != len(batch) - distinct or len(out) != len(batch):
        raise SystemExit(f"identical proofs were not checked once: {checks} checks, {distinct} distinct jobs")
    print(f"5. identical proofs, MiniF2F-like batch of {problems} problems x {samples} samples = {len(batch)} proofs "
          f"(short problems {SHORT_FRACTION:.0%}: 16 one-liners, Zipf(1); others repeat {LONG_REPEAT:.0%}): "
          f"{checks} Lean checks instead of {len(batch)} -> {1 - checks / len(batch):.1%} saved "
          f"({elapsed:.1f}s with the double)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proofs", type=int, default=2000, help="trivial proofs for the overhead figure")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sleep-ms", type=int, default=40)
    parser.add_argument("--sleep-proofs", type=int, default=120)
    parser.add_argument("--real-proofs", type=int, default=8)
    parser.add_argument("--problems", type=int, default=244, help="problems in the duplicate batch (item 5; MiniF2F-valid has 244)")
    parser.add_argument("--samples", type=int, default=128, help="samples per problem (item 5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only-duplicates", action="store_true", help="run item 5 only")
    args = parser.parse_args()
    if not args.only_duplicates:
        overhead(args.proofs, args.repeats)
        scaling(args.sleep_proofs, args.sleep_ms)
        real_lean(args.real_proofs)
    duplicates(args.problems, args.samples, args.seed)


if __name__ == "__main__":
    main()
