"""Repair rounds end to end: the scripted OpenAI-compatible server on loopback (only the model is
replaced: it answers a repair prompt correctly when the prompt holds Lean's error text) and the
real `Verifier` driving the REPL test double (a true proof is `by norm_num`, `by double_error`
fails with "unsolved goals", `double_old_sorry` gives the `declaration uses 'sorry'` warning)."""

import json
import os
import re
import sys
from pathlib import Path

import pytest
import yaml

from support.killing import kill_when
from support.openai_server import ScriptedOpenAIServer
from theoremllama.data.problems import write_problems
from theoremllama.data.records import Problem
from theoremllama.errors import UserError
from theoremllama.eval.attempts import read_attempts
from theoremllama.eval.config import EvalConfig, load_config
from theoremllama.eval.evaluate import evaluate
from theoremllama.eval.pipeline import repair_seed, sample_seed
from theoremllama.train.prompt import REPAIR_HEADING

ROOT = Path(__file__).resolve().parents[2]
FAKE_REPL = [sys.executable, str(ROOT / "tests" / "support" / "fake_lean_repl.py")]
STATEMENT = "theorem {name} (x : ℕ) (h : x = 2) : x + x = 4 := by\n"
RIGHT, WRONG = "by\n  norm_num", "by\n  double_error"


def _problem(name: str, **kw) -> Problem:
    return Problem(name=name, split="valid", header="import Mathlib\n", formal_statement=STATEMENT.format(name=name),
                   informal_statement=f"Show that {name} holds.", **kw)


def _block(proof: str) -> str:
    return f"```lean4\ntheorem whatever (x : ℕ) : x = x := {proof}\n```"


# The fresh samples: (problem, sample) -> proof.
SAMPLES = {
    ("pa", 0): RIGHT, ("pa", 1): WRONG,                          # s1 repaired once
    ("pb", 0): WRONG, ("pb", 1): WRONG,                          # repairs fail once, then pass at depth 2
    ("pc", 0): "by\n  sorry", ("pc", 1): "```lean\n```",  # forbidden, no_proof: never repaired
    ("pd", 0): "by\n  double_old_sorry", ("pd", 1): RIGHT,      # a `sorry` verdict is repaired
}


def _responder(names, samples=2):
    fresh = {sample_seed(0, p, 0, s): (p, s) for p in names for s in range(samples)}

    def respond(body: dict) -> str:
        last = body["messages"][-1]["content"]
        if not last.startswith(REPAIR_HEADING):
            p, s = fresh[body["seed"]]
            text = SAMPLES[(p, s)]
            return text if text.startswith("```") else _block(text)
        failed = body["messages"][-2]["content"]
        name = re.search(r"(?m)^theorem (\S+)", failed).group(1)
        if "unsolved goals" not in last and "declaration uses 'sorry'" not in last:
            return _block(WRONG)  # a prompt without Lean's error text gets no better answer
        if name == "pb" and "second try" not in failed:
            return _block("by\n  -- second try\n  double_error")
        return _block(RIGHT)

    return respond


def _config(tmp_path, server, **overrides) -> EvalConfig:
    values = dict(split="valid", rounds=1, samples=2, k_examples=0, seed=0, concurrency=1,
                  output_dir=str(tmp_path / "run"),
                  llm={"backend": "openai", "model": "scripted", "base_url": server.base_url, "max_retries": 0},
                  sampling={"temperature": 0.9, "max_tokens": 256},
                  verifier={"repl_cmd": FAKE_REPL, "workers": 2, "timeout": 20},
                  repair={"rounds": 2, "per_failure": 1, "max_per_problem": 3})
    values.update(overrides)
    return EvalConfig(**values)


EXPECTED = [  # (id, parent, depth, passed, reason), in the order a one-at-a-time run records them
    ("pa/r0/s0", "", 0, True, "ok"),
    ("pa/r0/s1", "", 0, False, "error"),
    ("pa/r0/s1/f0", "pa/r0/s1", 1, True, "ok"),
    ("pb/r0/s0", "", 0, False, "error"),
    ("pb/r0/s0/f0", "pb/r0/s0", 1, False, "error"),
    ("pb/r0/s0/f0/f0", "pb/r0/s0/f0", 2, True, "ok"),
    ("pb/r0/s1", "", 0, False, "error"),
    ("pb/r0/s1/f0", "pb/r0/s1", 1, False, "error"),  # its repair would be pb's 4th: over the cap of 3
    ("pc/r0/s0", "", 0, False, "forbidden"),
    ("pc/r0/s1", "", 0, False, "no_proof"),
    ("pd/r0/s0", "", 0, False, "sorry"),
    ("pd/r0/s0/f0", "pd/r0/s0", 1, True, "ok"),
    ("pd/r0/s1", "", 0, True, "ok"),
]


def test_repairs_end_to_end_exact_attempts_depths_and_budget(tmp_path):
    names = ["pa", "pb", "pc", "pd"]
    with ScriptedOpenAIServer(_responder(names)) as server:
        result = evaluate(_config(tmp_path, server), problems=[_problem(n) for n in names], seed_examples=[],
                          progress=False)
        requests = list(server.requests)

    run, attempts = read_attempts(tmp_path / "run" / "attempts.jsonl")
    assert [(a.id, a.parent, a.depth, a.passed, a.reason) for a in attempts] == EXPECTED
    assert len(requests) == len(EXPECTED) and all(b["n"] == 1 for b in requests)
    assert run.extra["repair"]["rounds"] == 2

    # What a repair was shown: the failed declaration as checked, Lean's message at its position.
    failed = next(a for a in attempts if a.id == "pa/r0/s1")
    assert failed.feedback == [{"line": 2, "column": 2, "severity": "error", "text": "unsolved goals\n⊢ x + x = 4"}]
    repair_of = {b["seed"]: b for b in requests}[repair_seed(0, "pa/r0/s1/f0")]
    msgs = repair_of["messages"]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert msgs[2]["content"] == f"```lean4\n{STATEMENT.format(name='pa').rstrip()}\n  double_error\n```"
    assert "line 2, column 2: error: unsolved goals\n⊢ x + x = 4" in msgs[3]["content"]
    sorry = {b["seed"]: b for b in requests}[repair_seed(0, "pd/r0/s0/f0")]["messages"][-1]["content"]
    assert re.search(r"line 1, column \d+: warning: declaration uses 'sorry'", sorry)
    depth2 = {b["seed"]: b for b in requests}[repair_seed(0, "pb/r0/s0/f0/f0")]["messages"]
    assert "-- second try" in depth2[2]["content"]  # the depth-1 repair's own proof is shown

    s = result.summary
    assert s.solved == {"pa": 0, "pb": 0, "pd": 0} and s.solved_by_depth == {0: 2, 2: 1}
    assert s.pass_at_k == {1: pytest.approx(0.25), 2: pytest.approx(0.5)}  # samples only
    assert s.calls == {"samples": 8, "repairs": 5, "total": 13, "mean": 3.25, "max": 5}
    assert s.pass_at_budget == [
        {"budget": 1, "plain": pytest.approx(0.25), "repair": 0.25},
        {"budget": 2, "plain": pytest.approx(0.5), "repair": 0.5},
        {"budget": 4, "plain": None, "repair": 0.75},
        {"budget": 5, "plain": None, "repair": 0.75},
    ]
    report = (tmp_path / "run" / "report.md").read_text()
    assert "13 completions asked for: 8 samples + 5 repairs; per problem 3.25 on average, 5 at most" in report
    assert "| 2 (repair) | 1 | 25.00 % |" in report and "| 4 | – (more calls than samples) | 75.00 % |" in report


def test_repair_off_by_default_and_rerun_with_repair_repairs_recorded_failures(tmp_path):
    """The ablation path: a plain run, then the same run with repair on asks only for repairs."""
    names = ["pa", "pb"]
    with ScriptedOpenAIServer(_responder(names)) as server:
        evaluate(_config(tmp_path, server, repair={}), problems=[_problem(n) for n in names], seed_examples=[],
                 progress=False)
        assert len(server.requests) == 4
        server.requests.clear()
        result = evaluate(_config(tmp_path, server, repair={"rounds": 1, "per_failure": 2}),
                          problems=[_problem(n) for n in names], seed_examples=[], progress=False)
        assert all(b["messages"][-1]["content"].startswith(REPAIR_HEADING) for b in server.requests)
    # 3 failed samples x 2 repairs each; pb's first repairs fail, and depth 1 is the limit.
    assert len(server.requests) == 6
    assert result.summary.calls["repairs"] == 6 and result.summary.solved_by_depth == {0: 1}


def test_repair_config_is_checked():
    with pytest.raises(UserError, match="a cheat, not a proof to repair"):
        EvalConfig(repair={"rounds": 1, "reasons": ["error", "forbidden"]}).check()
    with pytest.raises(UserError, match="repair.per_failure"):
        EvalConfig(repair={"rounds": 1, "per_failure": 0}).check()
    with pytest.raises(UserError, match="unknown repair key 'depth'"):
        EvalConfig(repair={"depth": 1}).check()
    with pytest.raises(UserError, match="'timeout' cannot be repaired"):
        EvalConfig(repair={"rounds": 1, "reasons": ["timeout"]}).check()
    assert EvalConfig().check().repair_config().rounds == 0


def test_context_is_given_code_a_completion_cannot_redefine_it(tmp_path):
    """The answer `abbrev` runs before the statement as given; a completion that restates it with
    another value has only its proof used, and one that smuggles a redefinition into the proof is
    refused before Lean runs."""
    from theoremllama.lean.pool import Verifier
    from theoremllama.eval.feedback import verify_job

    log = tmp_path / "repl.log"
    problem = Problem(name="ans", split="test", header="import Mathlib\n", context="abbrev answer : ℕ := 3\n",
                      formal_statement="theorem ans : answer + 1 = 4 := by\n")
    cheat = "```lean4\nabbrev answer : ℕ := 5\n\ntheorem ans : answer + 1 = 4 := by\n  norm_num\n```"
    inline = "by\n  norm_num\n  abbrev answer : ℕ := 5"
    os.environ["FAKE_LEAN_REPL_LOG"] = str(log)
    try:
        with ScriptedOpenAIServer(lambda body: cheat) as server:
            evaluate(_config(tmp_path, server, samples=1, repair={}, report=False), problems=[problem],
                     seed_examples=[], progress=False)
            assert "abbrev answer : ℕ := 3\n\ntheorem ans" in server.requests[0]["messages"][-1]["content"]
        with Verifier(FAKE_REPL, workers=1, progress=False) as v:
            smuggled = v.verify_many([verify_job(problem, inline, job_id="inline")])[0]
    finally:
        del os.environ["FAKE_LEAN_REPL_LOG"]
    bodies = [json.loads(line)["request"].get("cmd", "") for line in log.read_text().splitlines()]
    checked = [b for b in bodies if "theorem ans" in b and "sorry" not in b]
    assert checked == ["abbrev answer : ℕ := 3\n\ntheorem ans : answer + 1 = 4 := by\n  norm_num"]
    assert not any(":= 5" in b for b in bodies)  # the completion's definition never reaches Lean
    assert smuggled.reason == "forbidden" and "abbrev" in smuggled.detail
    # The reference type is taken with the context too (the statement side), never without it.
    assert any(b.startswith("abbrev answer : ℕ := 3\n\ntheorem ans") and "sorry" in b for b in bodies)


def test_problems_file_drives_eval(tmp_path):
    """`--set problems_file=...` evaluates a problem file's split; MiniF2F stays the default."""
    path = tmp_path / "problems.jsonl"
    write_problems([_problem("q1"), Problem(**{**_problem("q2").to_dict(), "split": "test"})], path)
    config = load_config(None, [f"problems_file={path}", "split=test", "samples=1", "rounds=1"])
    from theoremllama.eval.evaluate import load_problems

    assert [p.name for p in load_problems(config)] == ["q2"]
    with pytest.raises(UserError, match=r"no problem of split 'dev' \(the file has test: 1, valid: 1\)"):
        load_problems(load_config(None, [f"problems_file={path}", "split=dev"]))
    shipped = load_config(None, [f"problems_file={ROOT / 'data' / 'proofnet' / 'problems.jsonl'}", "split=test"])
    assert len(load_problems(shipped)) == 186 - 7  # ProofNet-test: 186 rows, 7 of them `def`s
    assert load_config(None, []).problems_file is None


KILL_PROBLEMS = ["k1", "k2", "k3", "k4"]


@pytest.mark.slow
def test_kill_and_rerun_resumes_repairs_without_repeating_calls(tmp_path):
    """`theoremllama eval` with repairs on a problem file is SIGKILLed mid-run; the rerun asks the
    server exactly for the attempts (samples and repairs) that were not recorded."""
    samples = 4
    fresh = {sample_seed(0, p, 0, s): f"{p}/r0/s{s}" for p in KILL_PROBLEMS for s in range(samples)}
    expected_ids = set(fresh.values()) | {f"{p}/r0/s{s}/f0" for p in KILL_PROBLEMS for s in range(samples) if s % 2}
    by_seed = {**fresh, **{repair_seed(0, i): i for i in expected_ids if "/f" in i}}

    def responder(body):  # odd samples wrong; every repair (it holds the error text) right
        last = body["messages"][-1]["content"]
        if last.startswith(REPAIR_HEADING):
            return _block(RIGHT if "unsolved goals" in last else WRONG)
        return _block(WRONG if int(by_seed[body["seed"]].rsplit("s", 1)[1]) % 2 else RIGHT)

    problems = tmp_path / "problems.jsonl"
    write_problems([_problem(n, context=f"abbrev {n}_answer : ℕ := 4\n") for n in KILL_PROBLEMS], problems)
    out = tmp_path / "run"
    attempts_path = out / "attempts.jsonl"
    with ScriptedOpenAIServer(responder, latency=0.1) as server:
        config = {"problems_file": str(problems), "split": "valid", "rounds": 1, "samples": samples,
                  "k_examples": 0, "concurrency": 2, "output_dir": str(out), "report": False,
                  "repair": {"rounds": 1},
                  "llm": {"backend": "openai", "model": "scripted", "base_url": server.base_url},
                  "verifier": {"repl_cmd": FAKE_REPL, "workers": 2}}
        (tmp_path / "eval.yaml").write_text(yaml.safe_dump(config))
        kill_when(["eval", "--config", str(tmp_path / "eval.yaml"), "--no-progress"], ROOT,
                  lambda: _repairs_recorded(attempts_path) >= 2, "no repair")
        _, before = read_attempts(attempts_path)
        assert 2 <= sum(a.depth for a in before) and len(before) < len(expected_ids)
        kept = attempts_path.read_bytes()
        server.requests.clear()
        result = evaluate(load_config(tmp_path / "eval.yaml"), progress=False)
        rerun = [by_seed[b["seed"]] for b in server.requests]

    _, after = read_attempts(attempts_path)  # raises on a duplicated attempt
    assert {a.id for a in after} == expected_ids
    assert sorted(rerun) == sorted(expected_ids - {a.id for a in before})  # nothing asked twice
    assert attempts_path.read_bytes().startswith(kept[: kept.rfind(b"\n") + 1])
    assert result.summary.cumulative_accuracy == 1.0 and result.summary.calls["repairs"] == 8
    assert result.summary.solved_by_depth == {0: 4}


def _repairs_recorded(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(1 for line in path.read_text().splitlines() if '"depth": 1' in line)


def test_feedback_maps_positions_to_the_theorem_lines_and_clips_long_messages():
    """Positions count from the theorem's first line whatever header and context precede it; a
    helper lemma in the context is never taken for the theorem to prove."""
    from theoremllama.eval.feedback import MESSAGE_CHARS, checked_declaration, feedback

    problem = Problem(name="t", split="test", header="import Mathlib\nopen Real\n",
                      context="lemma helper : True := trivial\n\nabbrev k : ℕ := 2\n",
                      formal_statement="theorem t (x : ℕ) :\n    x + k = k + x := by\n")
    declaration, first_line, prepared = checked_declaration(problem, "by\n  omega\n  double_error")
    assert prepared.name == "t" and declaration.startswith("theorem t (x : ℕ)")
    assert prepared.code.split("\n")[first_line - 1] == "theorem t (x : ℕ) :"
    long = "unsolved goals\n" + "h : x = x\n" * 400
    messages = [{"severity": "warning", "pos": {"line": first_line, "column": 8}, "data": "unused"},
                {"severity": "error", "pos": {"line": first_line + 3, "column": 2}, "data": long},
                {"severity": "error", "pos": {"line": 3, "column": 0}, "data": "in the context"}]
    got = feedback(problem, "by\n  omega\n  double_error", messages, limit=2)
    assert [(e["line"], e["column"], e["severity"]) for e in got] == [(4, 2, "error"), (3 - first_line + 1, 0, "error")]
    assert got[0]["text"] == long.strip()[:MESSAGE_CHARS] + " ..."
    assert feedback(problem, "by\n  omega", messages[:1], limit=3)[0]["severity"] == "warning"  # no error: warnings
