"""A run's identity: evaluating checkpoint B after A never reports A's score under B's name.

The model is the scripted OpenAI-compatible server on loopback (it answers by model name: model
`A` proves everything, `B` nothing); Lean is the REPL test double driven by the real `Verifier`.
"""

import sys
from pathlib import Path

import pytest

from support.openai_server import ScriptedOpenAIServer
from theoremllama.cli import main
from theoremllama.eval.attempts import read_attempts

ROOT = Path(__file__).resolve().parents[2]
FAKE_REPL = [sys.executable, str(ROOT / "tests" / "support" / "fake_lean_repl.py")]
PROOF = "```lean4\ntheorem t : True := by\n  norm_num\n```"
WRONG = "```lean4\ntheorem t : True := by\n  double_error\n```"


def _answer(body):
    return PROOF if body["model"] == "A" else WRONG


def _argv(server, model, *extra):
    return ["eval", "--config", str(ROOT / "eval" / "smoke.yaml"), "--limit", "2", "--no-progress",
            "--set", f"llm.base_url={server.base_url}", "--set", f"llm.model={model}", "--set", "samples=2",
            "--set", "rounds=1", "--set", f"verifier={{repl_cmd: {FAKE_REPL}, workers: 1}}", *extra]


def test_checkpoint_b_after_a_in_the_default_dir_is_evaluated_not_reused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with ScriptedOpenAIServer(_answer) as server:
        assert main(_argv(server, "A")) == 0
        assert "2/2 solved" in capsys.readouterr().out
        asked_a = len(server.requests)
        assert main(_argv(server, "B")) == 0
        out = capsys.readouterr().out
        assert len(server.requests) - asked_a == 4  # B was asked, not A's attempts reused
    assert "0/2 solved" in out
    a = tmp_path / "runs" / "eval" / "smoke-valid" / "A" / "attempts.jsonl"
    b = tmp_path / "runs" / "eval" / "smoke-valid" / "B" / "attempts.jsonl"
    assert str(b) in out or "smoke-valid/B/attempts.jsonl" in out
    assert read_attempts(a)[0].model == "A" and read_attempts(b)[0].model == "B"


@pytest.mark.parametrize("change,expected", [
    (["--set", "llm.model=B"], "llm.model: 'A' -> 'B'"),
    (["--set", "sampling.temperature=0.2"], "sampling.temperature: 0.9 -> 0.2"),
    (["--set", "prompt=formal"], "prompt: 'nl' -> 'formal'"),
    (["--set", "k_examples=1"], "k_examples: 2 -> 1"),
    (["--set", "seed=7"], "seed: 0 -> 7"),
    (["--set", "examples=retrieved"], "examples: 'first' -> 'retrieved'"),
    (["--set", "llm.backend=hf"], "llm.backend: 'openai' -> 'hf'"),
])
def test_a_different_run_in_the_same_dir_is_refused_naming_what_differs(tmp_path, capsys, change, expected):
    out_dir = ["--output-dir", str(tmp_path / "run")]
    with ScriptedOpenAIServer(_answer) as server:
        assert main(_argv(server, "A", *out_dir)) == 0
        asked = len(server.requests)
        capsys.readouterr()
        assert main(_argv(server, "A", *out_dir, *change)) == 2
        err = capsys.readouterr().err
        assert len(server.requests) == asked
    assert expected in err and "--output-dir" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_same_identity_rerun_resumes_and_operational_keys_may_change(tmp_path, capsys):
    out_dir = ["--output-dir", str(tmp_path / "run")]
    with ScriptedOpenAIServer(_answer) as server:
        assert main(_argv(server, "A", *out_dir)) == 0
        asked = len(server.requests)
        # another server address, concurrency, retries and workers: the same run, nothing redone
        assert main(_argv(server, "A", *out_dir, "--set", "concurrency=3", "--set", "llm.max_retries=2")) == 0
        assert len(server.requests) == asked
        # more samples extend the run: only the new ones are asked
        assert main(_argv(server, "A", *out_dir, "--set", "samples=3")) == 0
        assert len(server.requests) == asked + 2
    assert "2/2 solved" in capsys.readouterr().out
    run, attempts = read_attempts(tmp_path / "run" / "attempts.jsonl")
    assert run.samples == 3 and len(attempts) == 6


def test_default_output_dir_names_the_model():
    from theoremllama.eval.config import load_config

    assert str(load_config(ROOT / "eval" / "minif2f.yaml").run_dir()) == \
        "runs/eval/minif2f-valid/RickyDeSkywalker--TheoremLlama"
    config = load_config(ROOT / "eval" / "minif2f.yaml", ["llm.model=/scratch/runs/sft-a/final/", "split=test"])
    assert str(config.run_dir()) == "runs/eval/minif2f-test/sft-a--final"


def test_an_extension_that_would_change_recorded_prompts_is_refused(tmp_path):
    """More samples make C solved in round 0, so A's round-1 prompt (latest verified proofs first)
    would differ from the one its recorded round-1 sample was asked with."""
    from theoremllama.data.records import Problem
    from theoremllama.errors import UserError
    from theoremllama.eval.config import EvalConfig
    from theoremllama.eval.evaluate import evaluate
    from theoremllama.eval.pipeline import sample_seed

    problems = [Problem(name=n, split="valid", header="", formal_statement=f"theorem {n} : True :=",
                        informal_statement="s", informal_proof="p") for n in ("A", "B", "C")]
    solves = {("B", 0, 0), ("C", 0, 1)}
    by_seed = {sample_seed(0, p, r, s): (p, r, s) for p in "ABC" for r in range(2) for s in range(2)}

    def respond(body):
        return PROOF if by_seed[body["seed"]] in solves else WRONG

    with ScriptedOpenAIServer(respond) as server:
        def config(samples):
            return EvalConfig(rounds=2, samples=samples, k_examples=2, output_dir=str(tmp_path), report=False,
                              llm={"backend": "openai", "model": "m", "base_url": server.base_url, "max_retries": 0},
                              verifier={"repl_cmd": FAKE_REPL, "workers": 1})

        evaluate(config(1), problems=problems, seed_examples=[], progress=False)
        asked = len(server.requests)
        with pytest.raises(UserError, match="recorded attempts of A in round 1 were made with a different prompt"):
            evaluate(config(2), problems=problems, seed_examples=[], progress=False)
        # round 0 was extended before the refusal; round 1 asked nothing with the changed prompt
        assert all(by_seed[b["seed"]][1] == 0 for b in server.requests[asked:])
