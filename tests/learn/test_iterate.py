"""Expert iteration end to end, with exact counts.

The model is behind a real HTTP server on loopback (the scripted OpenAI-compatible server: only
the model is replaced, at the network boundary); its replies are scripted per (problem, round,
sample), the round read from the `model` each request names (round r+1 must ask for round r's
checkpoint). Lean is the REPL test double driven by the real `Verifier`; training is the real SFT
recipe (a tiny random Llama) run as the subprocess `iterate` launches. Kills are real: the
server failing mid-round, and SIGKILL of the training process once it has saved a checkpoint.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest
import yaml

from support.learning import BASE_ROWS, FAKE_REPL, problem, write_jsonl
from support.openai_server import Fault, ScriptedOpenAIServer
from theoremllama.errors import UserError
from theoremllama.eval.attempts import read_attempts
from theoremllama.eval.pipeline import sample_seed
from theoremllama.learn.config import load_iterate_config
from theoremllama.learn.iterate import iterate

pytestmark = pytest.mark.slow

NAMES = ["p1", "p2", "p3", "p4"]
SAMPLES = 4


def _block(proof: str) -> str:
    return f"```lean4\ntheorem whatever (x : ℕ) : x = x := {proof}\n```"


# What the model answers for each (problem, round): one completion per sample.
SCRIPT = {
    # 4 pass; samples 0 and 1 are the same code (comments differ): 1 duplicate; the cap (2) keeps
    # the two shortest, `norm_num` (s0) and `linarith` (s3); `simp [h] omega` is over the cap.
    ("p1", 0): ["by\n  norm_num", "by\n  -- add\n  norm_num", "by\n  simp [h]\n  omega", "by\n  linarith"],
    ("p2", 0): ["by\n  double_error", "by\n  double_error", "by\n  omega", "by\n  sorry"],     # 1 passes
    ("p3", 0): ["by\n  double_error"] * 4,                                                    # none
    ("p4", 0): ["```lean\n```", "by\n  double_crash", "by\n  double_error", "by\n  fail"],   # none: no proof, crash
    # round 1 asks only the unsolved p3 and p4
    ("p3", 1): ["by\n  nlinarith [h]", "by\n  nlinarith [h]", "by\n  double_error", "by\n  positivity"],
    ("p4", 1): ["by\n  double_error"] * 4,
}
ROUND0 = {"attempts": 16, "passed": 5, "new_proofs": 3, "duplicates": 1, "over_cap": 1, "solved": 2}
ROUND1 = {"attempts": 8, "passed": 3, "new_proofs": 2, "duplicates": 1, "over_cap": 0, "solved": 1}


class Model:
    """The scripted model: which (problem, round, sample) a request is, from its seed and model."""

    def __init__(self, run_dir: Path):
        self.by_seed = {sample_seed(0, p, r, s): (p, r, s) for p in NAMES for r in (0, 1) for s in range(SAMPLES)}
        self.run_dir = run_dir
        self.fail_after: int | None = None
        self.answered = 0
        self.asked: list[tuple[str, int, int]] = []
        self.examples: dict[tuple, list[str]] = {}

    def __call__(self, body: dict):
        p, r, s = self.by_seed[body["seed"]]
        want = "base" if r == 0 else str((self.run_dir / f"round-{r - 1}" / "train" / "final").resolve())
        assert body["model"] == want, (body["model"], want)
        if self.fail_after is not None and self.answered >= self.fail_after:
            return Fault(status=400)  # not retried: the run stops here, as if killed
        self.answered += 1
        self.asked.append((p, r, s))
        self.examples[(p, r, s)] = [m["content"] for m in body["messages"] if m["role"] == "assistant"]
        text = SCRIPT[(p, r)][s]
        return text if text.startswith("```") else _block(text)


def _config(tmp_path: Path, server, tiny_recipe: Path, **overrides) -> Path:
    problems = write_jsonl(tmp_path / "problems.jsonl", [problem(n, k) for k, n in enumerate(NAMES, 1)])
    base = write_jsonl(tmp_path / "base.jsonl", BASE_ROWS)
    cfg = {"problems": str(problems), "base_data": str(base), "output_dir": str(tmp_path / "run"),
           "rounds": 2, "samples": SAMPLES, "max_per_problem": 2, "concurrency": 2, "seed": 0, "k_examples": 1,
           "llm": {"backend": "openai", "model": "base", "base_url": server.base_url, "max_retries": 0},
           "sampling": {"temperature": 1.0, "max_tokens": 64},
           "verifier": {"repl_cmd": FAKE_REPL, "workers": 1, "timeout": 20},
           "train": {"recipe": str(tiny_recipe)}}
    cfg.update(overrides)
    path = tmp_path / "iterate.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def _kill_training_at_checkpoint(run_dir: Path, stop: threading.Event) -> threading.Thread:
    """SIGKILL the training process of round 0 once it has saved checkpoint-2 (of 6 steps)."""
    def watch():
        train = run_dir / "round-0" / "train"
        while not stop.is_set():
            if (train / "checkpoint-2" / "trainer_state.json").is_file():
                for pid in _children_running("theoremllama.cli"):
                    os.kill(pid, signal.SIGKILL)
                return
            time.sleep(0.05)
    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


def _children_running(needle: str) -> list[int]:
    import psutil

    return [c.pid for c in psutil.Process().children(recursive=True)
            if any(needle in part for part in c.cmdline())]


def _quiet(*_):
    pass


@pytest.fixture(scope="module")
def run(tmp_path_factory, tiny_recipe):
    """The whole scenario, killed twice on the way; each stage's state is kept for the tests."""
    tmp = tmp_path_factory.mktemp("iterate")
    model = Model(tmp / "run")
    states = {}
    with ScriptedOpenAIServer(model) as server:
        config_path = _config(tmp, server, tiny_recipe)
        config = load_iterate_config(config_path)
        # 1. the model server fails after 6 answers: round 0's prove stage stops half-way
        model.fail_after = 6
        with pytest.raises(Exception):
            iterate(config, progress=False, log=_quiet)
        _, before = read_attempts(tmp / "run" / "round-0" / "attempts.jsonl")
        states["killed_prove"] = {"recorded": {a.key for a in before},
                                  "markers": sorted(p.name for p in (tmp / "run" / "round-0").glob("*.done"))}
        # 2. the rerun asks only for the rest; its training is SIGKILLed after checkpoint-2
        model.fail_after, asked_before = None, len(model.asked)
        stop = threading.Event()
        watcher = _kill_training_at_checkpoint(tmp / "run", stop)
        with pytest.raises(UserError, match="training failed"):
            iterate(config, progress=False, log=_quiet)
        stop.set()
        watcher.join()
        states["killed_train"] = {"asked": model.asked[asked_before:],
                                  "markers": sorted(p.name for p in (tmp / "run" / "round-0").glob("*.done"))}
        # 3. the rerun resumes training from its last checkpoint, then stops: the user serves the checkpoint
        first = iterate(config, progress=False, log=_quiet)
        states["asked_after_train_kill"] = len(model.asked) - asked_before
        # 4. the rerun after the "server restart" does round 1
        asked_before = len(model.asked)
        second = iterate(config, progress=False, log=_quiet)
        states["round1_asked"] = model.asked[asked_before:]
    return tmp / "run", first, second, states, model


def test_exact_counts_per_round(run):
    out, first, second, _, _ = run
    assert first.waiting_for_server and first.model.endswith("round-0/train/final")
    assert not second.waiting_for_server and second.model.endswith("round-1/train/final")
    rounds = json.loads((out / "rounds.json").read_text())
    assert [r["round"] for r in rounds] == [0, 1]
    for row, want in zip(rounds, (ROUND0, ROUND1)):
        assert {k: row[k] for k in ("attempts", "new_proofs", "duplicates", "over_cap", "solved")} == \
            {k: want[k] for k in ("attempts", "new_proofs", "duplicates", "over_cap", "solved")}
    assert rounds[0]["reasons"] == {"crash": 1, "error": 8, "forbidden": 1, "no_proof": 1, "ok": 5}
    assert rounds[0]["attempted"] == 4 and rounds[1]["attempted"] == 2
    assert rounds[0]["newly_solved"] == 2 and rounds[1]["newly_solved"] == 1
    assert [r["total_proofs"] for r in rounds] == [3, 5] and [r["sft_rows"] for r in rounds] == [5, 7]
    assert rounds[0]["model"] == "base" and rounds[1]["model"] == rounds[0]["checkpoint"]
    proofs = [json.loads(line) for line in (out / "round-0" / "proofs.jsonl").read_text().splitlines()]
    assert [(p["problem"], p["sample"], p["proof"]) for p in proofs] == [
        ("p1", 0, "by\n  norm_num"), ("p1", 3, "by\n  linarith"), ("p2", 2, "by\n  omega")]
    proofs = [json.loads(line) for line in (out / "round-1" / "proofs.jsonl").read_text().splitlines()]
    assert [(p["problem"], p["sample"]) for p in proofs] == [("p3", 3), ("p3", 0)]  # shortest first


def test_round_one_asks_only_unsolved_problems_with_the_new_checkpoint(run):
    _, _, _, states, model = run
    asked = states["round1_asked"]
    assert sorted(asked) == [(p, 1, s) for p in ("p3", "p4") for s in range(SAMPLES)]
    # (the scripted model asserts that every round-1 request names round 0's checkpoint)
    # round 0 knows no proof; round 1 shows the first solved problem's shortest proof, never the asked one's
    assert all(model.examples[(p, 0, s)] == [] for p in NAMES for s in range(SAMPLES))
    assert {tuple(model.examples[k]) for k in asked} == {
        ("```lean4\ntheorem p1 (x : ℕ) (h : x = 1) : x + x = 2 := by\n  norm_num\n```",)}
    # every sample asked once, except answers in flight when the server failed (abandoned
    # unrecorded, asked again on resume): at most `concurrency` of them
    assert 16 + 8 <= len(model.asked) <= 16 + 8 + 2


def test_sft_data_is_base_plus_every_proof_kept(run):
    out = run[0]
    rows = [json.loads(line) for line in (out / "round-1" / "sft_data.jsonl").read_text().splitlines()]
    assert [r["idx"] for r in rows] == list(range(7))
    assert [r["Name"] for r in rows] == ["base_add_zero", "base_mul_one", "p1", "p1", "p2", "p3", "p3"]
    assert rows[0]["Commented_proof"] == BASE_ROWS[0]["Commented_proof"]
    p1 = rows[2]
    assert p1["Statement"] == "theorem p1 (x : ℕ) (h : x = 1) : x + x = 2 :="  # the ORIGINAL statement
    assert p1["Proof"] == "theorem p1 (x : ℕ) (h : x = 1) : x + x = 2 := by\n  norm_num"
    assert "Show that x + x = 2 when x = 1." in p1["Generated_informal_statement_and_proof"]
    assert rows[5]["Proof"].endswith(":= by\n  positivity") and rows[6]["Proof"].endswith(":= by\n  nlinarith [h]")
    round0 = [json.loads(line) for line in (out / "round-0" / "sft_data.jsonl").read_text().splitlines()]
    assert [r["Name"] for r in round0] == ["base_add_zero", "base_mul_one", "p1", "p1", "p2"]
    recipe = yaml.safe_load((out / "round-1" / "recipe.yaml").read_text())
    assert recipe["data"] == str((out / "round-1" / "sft_data.jsonl").resolve())
    assert recipe["model"]["name_or_path"] == str((out / "round-0" / "train" / "final").resolve())
    assert recipe["model"]["from_config"] is None
    state = json.loads((out / "round-1" / "train" / "final" / ".." / "run_info.json").read_text())
    assert state["records"] == 7


def test_kill_and_resume_at_each_stage(run):
    out, _, _, states, _ = run
    killed = states["killed_prove"]
    assert 0 < len(killed["recorded"]) < 16 and killed["markers"] == []
    # the rerun asked exactly the samples not recorded, never one twice
    asked = states["killed_train"]["asked"]
    assert len(asked) == len(set(asked)) == 16 - len(killed["recorded"])
    assert {(p, r, s) for p, r, s in asked}.isdisjoint(killed["recorded"])
    assert states["killed_train"]["markers"] == ["collect.done", "prove.done"]
    assert states["asked_after_train_kill"] == len(asked)  # resuming training generated nothing
    log = (out / "round-0" / "train.log").read_text()
    # The kill is sent once checkpoint-2 exists, but 6 tiny steps take ~0.1 s, less than the
    # watcher's poll: it may land after checkpoint-6 or after the run finished. Whichever, the rerun
    # goes on from what is on disk and never trains from scratch (mid-run resume is pinned exactly
    # by tests/train/test_train_deepspeed.py).
    assert re.search(r"resuming from \S*round-0/train/checkpoint-[24]\b|"
                     r"round-0/train/checkpoint-6 has done all its steps|"
                     r"round-0/train already holds this finished run \(step 6\)", log), log[-2000:]
    assert log.count("'epoch': '1'") <= 1, "training started again from scratch"
    trainer_state = json.loads((out / "round-0" / "train" / "checkpoint-6" / "trainer_state.json").read_text())
    assert trainer_state["global_step"] == 6
    _, attempts = read_attempts(out / "round-0" / "attempts.jsonl")  # raises on a duplicate
    assert len(attempts) == 16


def test_rerun_of_a_finished_run_does_nothing(run, capsys):
    from theoremllama.cli import main

    out = run[0]
    config = load_iterate_config(out.parent / "iterate.yaml",
                                 ["llm.base_url=http://127.0.0.1:9/v1"])  # nothing may be asked
    again = iterate(config, progress=False, log=_quiet)
    assert again.stages_run == [] and [r["round"] for r in again.rounds] == [0, 1]
    assert main(["iterate", "--config", str(out.parent / "iterate.yaml"), "--no-progress",
                 "--set", "llm.base_url=http://127.0.0.1:9/v1"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "round 0: 2 problems solved (2 new), 3 new proofs, 3 in all; trained " + again.rounds[0]["checkpoint"]
    assert printed[1].startswith("round 1: 1 problems solved (1 new), 2 new proofs, 5 in all; trained ")


def test_collect_killed_before_its_marker_is_redone_identically(run):
    out = run[0]
    config = load_iterate_config(out.parent / "iterate.yaml", ["llm.base_url=http://127.0.0.1:9/v1"])
    kept = (out / "round-1" / "proofs.jsonl").read_bytes()
    (out / "round-1" / "collect.done").unlink()  # the state a kill after the atomic write leaves
    (out / "round-1" / "proofs.jsonl").write_text("")
    again = iterate(config, progress=False, log=_quiet)
    assert again.stages_run == ["1/collect"]
    assert (out / "round-1" / "proofs.jsonl").read_bytes() == kept
    assert json.loads((out / "rounds.json").read_text())[1]["new_proofs"] == 2
