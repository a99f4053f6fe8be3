"""The Lean reward on one batch, with the real `Verifier` driving the REPL test double: rewards,
the failure/wrong split in the metrics, the per-completion log, the optional format term."""

from __future__ import annotations

import concurrent.futures
import json

import pytest

from support.learning import FAKE_REPL, problem
from theoremllama.data.records import Problem
from theoremllama.lean.pool import Verifier
from theoremllama.learn.reward import LeanReward

PROBLEMS = [Problem.from_dict(problem(n, k)) for k, n in enumerate(["a", "b"], 1)]
COMPLETIONS = ["```lean4\ntheorem a (x : ℕ) : x = x := by\n  norm_num\n```",  # ok
               "by norm_num",                                                 # ok, no block
               "```lean4\ntheorem a (x : ℕ) : x = x := by\n  double_error\n```",  # wrong
               "by\n  double_crash",                                          # verifier failure
               "```lean4\n```",                                               # no proof
               "by sorry"]                                                    # forbidden: wrong
NAMES = ["a", "a", "b", "b", "a", "b"]


class _State:
    global_step = 6


def _call(reward, completions=COMPLETIONS, names=NAMES):
    metrics, extra = {}, {}
    chat = [[{"role": "assistant", "content": c}] for c in completions]  # TRL's conversational shape
    rewards = reward(prompts=[[{"role": "user", "content": "?"}]] * len(chat), completions=chat, problem=names,
                     trainer_state=_State(), log_metric=metrics.__setitem__, log_extra=extra.__setitem__)
    return rewards, metrics, extra


def test_rewards_metrics_and_log(tmp_path):
    with Verifier(FAKE_REPL, workers=2, progress=False) as verifier:
        reward = LeanReward(PROBLEMS, verifier, log_path=tmp_path / "rewards.jsonl")
        rewards, metrics, extra = _call(reward)
    assert rewards == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert extra["verdict"] == ["ok", "ok", "error", "crash", "no_proof", "forbidden"]
    assert metrics["lean/pass_rate"] == pytest.approx(2 / 6)
    assert metrics["lean/wrong"] == pytest.approx(2 / 6) and metrics["lean/no_proof"] == pytest.approx(1 / 6)
    assert metrics["lean/failures"] == metrics["lean/crash"] == pytest.approx(1 / 6)
    assert metrics["lean/timeout"] == 0 and metrics["lean/verifier_seconds"] > 0
    rows = [json.loads(line) for line in (tmp_path / "rewards.jsonl").read_text().splitlines()]
    assert [(r["step"], r["problem"], r["reason"], r["reward"]) for r in rows] == \
        [(7, n, v, w) for n, v, w in zip(NAMES, extra["verdict"], rewards)]
    assert rows[1]["proof"] == "by norm_num" and reward.totals["crash"] == 1


def test_format_term_only_for_a_block_with_a_proof():
    with Verifier(FAKE_REPL, workers=1, progress=False) as verifier:
        rewards, _, _ = _call(LeanReward(PROBLEMS, verifier, format_reward=0.1))
    assert rewards == pytest.approx([1.1, 1.0, 0.1, 0.0, 0.0, 0.0])  # no block: no term


class _Broken:
    """A verifier whose service fails (e.g. a remote verifier that went away)."""

    def submit(self, job):
        if job.id.startswith("a/"):
            raise ConnectionError("verifier unreachable")
        future = concurrent.futures.Future()
        future.set_exception(TimeoutError("no answer"))
        return future


def test_verifier_exceptions_are_failures_not_wrong_proofs():
    rewards, metrics, extra = _call(LeanReward(PROBLEMS, _Broken()), COMPLETIONS[:3], NAMES[:3])
    assert rewards == [0.0, 0.0, 0.0] and extra["verdict"] == ["verifier_error"] * 3
    assert metrics["lean/failures"] == 1.0 and metrics["lean/wrong"] == 0.0


def test_grpo_prompts_are_the_sft_and_eval_format():
    from theoremllama.eval.prompts import build_prompt
    from theoremllama.learn.grpo import build_dataset
    from theoremllama.train.prompt import SYSTEM_PROMPT, build_instruction

    rows = build_dataset(PROBLEMS, "nl").to_list()
    assert [r["problem"] for r in rows] == ["a", "b"]
    assert rows[0]["prompt"] == build_prompt(PROBLEMS[0], [], "nl")
    assert [m["role"] for m in rows[0]["prompt"]] == ["system", "user"]
    assert rows[0]["prompt"][0]["content"] == SYSTEM_PROMPT
    assert rows[1]["prompt"][1]["content"] == build_instruction(
        "Informal statement:\nShow that x + x = 4 when x = 2.\n\nInformal proof:\nSubstitute and compute.",
        "theorem b (x : ℕ) (h : x = 2) : x + x = 4 :=")
