"""`eval` and `bootstrap` checking on a server by configuration (`verifier.url`, `verify.url`):
real uvicorn on loopback around a real pool over the REPL double; the LLM is the scripted loopback
OpenAI-compatible server (tests/support/openai_server.py)."""

import json

import pytest

from support.openai_server import ScriptedOpenAIServer
from support.served import DOUBLE, Served
from theoremllama.bootstrap.config import config_from_dict
from theoremllama.bootstrap.pipeline import run_bootstrap
from theoremllama.data.jsonl import read_jsonl
from theoremllama.data.records import Problem
from theoremllama.errors import UserError
from theoremllama.eval.attempts import read_attempts
from theoremllama.eval.config import EvalConfig
from theoremllama.eval.evaluate import evaluate
from theoremllama.lean.open import open_verifier
from theoremllama.serve.client import RemoteVerifier


def test_eval_checks_on_the_server_named_by_verifier_url(pool, tmp_path):
    problems = [Problem(name=n, split="valid", header="import Mathlib\n",
                        formal_statement=f"theorem {n} (x : ℕ) (h : x = 2) : x + x = 4 := by\n",
                        informal_statement="s", informal_proof="p") for n in ("a", "b")]

    def responder(body):
        proof = "norm_num" if "theorem a " in body["messages"][-1]["content"] else "double_error"
        return f"```lean4\ntheorem x (x : ℕ) : x = x := by\n  {proof}\n```"
    verifier = pool()
    with Served(verifier) as s, ScriptedOpenAIServer(responder) as llm:
        config = EvalConfig(split="valid", rounds=1, samples=2, k_examples=0, examples="first",
                            output_dir=str(tmp_path / "run"), report=False,
                            llm={"backend": "openai", "model": "m", "base_url": llm.base_url, "max_retries": 0},
                            verifier={"url": s.url})
        evaluate(config, problems=problems, seed_examples=[], progress=False)
    _, attempts = read_attempts(tmp_path / "run" / "attempts.jsonl")
    assert sorted((a.problem, a.reason) for a in attempts) == [("a", "ok"), ("a", "ok"), ("b", "error"), ("b", "error")]
    assert verifier.stats()["verified"] == 4  # every check ran in the server's pool


def test_bootstrap_checks_on_the_server_named_by_verify_url(pool, tmp_path):
    theorems = {"good": "theorem good : (2 : ℕ) + 2 = 4 := by\n  norm_num",
                "broken": "theorem broken : (1 : ℕ) = 2 := by\n  double_error"}

    def responder(body):
        last = body["messages"][-1]["content"]
        name = next(n for n in theorems if f"theorem {n} " in last)
        if last.startswith("Lean 4 theorem:"):
            return f"# Informal statement\nThe statement {name}.\n# Informal proof\nIt follows by computation."
        return "```lean4\n" + theorems[name].replace(":= by\n", ":= by\n  -- Compute.\n") + "\n```"
    with open(tmp_path / "in.jsonl", "w") as f:
        for name, proof in theorems.items():
            f.write(json.dumps({"Name": name, "Statement": proof[:proof.index(":= by") + 2], "Proof": proof}) + "\n")
    verifier = pool()
    with Served(verifier) as s, ScriptedOpenAIServer(responder) as llm:
        config = config_from_dict({
            "input": str(tmp_path / "in.jsonl"), "output": str(tmp_path / "out"),
            "llm": {"backend": "openai", "model": "m", "base_url": llm.base_url},
            "examples": {"encoder": None, "k": 1}, "verify": {"enabled": True, "url": s.url}})
        summary = run_bootstrap(config, progress=False)
    assert summary.accepted == 1 and summary.rejected == {"verify/error": 1}
    assert [d["Name"] for d in read_jsonl(tmp_path / "out" / "obt.jsonl")] == ["good"]
    assert verifier.stats()["verified"] == 2


def test_open_verifier_picks_one_kind():
    with open_verifier(url="http://127.0.0.1:9", progress=False) as v:
        assert isinstance(v, RemoteVerifier)
    with pytest.raises(UserError, match="not both"):
        open_verifier(url="http://127.0.0.1:9", ray="auto")
    with open_verifier(repl_cmd=DOUBLE, workers=1, progress=False) as v:
        assert type(v).__name__ == "Verifier"
