"""GRPO end to end on CPU: TRL's real GRPOTrainer on a tiny random Llama, the reward computed by
the real `Verifier` driving the REPL test double (the Lean process is the only thing replaced).

The tiny model's vocabulary holds whole proofs as single tokens (`support.learning`), and
generation is limited to those tokens, one per completion: the random policy writes proofs Lean
(the double) accepts, rejects, refuses, or crashes on, without any scripting of the policy."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from support.learning import FAKE_REPL, ROOT, build_proof_vocab_model, problem, write_jsonl
from theoremllama.cli import main

pytestmark = pytest.mark.slow
STEPS = 4
BATCH = 8  # 2 prompts x 4 generations a step


@pytest.fixture(scope="module")
def rl_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grpo")
    suppress = build_proof_vocab_model(tmp / "model")
    problems = write_jsonl(tmp / "problems.jsonl", [problem(f"q{k}", k) for k in range(1, 5)])
    cfg = {"problems": str(problems), "model": str(tmp / "model"), "output_dir": str(tmp / "out"),
           "verifier": {"repl_cmd": FAKE_REPL, "workers": 2, "timeout": 20}, "precision": "fp32", "seed": 3,
           "grpo": {"num_generations": 4, "per_device_train_batch_size": BATCH, "max_completion_length": 1,
                    "max_steps": STEPS, "logging_steps": 1, "learning_rate": 1e-2, "beta": 0.0,
                    "save_steps": 2, "temperature": 1.0,
                    "generation_kwargs": {"suppress_tokens": suppress}}}
    (tmp / "grpo.yaml").write_text(yaml.safe_dump(cfg))
    code = main(["rl", "--config", str(tmp / "grpo.yaml")])
    assert code == 0
    return tmp / "out"


def _rewards(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "rewards.jsonl").read_text().splitlines()]


def _history(out: Path) -> list[dict]:
    state = json.loads((out / f"checkpoint-{STEPS}" / "trainer_state.json").read_text())
    return [h for h in state["log_history"] if "rewards/lean/mean" in h]


def test_every_completion_is_rewarded_by_its_lean_verdict(rl_run):
    from theoremllama.eval.extract import statement_of
    from theoremllama.lean.job import VerifyJob
    from theoremllama.lean.pool import Verifier

    rows = _rewards(rl_run)
    assert len(rows) == STEPS * BATCH and sorted({r["step"] for r in rows}) == list(range(1, STEPS + 1))
    problems = {f"q{k}": problem(f"q{k}", k) for k in range(1, 5)}
    with Verifier(FAKE_REPL, workers=2, progress=False) as verifier:  # checked again, independently
        verdicts = verifier.verify_many([VerifyJob(id=str(i), statement=statement_of(problems[r["problem"]]["formal_statement"]),
                                                   proof=r["proof"], header="import Mathlib\n") for i, r in enumerate(rows)])
    assert [v.reason for v in verdicts] == [r["reason"] for r in rows]
    assert [r["reward"] for r in rows] == [1.0 if v.passed else 0.0 for v in verdicts]
    reasons = {r["reason"] for r in rows}
    assert {"ok", "error", "crash"} <= reasons  # the double crashed on some, and training went on


def test_logged_metrics_match_the_verdicts_of_the_logged_completions(rl_run):
    by_step = defaultdict(list)
    for r in _rewards(rl_run):
        by_step[r["step"]].append(r)
    history = _history(rl_run)
    assert [h["step"] for h in history] == list(range(1, STEPS + 1))
    for h in history:
        rows = by_step[h["step"]]
        mean = sum(r["reward"] for r in rows) / len(rows)
        assert h["rewards/lean/mean"] == pytest.approx(mean) and h["reward"] == pytest.approx(mean)
        assert h["lean/pass_rate"] == pytest.approx(sum(r["reason"] == "ok" for r in rows) / len(rows))
        assert h["lean/crash"] == pytest.approx(sum(r["reason"] == "crash" for r in rows) / len(rows))
        assert h["lean/failures"] >= h["lean/crash"] and h["lean/verifier_seconds"] > 0
        assert h["completions/mean_length"] == 1.0
    assert any(h["lean/crash"] > 0 for h in history)
    summary = json.loads((rl_run / "rl_summary.json").read_text())
    assert summary["batches"] == STEPS and summary["verdicts"]["crash"] >= 1


def test_training_moved_the_policy(rl_run):
    from safetensors.torch import load_file

    before = load_file(str(rl_run.parent / "model" / "model.safetensors"))
    after = load_file(str(rl_run / "final" / "model.safetensors"))
    assert any(not (before[k] == after[k]).all() for k in before)


def test_held_out_problems_are_refused(tmp_path, capsys):
    rows = [json.loads(line) for line in (Path(__file__).resolve().parents[2] / "data" / "minif2f" /
                                          "minif2f.jsonl").read_text().splitlines()[:1]]
    leaked = problem(rows[0]["name"], 1)
    cfg = {"problems": str(write_jsonl(tmp_path / "p.jsonl", [leaked])), "model": str(tmp_path / "none")}
    (tmp_path / "g.yaml").write_text(yaml.safe_dump(cfg))
    assert main(["rl", "--config", str(tmp_path / "g.yaml")]) == 2
    assert "held out by name" in capsys.readouterr().err


def test_deepspeed_zero2_lora_killed_and_resumed(tmp_path):
    """Real DeepSpeed ZeRO-2 (CPU accelerator) with LoRA adapters, in a subprocess; SIGKILLed once
    it has saved checkpoint-2, then resumed: every step's completions are logged exactly once."""
    import os
    import signal
    import subprocess
    import time

    suppress = build_proof_vocab_model(tmp_path / "model")
    out = tmp_path / "out"
    cfg = {"problems": str(write_jsonl(tmp_path / "p.jsonl", [problem(f"q{k}", k) for k in range(1, 5)])),
           "model": str(tmp_path / "model"), "output_dir": str(out), "deepspeed": str(ROOT / "train" / "ds_zero2.json"),
           "lora": {"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]}, "precision": "fp32",
           "verifier": {"repl_cmd": FAKE_REPL, "workers": 2, "timeout": 20},
           "grpo": {"num_generations": 4, "per_device_train_batch_size": BATCH, "max_completion_length": 1,
                    "max_steps": 4, "logging_steps": 1, "learning_rate": 1e-2, "save_steps": 1,
                    "generation_kwargs": {"suppress_tokens": suppress}}}
    (tmp_path / "g.yaml").write_text(yaml.safe_dump(cfg))
    command = [sys.executable, "-m", "theoremllama.cli", "rl", "--config", str(tmp_path / "g.yaml")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    proc = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoint-2" / "trainer_state.json").is_file():
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the trainer and its REPL workers
        proc.wait()
    assert not (out / "final").exists()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "resuming from" in done.stderr and "checkpoint-" in done.stderr
    steps = [r["step"] for r in _rewards(out)]
    assert sorted(steps) == [s for s in range(1, 5) for _ in range(BATCH)]
    assert (out / "final" / "adapter_model.safetensors").is_file()  # LoRA: the adapter
    assert (out / "checkpoint-4" / "global_step4").is_dir()  # DeepSpeed's own state
