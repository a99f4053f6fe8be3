"""pass@k and the other numbers of an evaluation, computed from proof attempts alone.

pass@k is the probability that at least one of k samples, drawn without replacement from the n
generated for a problem, is correct. With c correct among n, the unbiased estimator of Chen et
al. (2021, "Evaluating Large Language Models Trained on Code") is

    pass@k = 1 - C(n - c, k) / C(n, k) = 1 - prod_{i = n - c + 1}^{n} (1 - k / i)

and the product form avoids the huge binomials (C(128, 64) overflows a float).

Per-round and cumulative accuracy follow the paper's iterative proof writing: a problem counts as
solved in the first round where any of its samples passes, and the cumulative accuracy after
round r is the fraction of all problems solved in rounds 0..r.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from theoremllama.data.records import ProofAttempt

# The k reported by default (only those <= the samples per round are kept), plus n itself.
DEFAULT_KS: tuple[int, ...] = (1, 8, 32)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem with `c` correct among `n` samples (requires 0 <= c <= n, 1 <= k <= n)."""
    if not (0 <= c <= n) or not (1 <= k <= n):
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:  # every k-subset contains a correct sample
        return 1.0
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


def mean_pass_at_k(counts: list[tuple[int, int]], k: int) -> float:
    """pass@k averaged over problems given as (n, c) pairs. A problem with fewer than k samples
    (an interrupted run) counts 1 if it has a correct sample (exact: pass@k >= pass@n) else 0."""
    if not counts:
        return 0.0
    return sum(pass_at_k(n, c, k) if n >= k else float(c > 0) for n, c in counts) / len(counts)


def round0_counts(attempts: list[ProofAttempt], problems: list[str]) -> list[tuple[int, int]]:
    """(samples, correct) in round 0 for each problem (0, 0 for a problem without attempts)."""
    counts = {name: [0, 0] for name in problems}
    for a in attempts:
        if a.round == 0 and a.problem in counts:
            counts[a.problem][0] += 1
            counts[a.problem][1] += int(a.passed)
    return [tuple(counts[name]) for name in problems]


def ks_for(n: int, ks: tuple[int, ...] = DEFAULT_KS) -> list[int]:
    """The k to report for n samples per problem: the defaults that fit, and n itself."""
    return sorted({k for k in ks if k <= n} | ({n} if n >= 1 else set()))


@dataclass
class RoundSummary:
    """What one round of iterative proof writing did."""

    round: int
    """0-based round index."""
    attempted: int
    """Problems with at least one attempt in this round."""
    attempts: int
    """Attempts made in this round."""
    solved_new: int
    """Problems first solved in this round."""
    accuracy: float
    """`solved_new / problems`: this round's contribution to the cumulative accuracy."""
    cumulative_solved: int
    """Problems solved in this round or an earlier one."""
    cumulative_accuracy: float
    """`cumulative_solved / problems`."""
    reasons: dict[str, int] = field(default_factory=dict)
    """Attempts of this round counted by verdict reason (`ok`, `error`, `no_proof`, ...)."""


@dataclass
class Summary:
    """Every number an evaluation reports, computed from its attempts alone."""

    split: str
    """MiniF2F split (`valid`/`test`; '' if unknown)."""
    problems: int
    """Problems in the evaluation: the denominator of every accuracy."""
    samples: int
    """Samples per problem per round (pass@k is estimated with this n)."""
    rounds: list[RoundSummary]
    """One entry per round that has attempts, in order."""
    pass_at_k: dict[int, float]
    """Round-0 pass@k averaged over all problems (the single-round, standard metric)."""
    cumulative_accuracy: float
    """Fraction of problems solved in any round: the paper's headline number."""
    solved: dict[str, int]
    """Solved problem -> the round it was first solved in."""
    reasons: dict[str, int]
    """All attempts counted by verdict reason."""
    complete: bool
    """False when some problem has fewer than `samples` attempts in a round it was attempted
    in, or no attempt at all (an interrupted run): its numbers are then lower bounds."""

    def to_dict(self) -> dict:
        import dataclasses

        d = dataclasses.asdict(self)
        d["pass_at_k"] = {str(k): v for k, v in self.pass_at_k.items()}
        return d


def summarize(attempts: list[ProofAttempt], problems: list[str], *, split: str = "",
              samples: int | None = None, ks: tuple[int, ...] = DEFAULT_KS) -> Summary:
    """Compute pass@k, per-round and cumulative accuracy and failure counts.

    `problems` names every problem of the evaluation (problems without attempts count as
    unsolved). `samples` is the planned samples per round (default: the most seen for a
    problem in round 0). A problem with fewer than k samples (interrupted run) counts for
    pass@k as 1 if it has a correct sample (exact: pass@k >= pass@n') and 0 otherwise."""
    names = list(dict.fromkeys(problems))
    wanted = set(names)
    attempts = [a for a in attempts if a.problem in wanted]
    by_round: dict[int, dict[str, list[ProofAttempt]]] = {}
    for a in attempts:
        by_round.setdefault(a.round, {}).setdefault(a.problem, []).append(a)
    round0 = by_round.get(0, {})
    n = samples if samples is not None else max((len(v) for v in round0.values()), default=0)

    solved: dict[str, int] = {}
    rounds: list[RoundSummary] = []
    complete = all(name in round0 for name in names)
    for r in sorted(by_round):
        per_problem = by_round[r]
        new = sorted(p for p, atts in per_problem.items() if p not in solved and any(a.passed for a in atts))
        for p in new:
            solved[p] = r
        complete = complete and all(len(atts) >= n for atts in per_problem.values())
        reasons = Counter(a.reason for atts in per_problem.values() for a in atts)
        rounds.append(RoundSummary(
            round=r, attempted=len(per_problem), attempts=sum(len(v) for v in per_problem.values()),
            solved_new=len(new), accuracy=_ratio(len(new), len(names)),
            cumulative_solved=len(solved), cumulative_accuracy=_ratio(len(solved), len(names)),
            reasons=dict(sorted(reasons.items()))))

    counts = round0_counts(attempts, names)
    pass_k = {k: mean_pass_at_k(counts, k) for k in ks_for(n, ks)}

    return Summary(
        split=split, problems=len(names), samples=n, rounds=rounds, pass_at_k=pass_k,
        cumulative_accuracy=_ratio(len(solved), len(names)), solved=dict(sorted(solved.items())),
        reasons=dict(sorted(Counter(a.reason for a in attempts).items())), complete=complete)


def _ratio(a: float, b: int) -> float:
    return a / b if b else 0.0
