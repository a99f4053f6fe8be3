"""From a round's verified attempts to training rows.

    attempts (passed)  --dedup by code, per problem-->  at most m proofs per problem, shortest first
                       --as OBT rows-->                 SFT data = base data + every proof kept so far

Two proofs are the same when their code is (comments removed, whitespace collapsed: the key SFT
uses to recognise duplicates, `train.format.code_key`), so a proof the model finds again in a later
round, or with other comments, is not collected twice. The cap `max_per_problem` counts every
proof kept for the problem in all rounds; proofs kept in earlier rounds are never replaced, so the
SFT data of a round only ever grows. Among new proofs the shortest (by that code) win, ties by
sample index: the choice does not depend on the order in which verdicts arrived.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from theoremllama.data.records import OBTRecord, Problem, ProofAttempt
from theoremllama.eval.prompts import ProofExample
from theoremllama.train.format import code_key


@dataclass
class VerifiedProof:
    """A proof Lean accepted, kept for training."""

    problem: str
    round: int
    sample: int
    proof: str
    """What follows `:=`, as the model wrote it (comments included)."""
    key: str
    """`code_key(proof)`: its identity for deduplication, and its length measure."""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "VerifiedProof":
        return cls(**{k: d[k] for k in ("problem", "round", "sample", "proof", "key")})


@dataclass
class Collected:
    """What collecting one round gives."""

    new: list[VerifiedProof]
    """Proofs kept from this round, in problem order, shortest first within a problem."""
    passed: int
    """Passing attempts of the round."""
    duplicates: int
    """Passing attempts dropped as the same code as a proof already kept (this round or before)."""
    over_cap: int
    """Passing, new proofs dropped because their problem already had `max_per_problem`."""


def collect_round(attempts: list[ProofAttempt], round: int, problems: list[Problem],
                  kept_before: list[VerifiedProof], max_per_problem: int) -> Collected:
    """The proofs to keep from `round`'s attempts (see the module docstring)."""
    order = {p.name: i for i, p in enumerate(problems)}
    passed = [a for a in attempts if a.round == round and a.passed and a.problem in order]
    seen = {(v.problem, v.key) for v in kept_before}
    count: dict[str, int] = {}
    for v in kept_before:
        count[v.problem] = count.get(v.problem, 0) + 1
    new: list[VerifiedProof] = []
    duplicates = over_cap = 0
    for a in sorted(passed, key=lambda a: (order[a.problem], len(code_key(a.proof)), a.sample)):
        key = code_key(a.proof)
        if (a.problem, key) in seen:
            duplicates += 1
            continue
        if count.get(a.problem, 0) >= max_per_problem:
            over_cap += 1
            continue
        seen.add((a.problem, key))
        count[a.problem] = count.get(a.problem, 0) + 1
        new.append(VerifiedProof(a.problem, round, a.sample, a.proof, key))
    return Collected(new=new, passed=len(passed), duplicates=duplicates, over_cap=over_cap)


def to_obt(proof: VerifiedProof, problem: Problem, idx: int) -> OBTRecord:
    """A kept proof as an SFT row: the problem's informal text and statement, the whole declaration
    as the target (with the model's comments in `Commented_proof` when it wrote any)."""
    example = ProofExample.from_verified(problem, proof.proof, proof.round)
    commented = example.proof if example.proof != example.plain_proof else ""
    return OBTRecord(idx=idx, Name=problem.name, Statement=example.statement, Proof=example.plain_proof,
                     Generated_informal_statement_and_proof=example.informal, Commented_proof=commented,
                     File_path=f"expert-iteration/round-{proof.round}", Commit="")


def sft_rows(base: list[OBTRecord], kept: list[VerifiedProof], problems: list[Problem]) -> list[OBTRecord]:
    """Base rows then one row per kept proof, re-indexed 0..N-1 (idx must be unique in a dataset)."""
    by_name = {p.name: p for p in problems}
    rows = [OBTRecord(**{**r.to_dict(), "idx": i}) for i, r in enumerate(base)]
    rows += [to_obt(v, by_name[v.problem], len(base) + j) for j, v in enumerate(kept)]
    return rows

