"""pass@k against hand-computed values and the brute-force combinatorial definition."""

import itertools
import math

import pytest

from theoremllama.data.records import ProofAttempt
from theoremllama.eval.passk import ks_for, mean_pass_at_k, pass_at_k, summarize


@pytest.mark.parametrize("n,c,k,expected", [
    (5, 2, 1, 0.4),           # 2 of 5 correct: one draw succeeds 2/5 of the time
    (5, 2, 2, 0.7),           # 1 - C(3,2)/C(5,2) = 1 - 3/10
    (5, 0, 3, 0.0),
    (5, 5, 1, 1.0),
    (5, 4, 2, 1.0),           # n - c < k: every pair holds a correct one
    (128, 1, 128, 1.0),
    (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
])
def test_hand_computed_values(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_matches_brute_force_enumeration_of_k_subsets():
    for n in range(1, 9):
        for c in range(n + 1):
            samples = [True] * c + [False] * (n - c)
            for k in range(1, n + 1):
                subsets = list(itertools.combinations(range(n), k))
                brute = sum(any(samples[i] for i in s) for s in subsets) / len(subsets)
                assert pass_at_k(n, c, k) == pytest.approx(brute, abs=1e-12), (n, c, k)


def test_stable_for_large_n_where_binomials_overflow_floats():
    # C(1000, 500) ~ 1e299 and C(2000, 1000) overflows a float; the product form does not care.
    exact = 1 - math.comb(1990, 1000) / math.comb(2000, 1000)
    assert pass_at_k(2000, 10, 1000) == pytest.approx(exact, rel=1e-9)


def test_rejects_impossible_counts():
    with pytest.raises(ValueError):
        pass_at_k(4, 5, 1)
    with pytest.raises(ValueError):
        pass_at_k(4, 1, 5)


def test_reported_ks_are_the_defaults_that_fit_plus_n():
    assert ks_for(128) == [1, 8, 32, 128]
    assert ks_for(8) == [1, 8]
    assert ks_for(5) == [1, 5]


def test_short_problem_counts_exactly_when_solved():
    # 2 samples, one correct: pass@8 is certainly 1; no correct sample: counted 0.
    assert mean_pass_at_k([(2, 1), (2, 0)], 8) == 0.5


def _a(problem, round, sample, passed, reason=None):
    return ProofAttempt(problem=problem, round=round, sample=sample, prompt_hash="h", completion="",
                        proof="by x", passed=passed, reason=reason or ("ok" if passed else "error"))


def test_summary_rounds_cumulative_and_reasons():
    attempts = [
        _a("p1", 0, 0, True), _a("p1", 0, 1, False),
        _a("p2", 0, 0, False), _a("p2", 0, 1, False, "sorry"),
        _a("p3", 0, 0, False), _a("p3", 0, 1, False, "no_proof"),
        _a("p2", 1, 0, False), _a("p2", 1, 1, True),
        _a("p3", 1, 0, False), _a("p3", 1, 1, False),
    ]
    s = summarize(attempts, ["p1", "p2", "p3", "p4"], split="valid", samples=2)
    assert s.problems == 4 and not s.complete  # p4 was never attempted
    assert [(r.round, r.solved_new, r.cumulative_solved) for r in s.rounds] == [(0, 1, 1), (1, 1, 2)]
    assert s.rounds[1].accuracy == 0.25 and s.cumulative_accuracy == 0.5
    assert s.solved == {"p1": 0, "p2": 1}
    assert s.pass_at_k == {1: pytest.approx(0.5 / 4), 2: 0.25}
    assert s.reasons == {"error": 6, "no_proof": 1, "ok": 2, "sorry": 1}
    assert s.rounds[0].reasons == {"error": 3, "no_proof": 1, "ok": 1, "sorry": 1}
