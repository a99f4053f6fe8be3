"""Collecting a round's verified proofs: dedup by code, the cap over all rounds, shortest first."""

from __future__ import annotations

from support.learning import problem
from theoremllama.data.records import Problem, ProofAttempt
from theoremllama.learn.collect import VerifiedProof, collect_round, sft_rows
from theoremllama.data.records import OBTRecord


def _attempt(name, sample, proof, passed=True, round=0):
    return ProofAttempt(problem=name, round=round, sample=sample, prompt_hash="h", completion=proof, proof=proof,
                        passed=passed, reason="ok" if passed else "error")


PROBLEMS = [Problem.from_dict(problem(n, k)) for k, n in enumerate(["a", "b"], 1)]


def test_dedup_cap_and_shortest_first():
    attempts = [_attempt("b", 0, "by omega"),
                _attempt("a", 0, "by\n  simp [h]\n  omega"),
                _attempt("a", 1, "by norm_num"),
                _attempt("a", 2, "by\n  -- same code, other comments\n  norm_num"),
                _attempt("a", 3, "by linarith"),
                _attempt("a", 4, "by decide", passed=False),
                _attempt("a", 5, "by simp", round=1)]  # another round: not this one's
    got = collect_round(attempts, 0, PROBLEMS, [], max_per_problem=2)
    assert [(v.problem, v.sample) for v in got.new] == [("a", 1), ("a", 3), ("b", 0)]
    assert (got.passed, got.duplicates, got.over_cap) == (5, 1, 1)


def test_proofs_kept_before_count_toward_the_cap_and_are_not_collected_again():
    before = [VerifiedProof("a", 0, 1, "by norm_num", "by norm_num")]
    attempts = [_attempt("a", 0, "by  norm_num", round=1), _attempt("a", 1, "by simp [h]", round=1),
                _attempt("a", 2, "by omega", round=1)]
    got = collect_round(attempts, 1, PROBLEMS, before, max_per_problem=2)
    assert [v.proof for v in got.new] == ["by omega"] and (got.duplicates, got.over_cap) == (1, 1)


def test_sft_rows_are_base_then_kept_reindexed_with_the_original_statement():
    base = [OBTRecord(idx=40, Name="base", Statement="theorem base : True :=", Proof="theorem base : True := trivial")]
    kept = [VerifiedProof("b", 0, 0, "by\n  -- compute\n  omega", "by omega")]
    rows = sft_rows(base, kept, PROBLEMS)
    assert [r.idx for r in rows] == [0, 1] and rows[0].Name == "base"
    assert rows[1].Statement == "theorem b (x : ℕ) (h : x = 2) : x + x = 4 :="
    assert rows[1].Proof == "theorem b (x : ℕ) (h : x = 2) : x + x = 4 := by\n  omega"
    assert rows[1].Commented_proof == "theorem b (x : ℕ) (h : x = 2) : x + x = 4 := by\n  -- compute\n  omega"
