"""Verdicts that must match what Lean says: namespaced theorems, the reference type's header,
pretty-printer bounds, the axiom list's two forms, and lemma-style completions.

Boundary doubled: the Lean REPL process only (tests/support/fake_lean_repl.py, whose reply shapes
follow Lean v4.24.0, see its docstring). The Verifier pool, the jobs, the policy and the checks are
the real ones.
"""

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from theoremllama.errors import UserError
from theoremllama.lean import Verifier, VerifyJob
from theoremllama.lean.job import open_namespace, prepare_job

DOUBLE = [sys.executable, str(Path(__file__).resolve().parents[1] / "support" / "fake_lean_repl.py")]
HEADER = "import Mathlib\n\nopen Real\n\n"
STATEMENT = "theorem t (x : ℕ) (h : x = 2) : x + x = 4 :="


def verify(jobs, workers=1, bypass_policy=False):
    with Verifier(DOUBLE, workers=workers, timeout=20, progress=False) as v:
        if bypass_policy:  # as if a cheat slipped through the text policy: the checks must still hold
            futures = v._submit_prepared([replace(prepare_job(j), violations=()) for j in jobs])
            return [f.result(timeout=60) for f in futures]
        return v.verify_many(jobs)


def reasons(verdicts):
    return [v.reason for v in verdicts]


# ----------------------------------------------------------------------------- namespaces (item 9)

def test_a_namespaced_theorem_is_checked_under_its_full_name():
    jobs = [
        # the bootstrap's way: the record's namespace given with the job
        VerifyJob("given", "theorem two_le (n : ℕ) (h : 2 ≤ n) : 1 ≤ n :=", "by omega", HEADER, namespace="Nat.Prime"),
        # the header leaves the namespace open (TheoremRecord.header() writes it)
        VerifyJob("in_header", "theorem two_le' (n : ℕ) : n ≤ n + 1 :=", "by omega", HEADER + "namespace Foo\n"),
        # a false proof in a namespace is still an error, not a crash or a pass
        VerifyJob("false", "theorem bad (n : ℕ) : n = n + 1 :=", "by double_error", HEADER, namespace="Foo"),
        # the statement retyped by the proof's environment: the full-name lookup sees it
        VerifyJob("retyped", "theorem rt (n : ℕ) : n = n :=", "by double_retype", HEADER, namespace="Foo"),
    ]
    out = verify(jobs)
    assert reasons(out) == ["ok", "ok", "error", "statement"], [v.detail for v in out]
    assert prepare_job(jobs[0]).full_name == "Nat.Prime.two_le"
    assert prepare_job(jobs[1]).full_name == "Foo.two_le'"


def test_root_escape_and_namespace_bookkeeping():
    assert prepare_job(VerifyJob("r", "theorem _root_.top : True :=", "trivial", "", namespace="Foo")).full_name == "top"
    assert open_namespace("namespace A.B\nsection\nend\nnamespace C\nend C\n") == "A.B"
    assert open_namespace("namespace A\nend A\n-- namespace X\n") == ""
    assert open_namespace("section S\nnamespace N\n") == "N"
    with pytest.raises(UserError, match="namespace 'Bar' given"):
        prepare_job(VerifyJob("x", STATEMENT, "by norm_num", "namespace Foo\n", namespace="Bar"))
    # the namespace is opened after the header: the checked code says so
    job = prepare_job(VerifyJob("x", STATEMENT, "by norm_num", HEADER, namespace="Foo"))
    assert job.header_block.endswith("namespace Foo\n") and job.namespace == "Foo"


def test_the_reference_type_depends_on_the_header():
    """The same statement text means different things in two headers (here `c` names `c` in one
    and `B.c` in the other): each job is compared with its own header's reference type."""
    statement = "theorem uses_c : c = c :="
    jobs = [VerifyJob("root", statement, "by rfl", "def c : ℕ := 1\n"),
            VerifyJob("in_b", statement, "by rfl", "def c : ℕ := 1\nnamespace B\ndef c : ℕ := 2\n")]
    out = verify(jobs)
    assert reasons(out) == ["ok", "ok"], [v.detail for v in out]


# ----------------------------------------------------------------------------- printed forms

def test_an_axiom_free_proof_passes_and_silence_does_not():
    jobs = [VerifyJob("free", "theorem free : 2 + 2 = 4 :=", "by decide", HEADER),
            VerifyJob("silent", "theorem silent : 2 + 2 = 4 :=", "by norm_num\n  double_silent_axioms", HEADER)]
    free, silent = verify(jobs)
    assert free.reason == "ok" and free.axioms == []  # `'free' does not depend on any axioms`
    assert silent.reason == "axiom" and "printed no axiom list" in silent.detail


def test_long_statements_are_printed_in_full():
    """A statement longer than the pretty printer's default budget (pp.maxSteps = 5000 even under
    pp.all) would print cut with `⋯`: a proof that proves a different statement (differing only
    after the cut) would then compare equal. The checks raise every bound."""
    long_sum = " + ".join(["x"] * 3000)  # about 6000 words
    statement = f"theorem long (x : ℕ) : {long_sum} = {long_sum} :="
    out = verify([VerifyJob("retyped", statement, "by double_retype", HEADER),
                  VerifyJob("honest", statement.replace("theorem long", "theorem long2"), "by norm_num", HEADER)])
    assert reasons(out) == ["statement", "ok"], [v.detail[:200] for v in out]


def test_a_type_printed_with_an_elided_part_is_never_compared():
    (out,) = verify([VerifyJob("elided", STATEMENT, "by norm_num\n  double_elided", HEADER)])
    assert out.reason == "statement" and "elided" in out.detail


# ----------------------------------------------------------------------------- lemma style

AUX = "lemma aux (x : ℕ) (h : x = 2) : x + x = 4 := by\n  subst h\n  norm_num\n\n"
TARGET = "theorem t (x : ℕ) (h : x = 2) : x + x = 4 := by\n  exact aux x h\n"


def lemma_job(i, completion, header=HEADER, namespace=""):
    return VerifyJob(str(i), STATEMENT + " by\n", completion, header, namespace=namespace)


def test_lemma_style_completions():
    cases = [
        (AUX + TARGET, "ok"),
        ("def two : ℕ := 2\n\nabbrev four : ℕ := 4\n\n" + AUX + TARGET, "ok"),
        ("private lemma aux2 : True := trivial\n\n" + TARGET.replace("exact aux x h", "subst h\n  norm_num"), "ok"),
        # the target restated with another statement
        (AUX + TARGET.replace("x + x = 4", "x + x = 4 ∨ False"), "statement"),
        # the target declared twice: Lean's "has already been declared"
        (AUX + TARGET + "\n" + TARGET, "error"),
        # the target never restated
        (AUX, "statement"),
        # an auxiliary lemma with a sorry, an axiom-dependent one, a native_decide one
        ("lemma aux (x : ℕ) (h : x = 2) : x + x = 4 := by\n  sorry\n\n" + TARGET, "forbidden"),
        ("lemma aux (x : ℕ) (h : x = 2) : x + x = 4 := by\n  subst h\n  native_decide\n\n" + TARGET, "axiom"),
        # a declaration after the target, a target that is a def
        (AUX + TARGET + "\ntheorem later : True := trivial\n", "forbidden"),
        (AUX + TARGET.replace("theorem t", "def t"), "forbidden"),
        # anything the policy forbids is still forbidden with declarations allowed
        ("instance : Inhabited ℕ := ⟨3⟩\n\n" + TARGET.replace("exact aux x h", "subst h\n  norm_num"), "forbidden"),
        ("@[simp] lemma aux (x : ℕ) (h : x = 2) : x + x = 4 := by\n  subst h\n  norm_num\n\n" + TARGET, "forbidden"),
        ("noncomputable def two : ℕ := 2\n\n" + AUX + TARGET, "forbidden"),
        ("axiom cheat : ∀ x : ℕ, x = 2 → x + x = 4\n\n" + TARGET.replace("aux", "cheat"), "forbidden"),
    ]
    out = verify([lemma_job(i, c) for i, (c, _) in enumerate(cases)], workers=2)
    assert reasons(out) == [want for _, want in cases], [v.detail for v in out]
    assert out[7].detail == "depends on axioms outside the whitelist: Lean.ofReduceBool"
    assert out[0].detail == "" and out[0].axioms == ["propext", "Classical.choice", "Quot.sound"]
    assert out[3].detail.startswith("the proved theorem's type differs from the statement's: expected `")
    assert "already been declared" in out[4].detail
    assert all(prepare_job(lemma_job(0, c)).lemma_style for c, _ in cases)


def test_auxiliary_axioms_reach_the_target_through_print_axioms():
    """With the text policy bypassed, the transitive `#print axioms` of the target still sees an
    axiom or a sorry an auxiliary lemma depends on."""
    cases = [
        "axiom cheat : ∀ x : ℕ, x = 2 → x + x = 4\n\n" + TARGET.replace("aux", "cheat"),
        "lemma aux (x : ℕ) (h : x = 2) : x + x = 4 := by\n  double_old_sorry\n\n" + TARGET,
        "axiom cheat : ∀ x : ℕ, x = 2 → x + x = 4\n\nlemma aux (x : ℕ) (h : x = 2) : x + x = 4 := cheat x h\n\n"
        + TARGET,
    ]
    out = verify([lemma_job(i, c) for i, c in enumerate(cases)], bypass_policy=True)
    assert reasons(out) == ["axiom", "sorry", "axiom"], [v.detail for v in out]
    assert "cheat" in out[0].axioms and "cheat" in out[2].axioms


def test_lemma_style_in_a_namespace():
    out = verify([lemma_job(0, AUX + TARGET, namespace="Foo"),
                  lemma_job(1, AUX + TARGET.replace("theorem t", "theorem _root_.t"), namespace="Foo")])
    # `_root_.t` is not `Foo.t`, the theorem asked for: nothing named Foo.t is proved
    assert reasons(out) == ["ok", "statement"], [v.detail for v in out]


def test_reference_types_are_computed_once_per_header_and_statement(tmp_path, monkeypatch):
    log = tmp_path / "requests.jsonl"
    monkeypatch.setenv("FAKE_LEAN_REPL_LOG", str(log))  # the double logs every request it gets
    jobs = [VerifyJob(str(i), STATEMENT, proof, HEADER) for i, proof in enumerate(["by norm_num", "by simp", "by omega"])]
    jobs.append(VerifyJob("other", STATEMENT, "by norm_num", "import Mathlib\n"))
    out = verify(jobs)
    assert reasons(out) == ["ok"] * 4 and [v.id for v in out] == ["0", "1", "2", "other"]
    import json
    sent = [json.loads(line)["request"]["cmd"] for line in log.read_text(encoding="utf-8").splitlines()]
    assert sum(1 for c in sent if c.startswith(STATEMENT + " sorry")) == 2  # one per header


def test_failing_verdicts_point_into_the_submitted_code():
    lines = HEADER.count("\n")
    err, sorry = verify([VerifyJob("e", STATEMENT, "by\n  double_error", HEADER),
                         VerifyJob("s", STATEMENT, "by\n  sorry", HEADER)], bypass_policy=True)
    assert err.reason == "error" and err.detail.startswith(f"line {lines + 2}:2: unsolved goals")
    assert err.messages and err.messages[0]["pos"]["line"] == lines + 2
    assert sorry.reason == "sorry" and sorry.detail == f"the proof uses sorry at line {lines + 2}:2"
    (missing,) = verify([lemma_job(0, AUX)])
    assert missing.reason == "statement" and missing.detail.startswith("no theorem `t` after the proof")


# ----------------------------------------------------------------------------- lemma style with a given context

ANSWER = "abbrev answer : ℕ := 3"


def test_a_lemma_style_completion_keeps_the_problems_context_and_cannot_redefine_it():
    """A problem's context (an answer `abbrev`) is given code in front of the statement. A
    lemma-style completion restates the target, so it must still run after the context: else it
    could define its own `answer`, and its theorem would print exactly like the statement's."""
    statement = "theorem t : answer + 1 = 4 :="
    honest = VerifyJob("honest", statement, "lemma aux : answer = 3 := by norm_num\n"
                       "theorem t : answer + 1 = 4 := by norm_num", HEADER, context=ANSWER)
    cheat = VerifyJob("cheat", statement, "abbrev answer : ℕ := 7\n"
                      "theorem t : answer + 1 = 4 := by norm_num", HEADER, context=ANSWER)
    prepared = prepare_job(cheat)
    assert prepared.body.startswith(ANSWER) and prepared.lemma_style
    assert prepared.proof_offset == prepared.body.index("abbrev answer : ℕ := 7")
    assert not prepared.violations  # the given `abbrev` is never judged; the cheat's is allowed by the policy ...
    out = verify([honest, cheat])
    assert reasons(out) == ["ok", "error"], [v.detail for v in out]  # ... and Lean refuses the redeclaration
    assert "already been declared" in out[1].detail
