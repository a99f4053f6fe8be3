"""`theoremllama bootstrap` reruns: another model or other settings never resume a run, the default
output directory names the model, and `--limit N` caps the run at N theorems instead of adding N
more on every rerun. The model is a scripted OpenAI-compatible server on loopback."""

import json
import re
from pathlib import Path

import pytest
import yaml

from support.openai_server import ScriptedOpenAIServer
from theoremllama.cli import main

SEED = Path(__file__).resolve().parents[2] / "data/theoremllama_eval/MiniF2F_valid_partial_withProof_commented.json"
ROWS = [r for r in json.loads(SEED.read_text()) if r.get("Commented_proof")][:5]
BY_NAME = {r["Name"]: r for r in ROWS}


def respond(body):
    last = body["messages"][-1]["content"]
    name = re.search(r"theorem\s+(\S+)", last).group(1)
    if last.startswith("Lean 4 theorem:"):
        return (f"# Informal statement\nThe claim stated by {name}.\n\n# Informal proof\n"
                f"We follow the formal argument of {name}: simplify the hypotheses, then close the goal.")
    return "```lean4\n" + BY_NAME[name]["Commented_proof"] + "\n```"


def _setup(tmp_path, server):
    with open(tmp_path / "in.jsonl", "w") as f:
        for i, r in enumerate(ROWS):
            f.write(json.dumps({"idx": i, "Name": r["Name"], "Statement": r["Statement"], "Proof": r["Proof"]}) + "\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"input": str(tmp_path / "in.jsonl"), "examples": {"encoder": None, "k": 1},
                                   "llm": {"backend": "openai", "model": "org/model-A", "base_url": server.base_url}}))
    return ["bootstrap", "--config", str(cfg), "--no-progress"]


def _names(path):
    return [json.loads(line)["Name"] for line in path.read_text().splitlines()]


def test_limit_caps_the_run_and_a_rerun_finishes_it_without_adding_more(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with ScriptedOpenAIServer(respond) as server:
        argv = _setup(tmp_path, server)
        assert main(argv + ["--limit", "2"]) == 0
        out = tmp_path / "runs" / "bootstrap" / "org--model-A"  # the default output names the model
        assert _names(out / "obt.jsonl") == [r["Name"] for r in ROWS[:2]]
        asked = len(server.requests)
        assert main(argv + ["--limit", "2"]) == 0  # complete: nothing more
        assert len(server.requests) == asked and len(_names(out / "obt.jsonl")) == 2
        assert main(argv + ["--limit", "3"]) == 0  # a larger cap: one more theorem
        assert _names(out / "obt.jsonl") == [r["Name"] for r in ROWS[:3]]
    assert "1 accepted" in capsys.readouterr().err


@pytest.mark.parametrize("change,expected", [
    (["--set", "llm.model=org/model-B", "--output", "runs/bootstrap/org--model-A"],
     "llm.model: 'org/model-A' -> 'org/model-B'"),
    (["--set", "weave.sampling.temperature=1.0"], "weave.sampling.temperature: 0.3 -> 1.0"),
    (["--set", "examples.k=2"], "examples.k: 1 -> 2"),
    (["--verify"], "verify.enabled: false -> true"),
])
def test_a_rerun_with_other_settings_is_refused_naming_them(tmp_path, monkeypatch, capsys, change, expected):
    monkeypatch.chdir(tmp_path)
    with ScriptedOpenAIServer(respond) as server:
        argv = _setup(tmp_path, server)
        assert main(argv + ["--limit", "1"]) == 0
        asked = len(server.requests)
        capsys.readouterr()
        assert main(argv + ["--limit", "2"] + change) == 2
        assert len(server.requests) == asked
        # operational settings may change: the same run goes on
        assert main(argv + ["--limit", "2", "--concurrency", "3", "--set", "llm.max_retries=1"]) == 0
    err = capsys.readouterr().err
    assert expected in err and "--output DIR" in err and "Traceback" not in err


def test_another_model_gets_its_own_default_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with ScriptedOpenAIServer(respond) as server:
        argv = _setup(tmp_path, server)
        assert main(argv + ["--limit", "1"]) == 0
        assert main(argv + ["--limit", "1", "--set", "llm.model=org/model-B"]) == 0
    assert len(_names(tmp_path / "runs/bootstrap/org--model-B/obt.jsonl")) == 1
    assert len(_names(tmp_path / "runs/bootstrap/org--model-A/obt.jsonl")) == 1
