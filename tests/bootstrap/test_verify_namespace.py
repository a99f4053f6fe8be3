"""The bootstrap's Lean re-check of theorems extracted from inside a namespace: the record's
namespace reaches the verifier's job, so `theorem two_le` declared in `namespace Nat.Prime` is
checked as `Nat.Prime.two_le` (it was looked up as `_root_.two_le` and always failed).

Doubled: the Lean REPL (tests/support/fake_lean_repl.py, through the real Verifier pool) and the
LLM (the scripted loopback server)."""

import json
import sys
from pathlib import Path

from support.openai_server import ScriptedOpenAIServer
from theoremllama.bootstrap.config import config_from_dict
from theoremllama.bootstrap.pipeline import load_theorems, run_bootstrap
from theoremllama.data.jsonl import read_jsonl

FAKE_REPL = str(Path(__file__).resolve().parents[1] / "support" / "fake_lean_repl.py")
RECORDS = [
    # namespaced, no imports: the default header is used and the namespace opened after it
    {"name": "Nat.Prime.two_le", "namespace": "Nat.Prime", "statement": "theorem two_le (n : ℕ) : n ≤ n + 2 :=",
     "proof": "theorem two_le (n : ℕ) : n ≤ n + 2 := by\n  omega"},
    # namespaced with imports: TheoremRecord.header() already opens it
    {"name": "Foo.bar", "namespace": "Foo", "imports": ["Mathlib"], "statement": "theorem bar : (1 : ℕ) = 1 :=",
     "proof": "theorem bar : (1 : ℕ) = 1 := by\n  norm_num"},
    {"name": "top", "statement": "theorem top : (2 : ℕ) = 2 :=", "proof": "theorem top : (2 : ℕ) = 2 := by\n  norm_num"},
]


def responder(body):
    last = body["messages"][-1]["content"]
    record = next(r for r in RECORDS if r["statement"].split(" :")[0].split("(")[0].strip() + " " in last)
    if last.startswith("Lean 4 theorem:"):
        return "# Informal statement\nThe statement.\n# Informal proof\nIt follows by computation."
    return "```lean4\n" + record["proof"].replace(":= by\n", ":= by\n  -- Compute.\n") + "\n```"


def test_namespaced_records_pass_the_lean_recheck(tmp_path, monkeypatch):
    log = tmp_path / "requests.jsonl"
    monkeypatch.setenv("FAKE_LEAN_REPL_LOG", str(log))  # the double logs every request it gets
    path = tmp_path / "theorems.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS), encoding="utf-8")
    theorems, _ = load_theorems(path, "import Mathlib\n")
    assert [t.namespace for t in theorems] == ["Nat.Prime", "Foo", ""]
    with ScriptedOpenAIServer(responder) as server:
        config = config_from_dict({
            "input": str(path), "output": str(tmp_path / "out"), "header": "import Mathlib\n",
            "llm": {"backend": "openai", "model": "m", "base_url": server.base_url},
            "examples": {"encoder": None, "k": 1},
            "verify": {"enabled": True, "repl_cmd": [sys.executable, FAKE_REPL], "workers": 1, "timeout": 30}})
        summary = run_bootstrap(config, progress=False)
    rejections = read_jsonl(tmp_path / "out" / "rejections.jsonl") if (tmp_path / "out" / "rejections.jsonl").exists() else []
    assert summary.accepted == 3, rejections
    assert sorted(d["Name"] for d in read_jsonl(tmp_path / "out" / "obt.jsonl")) == ["Foo.bar", "Nat.Prime.two_le", "top"]
    # each theorem was checked under its full name, in an environment with its namespace open
    commands = [json.loads(line)["request"]["cmd"] for line in log.read_text(encoding="utf-8").splitlines()]
    for name in ("Nat.Prime.two_le", "Foo.bar", "top"):
        assert any(f"#check @_root_.{name}\n#print axioms _root_.{name}" in c for c in commands), name
    assert "import Mathlib\nnamespace Nat.Prime\n" in commands
