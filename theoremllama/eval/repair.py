"""Repair rounds: a failed proof is shown back to the model with Lean's own messages.

    sample ──verify──▶ failed (error / sorry) ──repair prompt──▶ corrected proof ──verify──▶ ...
                                                                  (up to `rounds` deep)

A repair prompt is a conversation: the problem asked as usual (no worked examples), the failed
proof as the model's answer, then Lean's first `max_messages` messages, their positions counted
from the theorem's first line (the declaration the model wrote, as it was checked) and the
unsolved goals where Lean printed them (they are part of the "unsolved goals" error's text; see
`feedback.py`), and the request for a corrected complete proof (`train.prompt.build_repair_instruction`).

A repair is an attempt like any other: verified the same way, recorded in the attempts file with
its parent's id, its depth and its branch (`ProofAttempt.parent/depth/branch`), so a rerun
rebuilds every repair prompt from the file and asks only for the repairs not yet recorded.
Repairs run inside a round, interleaved with its fresh samples (`pipeline.run_pipeline`'s
follow-ups), so the Lean workers never wait for a phase to end.

Which failures qualify: `reasons` (default `error` and `sorry`; `forbidden` never: a cheat is not
a proof to polish). `max_per_problem` caps the repair completions per problem and round; with a
cap the failures served first are the ones verified first (on resume: the recorded failures in
(depth, sample) order). Every failure of a problem is repaired even after the problem is solved,
so the run's calls per problem are what the report's budget comparison says they are.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from theoremllama.data.records import Problem, ProofAttempt, prompt_hash
from theoremllama.errors import UserError
from theoremllama.eval.feedback import checked_declaration, describe
from theoremllama.eval.pipeline import WorkItem
from theoremllama.eval.prompts import problem_instruction
from theoremllama.train.prompt import SYSTEM_PROMPT, build_answer, build_repair_instruction

REPAIRABLE = ("error", "sorry")
"""Verdict reasons a repair may be asked for (`forbidden` is refused outright)."""


@dataclass
class RepairConfig:
    """The `repair:` section of the eval config."""

    rounds: int = 0
    """Repair depth: 0 = off; 1 = failed samples are repaired once; 2 = failed repairs again, ..."""
    per_failure: int = 1
    """Completions asked for per failed attempt (the width of the repair tree)."""
    reasons: list[str] = field(default_factory=lambda: list(REPAIRABLE))
    """Failures that qualify: `error`, `sorry`."""
    max_per_problem: int | None = None
    """Most repair completions per problem and round (None: no cap)."""
    max_messages: int = 3
    """Lean messages shown in a repair prompt (errors first, then warnings)."""

    @classmethod
    def from_dict(cls, d) -> "RepairConfig":
        if d is None:
            d = {}
        if not isinstance(d, dict):
            raise UserError(f"eval config: repair must be a mapping, got {type(d).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise UserError(f"eval config: unknown repair key {unknown[0]!r} (known: {', '.join(sorted(known))})")
        c = cls(**d)
        for name, low in (("rounds", 0), ("per_failure", 1), ("max_messages", 1)):
            value = getattr(c, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise UserError(f"eval config: repair.{name} must be an integer >= {low}, got {value!r}")
        if c.max_per_problem is not None and (not isinstance(c.max_per_problem, int)
                                              or isinstance(c.max_per_problem, bool) or c.max_per_problem < 1):
            raise UserError(f"eval config: repair.max_per_problem must be an integer >= 1 or null, "
                            f"got {c.max_per_problem!r}")
        if not isinstance(c.reasons, list) or not c.reasons:
            raise UserError("eval config: repair.reasons must be a non-empty list")
        for reason in c.reasons:
            if reason == "forbidden":
                raise UserError("eval config: repair.reasons may not include 'forbidden': a proof that uses a "
                                "forbidden construct is a cheat, not a proof to repair")
            if reason not in REPAIRABLE:
                raise UserError(f"eval config: repair.reasons: {reason!r} cannot be repaired "
                                f"(allowed: {', '.join(REPAIRABLE)})")
        return c

    @property
    def enabled(self) -> bool:
        return self.rounds > 0

    def qualifies(self, attempt: ProofAttempt) -> bool:
        """Whether a repair of `attempt` is due (it failed for a listed reason, not too deep)."""
        return not attempt.passed and attempt.reason in self.reasons and attempt.depth < self.rounds


def build_repair_prompt(problem: Problem, failed: ProofAttempt, variant: str = "nl") -> list[dict]:
    """The conversation asking for a corrected proof of `problem` after `failed`."""
    declaration, _, _ = checked_declaration(problem, failed.proof)
    messages = [describe(e) for e in failed.feedback]
    if not messages and failed.reason == "sorry":
        messages = ["the proof uses `sorry`: it is not finished"]
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": problem_instruction(problem, variant)},
            {"role": "assistant", "content": build_answer(declaration)},
            {"role": "user", "content": build_repair_instruction(messages)}]


# ------------------------------------------------------------------------------ scheduling


class RepairPlanner:
    """Decides which repairs to ask for: those of recorded failures not yet repaired (resume),
    and those of failures as they are verified (`follow_up`, called by the pipeline)."""

    def __init__(self, config: RepairConfig, problems: list[Problem], variant: str = "nl"):
        self.config = config
        self.variant = variant
        self.problems = {p.name: p for p in problems}
        self.issued: dict[tuple[str, int], int] = {}  # repair completions asked or recorded

    def pending(self, round: int, recorded, todo: list[Problem]) -> list:
        """Repair items due in `round` for the recorded attempts of the problems in `todo`."""
        wanted = {p.name for p in todo}
        attempts = [a for a in recorded if a.round == round and a.problem in wanted]
        self.issued = {}
        for a in attempts:
            if a.depth > 0:
                self.issued[(a.problem, round)] = self.issued.get((a.problem, round), 0) + 1
        done = {a.id for a in attempts}
        items = []
        for a in sorted(attempts, key=lambda a: (a.depth, a.sample, a.id)):
            items += self._children(a, skip=done)
        return items

    def follow_up(self, item, attempt: ProofAttempt) -> list:
        """The repairs of a just-verified attempt (none when it does not qualify)."""
        return self._children(attempt, skip=set())

    def _children(self, parent: ProofAttempt, *, skip: set[str]) -> list:
        if not self.config.qualifies(parent) or parent.problem not in self.problems:
            return []
        problem = self.problems[parent.problem]
        key = (parent.problem, parent.round)
        prompt = None
        items = []
        for branch in range(self.config.per_failure):
            child_id = f"{parent.id}/f{branch}"
            if child_id in skip:
                continue
            cap = self.config.max_per_problem
            if cap is not None and self.issued.get(key, 0) >= cap:
                break
            if prompt is None:
                prompt = build_repair_prompt(problem, parent, self.variant)
            self.issued[key] = self.issued.get(key, 0) + 1
            items.append(WorkItem(problem, parent.round, parent.sample, prompt, prompt_hash(prompt),
                                  parent=parent.id, depth=parent.depth + 1, branch=branch))
        return items
