"""The verdict on one proof: did Lean accept it, and if not, why.

A proof passes only when every check holds (see `theoremllama.lean.policy`); a failing verdict
names the first reason found, in this order of precedence:

    forbidden  the generated code uses a construct that could cheat (sorry, axiom, #exit, ...)
    crash      the REPL died or spoke garbage while checking this proof
    timeout    the wall-clock limit expired (the REPL was killed and restarted)
    memory     the REPL ran out of its memory cap
    error      Lean reported an error
    sorry      the proof uses sorry (a `sorries` entry or the `declaration uses sorry` warning)
    statement  the proved theorem is not the given statement
    axiom      the proof depends on an axiom outside the whitelist
    ok         accepted
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

REASONS = ("ok", "error", "sorry", "axiom", "statement", "forbidden", "timeout", "crash", "memory")

# The only axioms a proof may depend on: Lean's own classical foundations.
ALLOWED_AXIOMS = frozenset({"propext", "Classical.choice", "Quot.sound"})


@dataclass
class Verdict:
    """What Lean said of one proof."""

    id: str
    """The job's id (as given in the input)."""
    passed: bool
    """True only when reason is `ok`."""
    reason: str
    """One of REASONS."""
    messages: list[dict] = field(default_factory=list)
    """Lean's messages (severity, pos, endPos, data), positions relative to the submitted code."""
    axioms: list[str] = field(default_factory=list)
    """Axioms the theorem depends on (from `#print axioms`), when checked."""
    seconds: float = 0.0
    """Wall-clock time spent checking this proof."""
    detail: str = ""
    """A human-readable explanation of a failing reason (e.g. which construct was forbidden)."""
    header_failed: bool = False
    """True when the header did not import, so the proof itself was never checked: a rerun of
    `theoremllama verify` checks it again instead of counting it as done."""

    def __post_init__(self) -> None:
        if self.reason not in REASONS:
            raise ValueError(f"unknown verdict reason {self.reason!r}; expected one of {REASONS}")
        if self.passed != (self.reason == "ok"):
            raise ValueError(f"verdict passed={self.passed} contradicts reason {self.reason!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Verdict":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})
