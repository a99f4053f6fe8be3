"""The Lean reward for GRPO: each completion's proof checked by the project's verifier.

    reward = 1 if Lean accepts the proof (verdict `ok`) else 0      (+ `format_reward` if the
             completion holds a ```lean4 block with a proof, off by default)

A batch of completions is checked at once: every proof is submitted to the verifier before any
verdict is awaited, so the REPL workers check them in parallel. Three kinds of zero are kept
apart in the logs, because they mean different things:

    wrong     Lean rejected the proof (error, sorry, axiom, statement, forbidden) or no proof was
              found in the completion (no_proof): the policy's fault, the signal GRPO learns from
    failure   the verifier failed (crash, timeout, memory, or an exception from the verifier
              itself): not the policy's fault; counted, logged, and training goes on

Per step it logs (through TRL's `log_metric`, so to TensorBoard / W&B with the built-in metrics):
`lean/pass_rate`, `lean/wrong`, `lean/no_proof`, `lean/failures`, `lean/crash`, `lean/timeout`
(fractions of the batch) and `lean/verifier_seconds` (wall time of the batch's verification);
and every completion, its proof, verdict and reward to `rewards.jsonl` in the output directory
(one line each, flushed as written).
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import time
from collections import Counter
from pathlib import Path

from theoremllama.data.records import Problem
from theoremllama.eval.extract import extract_proof, statement_of
from theoremllama.lean.job import VerifyJob
from theoremllama.train.prompt import extract_lean_block

log = logging.getLogger(__name__)

FAILURES = ("crash", "timeout", "memory", "verifier_error")
NO_PROOF = "no_proof"


def completion_text(completion) -> str:
    """A completion as text: TRL passes chat completions as a list of messages."""
    if isinstance(completion, str):
        return completion
    return "".join(m.get("content") or "" for m in completion if m.get("role", "assistant") == "assistant")


class LeanReward:
    """A TRL reward function (`reward_funcs=[LeanReward(...)]`); the dataset's `problem` column
    names the problem each prompt asks."""

    __name__ = "lean"  # TRL names the reward's metrics after it: rewards/lean/mean

    def __init__(self, problems: list[Problem], verifier, *, log_path: str | Path | None = None,
                 format_reward: float = 0.0):
        self.problems = {p.name: p for p in problems}
        self.verifier = verifier
        self.format_reward = float(format_reward)
        self.log_path = Path(log_path) if log_path is not None else None
        self.batches = 0
        self.totals: Counter = Counter()
        """Verdict reasons over all batches (for the run's summary)."""
        self.verifier_seconds = 0.0

    def __call__(self, prompts, completions, problem, trainer_state=None, log_metric=None, log_extra=None,
                 **_) -> list[float]:
        # the optimizer step these completions are trained in (TRL generates before it counts the step)
        step = int(getattr(trainer_state, "global_step", self.batches)) + 1
        texts = [completion_text(c) for c in completions]
        proofs = [extract_proof(t) for t in texts]
        reasons: list[str] = [NO_PROOF] * len(texts)
        seconds = [0.0] * len(texts)
        start = time.perf_counter()
        futures: dict[int, concurrent.futures.Future] = {}
        for i, (name, proof) in enumerate(zip(problem, proofs)):
            if not proof:
                continue
            p = self.problems[name]
            job = VerifyJob(id=f"{name}/step{step}/{i}", statement=statement_of(p.formal_statement),
                            proof=proof, header=p.header)
            try:
                futures[i] = self.verifier.submit(job)
            except Exception as e:  # noqa: BLE001 - the verifier failed, not the policy
                reasons[i] = "verifier_error"
                log.warning("verifier refused %s: %s", job.id, e)
        for i, future in futures.items():
            try:
                verdict = future.result()
                reasons[i], seconds[i] = verdict.reason, verdict.seconds
            except Exception as e:  # noqa: BLE001
                reasons[i] = "verifier_error"
                log.warning("verifier failed on %s/%d: %s", problem[i], i, e)
        elapsed = time.perf_counter() - start
        rewards = [(1.0 if r == "ok" else 0.0)
                   + (self.format_reward if self.format_reward and proofs[i] and extract_lean_block(texts[i]) is not None
                      else 0.0)
                   for i, r in enumerate(reasons)]
        self._account(step, problem, texts, proofs, reasons, seconds, rewards, elapsed, log_metric, log_extra)
        return rewards

    def _account(self, step, problem, texts, proofs, reasons, seconds, rewards, elapsed, log_metric, log_extra):
        n = max(1, len(reasons))
        counts = Counter(reasons)
        self.batches += 1
        self.totals.update(counts)
        self.verifier_seconds += elapsed
        failures = sum(counts[r] for r in FAILURES)
        figures = {"lean/pass_rate": counts["ok"] / n,
                   "lean/wrong": (n - counts["ok"] - failures - counts[NO_PROOF]) / n,
                   "lean/no_proof": counts[NO_PROOF] / n,
                   "lean/failures": failures / n,
                   "lean/crash": counts["crash"] / n,
                   "lean/timeout": counts["timeout"] / n,
                   "lean/verifier_seconds": elapsed}
        if log_metric is not None:
            for name, value in figures.items():
                log_metric(name, value)
        if log_extra is not None:
            log_extra("verdict", list(reasons))
        if failures:
            log.warning("step %d: %d of %d completions not judged by Lean (verifier failures: %s); reward 0, "
                        "training goes on", step, failures, len(reasons),
                        ", ".join(f"{r}={counts[r]}" for r in FAILURES if counts[r]))
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "a", encoding="utf-8") as f:
                for i in range(len(reasons)):
                    f.write(json.dumps({"step": step, "problem": problem[i], "completion": texts[i],
                                        "proof": proofs[i], "reason": reasons[i], "reward": rewards[i],
                                        "seconds": round(seconds[i], 4)}, ensure_ascii=False) + "\n")
                f.flush()
