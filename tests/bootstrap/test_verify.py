"""The optional verification stage, with the real Verifier pool driving the REPL test double
(tests/support/fake_lean_repl.py speaks the real wire protocol; `double_error` fails a proof).
The LLM is the scripted loopback server."""

import json
import sys
from pathlib import Path

from support.openai_server import ScriptedOpenAIServer
from theoremllama.bootstrap.config import config_from_dict
from theoremllama.bootstrap.pipeline import run_bootstrap
from theoremllama.data.jsonl import read_jsonl

FAKE_REPL = str(Path(__file__).resolve().parents[1] / "support" / "fake_lean_repl.py")
THEOREMS = {
    "good_one": "theorem good_one (x : ℕ) (h : x = 1) : x + 1 = 2 := by\n  subst h\n  norm_num",
    "good_two": "theorem good_two -- a comment the LLM must keep\n    : (2 : ℕ) + 2 = 4 := by\n  norm_num",
    "broken": "theorem broken : (1 : ℕ) = 2 := by\n  double_error",
}


def responder(body):
    last = body["messages"][-1]["content"]
    name = next(n for n in THEOREMS if f"theorem {n} " in last)
    if last.startswith("Lean 4 theorem:"):
        return f"# Informal statement\nThe statement {name}.\n# Informal proof\nIt follows by computation."
    # comment inside the statement's lines (a line of its own: Lean's layout is kept) and in the proof
    woven = THEOREMS[name].replace(":= by\n", ":= by\n  -- Compute.\n").replace("\n    :", "\n    -- named\n    :")
    return f"```lean4\n{woven}\n```"


def test_verify_stage_rejects_what_lean_rejects(tmp_path):
    with open(tmp_path / "in.jsonl", "w") as f:
        for name, proof in THEOREMS.items():
            statement = proof[:proof.index(":= by") + 2]
            f.write(json.dumps({"Name": name, "Statement": statement, "Proof": proof}) + "\n")
    with ScriptedOpenAIServer(responder) as server:
        config = config_from_dict({
            "input": str(tmp_path / "in.jsonl"), "output": str(tmp_path / "out"),
            "llm": {"backend": "openai", "model": "m", "base_url": server.base_url},
            "examples": {"encoder": None, "k": 1},
            "verify": {"enabled": True, "repl_cmd": [sys.executable, FAKE_REPL], "workers": 2, "timeout": 30}})
        summary = run_bootstrap(config, progress=False)
    assert summary.accepted == 2 and summary.rejected == {"verify/error": 1}
    assert summary.attempt_failures == {"verify/error": 1}
    assert sorted(d["Name"] for d in read_jsonl(tmp_path / "out" / "obt.jsonl")) == ["good_one", "good_two"]
    (rejection,) = read_jsonl(tmp_path / "out" / "rejections.jsonl")
    assert rejection["Name"] == "broken" and rejection["stage"] == "verify" and "unsolved goals" in rejection["last_answer"]
