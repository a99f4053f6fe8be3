"""pass@k and the other numbers of an evaluation, computed from proof attempts alone.

pass@k is the probability that at least one of k samples, drawn without replacement from the n
generated for a problem, is correct. With c correct among n, the unbiased estimator of Chen et
al. (2021, "Evaluating Large Language Models Trained on Code") is

    pass@k = 1 - C(n - c, k) / C(n, k) = 1 - prod_{i = n - c + 1}^{n} (1 - k / i)

and the product form avoids the huge binomials (C(128, 64) overflows a float).

Per-round and cumulative accuracy follow the paper's iterative proof writing: a problem counts as
solved in the first round where any of its samples passes, and the cumulative accuracy after
round r is the fraction of all problems solved in rounds 0..r.

With repair rounds (`repair.py`) a problem costs more generation calls than its samples: pass@k
of the samples alone would flatter repair. `calls` counts every completion asked for (samples +
repairs) and `pass_at_budget` compares, at the same number b of calls per problem (round 0):
  plain    pass@b of the fresh samples (the unbiased estimator; only for b <= samples), and
  repair   the share of problems whose first passing attempt is among their first b calls, in
           the order sample 0, its repairs (depth first), sample 1, its repairs, ... (a repair
           that was never asked for costs nothing).
Repairs never count as samples: pass@k and `complete` read fresh samples (depth 0) only.
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
        if a.round == 0 and a.depth == 0 and a.problem in counts:
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
class EvalSummary:
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
    calls: dict = field(default_factory=dict)
    """Generation calls (completions asked for), all rounds: `samples`, `repairs`, `total`, and
    per problem `mean` and `max`."""
    solved_by_depth: dict[int, int] = field(default_factory=dict)
    """Solved problems by the repair depth of their shallowest passing attempt (in the round they
    were first solved): 0 = a fresh sample passed."""
    pass_at_budget: list[dict] = field(default_factory=list)
    """Rows {budget, plain, repair} (see the module docstring); empty when nothing was repaired."""

    def to_dict(self) -> dict:
        import dataclasses

        d = dataclasses.asdict(self)
        d["pass_at_k"] = {str(k): v for k, v in self.pass_at_k.items()}
        return d


def summarize(attempts: list[ProofAttempt], problems: list[str], *, split: str = "",
              samples: int | None = None, ks: tuple[int, ...] = DEFAULT_KS) -> EvalSummary:
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
        complete = complete and all(sum(a.depth == 0 for a in atts) >= n for atts in per_problem.values())
        reasons = Counter(a.reason for atts in per_problem.values() for a in atts)
        rounds.append(RoundSummary(
            round=r, attempted=len(per_problem), attempts=sum(len(v) for v in per_problem.values()),
            solved_new=len(new), accuracy=_ratio(len(new), len(names)),
            cumulative_solved=len(solved), cumulative_accuracy=_ratio(len(solved), len(names)),
            reasons=dict(sorted(reasons.items()))))

    counts = round0_counts(attempts, names)
    pass_k = {k: mean_pass_at_k(counts, k) for k in ks_for(n, ks)}
    depth_of = {}
    for a in attempts:
        if a.passed and solved.get(a.problem) == a.round:
            depth_of[a.problem] = min(depth_of.get(a.problem, a.depth), a.depth)

    return EvalSummary(
        split=split, problems=len(names), samples=n, rounds=rounds, pass_at_k=pass_k,
        cumulative_accuracy=_ratio(len(solved), len(names)), solved=dict(sorted(solved.items())),
        reasons=dict(sorted(Counter(a.reason for a in attempts).items())), complete=complete,
        calls=count_calls(attempts, names), solved_by_depth=dict(sorted(Counter(depth_of.values()).items())),
        pass_at_budget=pass_at_budget(attempts, names, n) if any(a.depth for a in attempts) else [])


def count_calls(attempts: list[ProofAttempt], problems: list[str]) -> dict:
    """Completions asked for, all rounds: fresh samples, repairs, total; per problem mean and max."""
    per_problem = Counter(a.problem for a in attempts)
    repairs = sum(1 for a in attempts if a.depth > 0)
    total = len(attempts)
    return {"samples": total - repairs, "repairs": repairs, "total": total,
            "mean": _ratio(total, len(problems)), "max": max((per_problem[p] for p in problems), default=0)}


def call_order(attempt: ProofAttempt) -> tuple:
    """Sort key of the budget order: by sample, then the repair tree depth first."""
    path = attempt.id.split("/")[3:] if attempt.depth else []
    return (attempt.sample, tuple(int(step[1:]) for step in path))


def calls_to_solve(attempts: list[ProofAttempt]) -> int | None:
    """The 1-based position of the first passing attempt in the budget order (None: unsolved)."""
    for i, a in enumerate(sorted(attempts, key=call_order), start=1):
        if a.passed:
            return i
    return None


def budgets_for(max_calls: int) -> list[int]:
    """Powers of two up to the most calls any problem had, and that number itself."""
    return sorted({2 ** i for i in range(max_calls.bit_length()) if 2 ** i <= max_calls} | {max_calls}) \
        if max_calls >= 1 else []


def pass_at_budget(attempts: list[ProofAttempt], problems: list[str], samples: int) -> list[dict]:
    """Round 0, at each budget b of calls per problem: plain sampling's pass@b (None when b
    exceeds the samples per problem: not estimable from this run) and sample+repair's share of
    problems solved within b calls (see the module docstring)."""
    by_problem: dict[str, list[ProofAttempt]] = {name: [] for name in problems}
    for a in attempts:
        if a.round == 0 and a.problem in by_problem:
            by_problem[a.problem].append(a)
    cost = {name: calls_to_solve(atts) for name, atts in by_problem.items()}
    counts = round0_counts(attempts, problems)
    rows = []
    for b in budgets_for(max((len(v) for v in by_problem.values()), default=0)):
        rows.append({"budget": b,
                     "plain": mean_pass_at_k(counts, b) if b <= samples else None,
                     "repair": _ratio(sum(1 for c in cost.values() if c is not None and c <= b), len(problems))})
    return rows


def _ratio(a: float, b: int) -> float:
    return a / b if b else 0.0
