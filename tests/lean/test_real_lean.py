"""The verifier against a real Lean REPL: nothing is doubled.

Runs where a REPL is configured (THEOREMLLAMA_REPL_CMD, or the one `theoremllama setup-lean`
builds), else each test is skipped with the reason. The core tests need only Lean's core library
(`sleep`, `decide`, `omega`, `native_decide`); the MiniF2F test needs Mathlib in the REPL's project.
"""

import json

import pytest

from theoremllama.errors import UserError
from theoremllama.lean import Verifier, VerifyJob
from theoremllama.lean.setup import resolve_repl_command

pytestmark = pytest.mark.lean

HEADER = "set_option maxHeartbeats 400000\n\nopen Nat\n\n"


@pytest.fixture(scope="module")
def repl_cmd():
    try:
        resolve_repl_command()
    except UserError as e:
        pytest.skip(f"no Lean REPL here: {e}")
    return None  # the Verifier resolves the same REPL (and its Lake environment) itself


def test_true_false_timeout_and_native_decide(repl_cmd):
    jobs = [
        VerifyJob("true", "theorem real_true (a b : Nat) : a + b = b + a :=", "by omega", HEADER),
        VerifyJob("false", "theorem real_false : (2 : Nat) + 2 = 5 := by\n", "  decide", HEADER),
        VerifyJob("slow", "theorem real_slow : True := by\n", "  sleep 60000\n  trivial", HEADER),
        VerifyJob("native", "theorem real_native : 10 < 20 :=", "by native_decide", HEADER),
        VerifyJob("after", "theorem real_after : 2 ∣ 4 :=", "by decide", HEADER),
    ]
    with Verifier(repl_cmd, workers=2, timeout=20, progress=False) as v:
        out = v.verify_many(jobs)
        stats = v.stats()
    by_id = {x.id: x for x in out}
    assert by_id["true"].passed and set(by_id["true"].axioms) <= {"propext", "Classical.choice", "Quot.sound"}
    assert by_id["false"].reason == "error"
    # positions refer to the submitted code: the header's 4 lines, then the statement, then `decide`
    line = by_id["false"].messages[0]["pos"]["line"]
    assert line in (5, 6)
    assert by_id["slow"].reason == "timeout" and by_id["slow"].seconds >= 20
    assert by_id["native"].reason == "axiom" and "Lean.ofReduceBool" in by_id["native"].axioms
    assert by_id["after"].passed  # the pool went on after the timeout
    assert stats["header_imports"] <= 2 + stats["restarts"]


def test_header_is_imported_once_for_many_proofs(repl_cmd):
    jobs = [VerifyJob(f"r{i}", f"theorem reuse_{i} (n : Nat) : n + {i} = {i} + n :=", "by omega", HEADER)
            for i in range(6)]
    with Verifier(repl_cmd, workers=1, timeout=60, progress=False) as v:
        out = v.verify_many(jobs)
        assert v.stats()["header_imports"] == 1
    assert all(x.passed for x in out)


def test_shipped_minif2f_examples_with_mathlib(repl_cmd, root):
    records = [json.loads(line) for line in
               (root / "data" / "examples" / "minif2f_valid_commented.jsonl").read_text(encoding="utf-8").splitlines()]
    jobs = [VerifyJob(r["id"], r["statement"], r["proof"], r["header"]) for r in records[:4]]
    with Verifier(repl_cmd, workers=2, timeout=300, progress=False) as v:
        out = v.verify_many(jobs)
    if any("unknown module prefix" in x.detail or "unknown package" in x.detail for x in out):
        pytest.skip("the configured REPL has no Mathlib")
    assert out[0].id == "mathd_algebra_182" and out[0].passed, out[0].detail  # `ring`


def test_namespaces_lemma_style_and_axiom_free_proofs(repl_cmd):
    """What the double models, checked against real Lean: the check commands (every pp option they
    set exists), full names under a namespace, an axiom-free proof's `does not depend on any
    axioms`, lemma-style completions and an auxiliary's axioms reaching the target."""
    aux = "theorem real_aux (a b : Nat) : a + b = b + a := Nat.add_comm a b\n\n"
    target = "theorem real_target (a b : Nat) : a + b = b + a := real_aux a b\n"
    jobs = [
        VerifyJob("ns", "theorem real_ns (n : Nat) : n ≤ n + 1 :=", "by omega", HEADER, namespace="RealNs"),
        VerifyJob("rfl", "theorem real_rfl : 2 + 2 = 4 :=", "rfl", HEADER),
        VerifyJob("lemma", "theorem real_target (a b : Nat) : a + b = b + a :=", aux + target, HEADER),
        VerifyJob("restated", "theorem real_target2 (a b : Nat) : a + b = b + a :=",
                  aux + "theorem real_target2 (a b : Nat) : a + b = a + b := rfl\n", HEADER),
        VerifyJob("native_aux", "theorem real_target3 : 10 < 20 :=",
                  "theorem real_aux3 : 10 < 20 := by native_decide\n\ntheorem real_target3 : 10 < 20 := real_aux3\n",
                  HEADER),
    ]
    with Verifier(repl_cmd, workers=1, timeout=60, progress=False) as v:
        out = {x.id: x for x in v.verify_many(jobs)}
    assert out["ns"].passed, out["ns"].detail
    assert out["rfl"].passed and out["rfl"].axioms == [], out["rfl"]
    assert out["lemma"].passed, out["lemma"].detail
    assert out["restated"].reason == "statement"
    assert out["native_aux"].reason == "axiom" and "Lean.ofReduceBool" in out["native_aux"].axioms
