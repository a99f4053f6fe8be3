"""`theoremllama eval` from a YAML config with overrides, config errors, and blocking backends.

The model is the scripted OpenAI-compatible server on loopback; Lean is the REPL test double
driven by the real `Verifier` (only the model and the Lean process are replaced)."""

import sys
from pathlib import Path

import pytest
import yaml

from support.openai_server import ScriptedOpenAIServer
from theoremllama.cli import main
from theoremllama.errors import UserError
from theoremllama.eval.attempts import read_attempts
from theoremllama.eval.config import load_config
from theoremllama.eval.evaluate import evaluate
from theoremllama.llm.base import Generator
from theoremllama.llm.openai_backend import OpenAIGenerator

ROOT = Path(__file__).resolve().parents[2]
FAKE_REPL = [sys.executable, str(ROOT / "tests" / "support" / "fake_lean_repl.py")]
PROOF = "```lean4\ntheorem t : True := by\n  norm_num\n```"


def test_shipped_configs_load_and_overrides_apply():
    config = load_config(ROOT / "eval" / "minif2f.yaml", ["samples=8", "llm.base_url=http://gpu:8000/v1",
                                                          "sampling.temperature=0.5"])
    assert (config.split, config.rounds, config.samples, config.prompt) == ("valid", 2, 8, "nl")
    assert config.llm["base_url"] == "http://gpu:8000/v1" and config.llm["backend"] == "openai"
    assert config.sampling == {"temperature": 0.5, "top_p": 0.9, "max_tokens": 1024}
    smoke = load_config(ROOT / "eval" / "smoke.yaml")
    assert smoke.limit == 3 and smoke.samples == 2


@pytest.mark.parametrize("overrides,message", [
    (["sampels=8"], "unknown eval config key 'sampels'"),
    (["split=train"], "split must be 'valid' or 'test'"),
    (["samples=0"], "samples must be an integer >= 1"),
    (["prompt=fancy"], "prompt must be one of"),
    (["sampling.n=4"], "unknown sampling key 'n'"),
    (["samples"], "expected KEY=VALUE"),
])
def test_config_errors_are_one_clear_line(overrides, message):
    with pytest.raises(UserError, match=message):
        load_config(ROOT / "eval" / "smoke.yaml", overrides)


def test_eval_cli_runs_end_to_end_with_limit_and_set(tmp_path, capsys):
    with ScriptedOpenAIServer(lambda body: PROOF) as server:
        argv = ["eval", "--config", str(ROOT / "eval" / "smoke.yaml"), "--limit", "2", "--no-progress",
                "--set", f"llm.base_url={server.base_url}", "--set", "samples=3",
                "--set", f"verifier={{repl_cmd: {FAKE_REPL}, workers: 1}}",
                "--output-dir", str(tmp_path / "run")]
        assert main(argv) == 0
        assert len(server.requests) == 6  # 2 problems x 3 samples, all solved in round 0
    assert "2/2 solved, cumulative accuracy 100.00 %" in capsys.readouterr().out
    run, attempts = read_attempts(tmp_path / "run" / "attempts.jsonl")
    assert len(run.problems) == 2 and run.samples == 3 and len(attempts) == 6
    assert all(a.passed for a in attempts) and (tmp_path / "run" / "report.md").exists()
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert saved["limit"] == 2 and saved["samples"] == 3
    # Same output dir, different problems: refused with one line, exit 2.
    assert main(argv[:3] + ["--limit", "1"] + argv[5:]) == 2
    assert "problems: '2 problems, sha256" in capsys.readouterr().err


class BlockingGenerator(Generator):
    """A generator with only the blocking API (like the local vLLM / HF backends); it delegates
    to the real OpenAI client so that requests still go over HTTP to the scripted server."""

    def __init__(self, base_url: str):
        self.inner = OpenAIGenerator("scripted", base_url=base_url, max_retries=0)
        self.usage = self.inner.usage

    def generate(self, prompts, sampling):
        return self.inner.generate(prompts, sampling)


def test_blocking_backend_is_asked_once_per_problem_and_round_for_its_missing_samples(tmp_path):
    from theoremllama.eval.config import EvalConfig
    from theoremllama.data.records import Problem

    problems = [Problem(name=f"q{i}", split="test", header="", formal_statement=f"theorem q{i} : True :=")
                for i in range(3)]
    wrong = "```lean4\ntheorem t : True := by\n  double_error\n```"
    answers = {"q0": [PROOF] * 4, "q1": [wrong, wrong, PROOF, wrong], "q2": [wrong] * 4}

    def responder(body):
        name = body["messages"][-1]["content"].split("theorem ")[-1].split()[0]
        return answers[name][: body["n"]]

    with ScriptedOpenAIServer(responder) as server:
        config = EvalConfig(split="test", rounds=2, samples=4, k_examples=1, output_dir=str(tmp_path), report=False,
                            skip_solved=False, verifier={"repl_cmd": FAKE_REPL, "workers": 1})
        result = evaluate(config, problems=problems, seed_examples=[], generator=BlockingGenerator(server.base_url),
                          progress=False)
        asked = [(b["messages"][-1]["content"].split("theorem ")[-1].split()[0], b["n"]) for b in server.requests]
    # skip_solved: false, so round 1 asks every problem again; it solves nothing new (q0 and q1
    # were solved in round 0), so the run stops there.
    assert sorted(asked) == [("q0", 4), ("q0", 4), ("q1", 4), ("q1", 4), ("q2", 4), ("q2", 4)]
    assert result.summary.solved == {"q0": 0, "q1": 0}
    assert result.summary.pass_at_k[1] == pytest.approx((1 + 0.25) / 3)
    assert [r.attempts for r in result.summary.rounds] == [12, 12]
