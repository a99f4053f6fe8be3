"""The attempts file: every proof attempt of an evaluation, append-only, one JSON object a line.

    {"run": {"split": "valid", "problems": ["amc12a_2019_p21", ...], "samples": 128, ...}}
    {"problem": "amc12a_2019_p21", "round": 0, "sample": 0, "prompt_hash": "...", ...}
    ...

The first line is the run's metadata (`RunInfo`): the split and the full list of problems
evaluated, which makes the report reproducible from this file alone (problems that no attempt
reached still count in the denominator). Every other line is a `ProofAttempt`, written and
flushed as soon as its verdict is known, so a killed run loses at most the line being written.
A rerun reads the file back, drops a torn last line, and skips every (problem, round, sample)
already recorded. Extending a run (more samples or rounds) appends a new metadata line; the
last one holds.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from theoremllama.data.jsonl import iter_jsonl_lines, repair_truncated_tail
from theoremllama.data.records import ProofAttempt
from theoremllama.errors import InputError, UserError
from theoremllama.identity import check_same_run

RUN_KEY = "run"


@dataclass
class RunInfo:
    """What a report needs to know about the run beyond its attempts."""

    split: str
    """MiniF2F split evaluated."""
    problems: list[str]
    """Names of every problem evaluated, in order (the denominator of every accuracy)."""
    samples: int
    """Samples per problem per round."""
    rounds: int
    """Maximum rounds of iterative proof writing."""
    seed: int = 0
    """Base seed; each sample's seed derives from it and (problem, round, sample)."""
    variant: str = "nl"
    """Prompt variant (`nl` or `formal`)."""
    model: str = ""
    """The model evaluated (for the report's table)."""
    extra: dict = field(default_factory=dict)
    """Anything else worth keeping (example selection, k_examples, ...)."""
    identity: dict = field(default_factory=dict)
    """Everything that changes the results (`EvalConfig.identity`): a resume must match it."""

    # Fields that may not change between a run and its resumption: they decide what was asked.
    FIXED = ("split", "problems", "seed", "variant")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict, *, path: str | None = None, line: int | None = None) -> "RunInfo":
        if not isinstance(d, dict):
            raise InputError("the run metadata must be a JSON object", path=path, line=line, field=RUN_KEY)
        checks = {"split": str, "problems": list, "samples": int, "rounds": int}
        for name, kind in checks.items():
            if name not in d:
                raise InputError("missing run metadata field", path=path, line=line, field=f"{RUN_KEY}.{name}")
            if not isinstance(d[name], kind) or isinstance(d[name], bool):
                raise InputError(f"expected {kind.__name__}, got {type(d[name]).__name__}",
                                 path=path, line=line, field=f"{RUN_KEY}.{name}")
        if not all(isinstance(p, str) for p in d["problems"]):
            raise InputError("problem names must be strings", path=path, line=line, field=f"{RUN_KEY}.problems")
        known = {k: d[k] for k in ("split", "problems", "samples", "rounds", "seed", "variant", "model", "extra",
                                        "identity")
                 if k in d}
        return cls(**known)


def read_attempts(path: str | Path) -> tuple[RunInfo | None, list[ProofAttempt]]:
    """Read an attempts file: (last run metadata or None, attempts in file order). A torn last line
    (no newline, not JSON: a writer killed mid-line) is skipped with a warning; anything else
    malformed raises `InputError` naming the line and field."""
    path = str(path)
    run: RunInfo | None = None
    attempts: list[ProofAttempt] = []
    seen: dict[tuple, int] = {}
    for obj, i in iter_jsonl_lines(path, tolerate_truncated_tail=True):
        if isinstance(obj, dict) and RUN_KEY in obj:
            run = RunInfo.from_dict(obj[RUN_KEY], path=path, line=i)
            continue
        try:
            attempt = ProofAttempt.from_dict(obj)
        except InputError as e:
            raise InputError(e.reason, path=path, line=i, field=e.field) from None
        if attempt.key in seen:
            raise InputError(f"attempt {attempt.key} already recorded on line {seen[attempt.key]}",
                             path=path, line=i, field="sample")
        seen[attempt.key] = i
        attempts.append(attempt)
    return run, attempts


class AttemptsFile:
    """Append-only, resumable writer of an attempts file (thread-safe `write`)."""

    def __init__(self, path: str | Path, run: RunInfo):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.attempts: dict[tuple[str, int, int], ProofAttempt] = {}
        self._lock = threading.Lock()
        previous: RunInfo | None = None
        if self.path.exists():
            repair_truncated_tail(self.path)  # drop a torn tail; end the last line
            previous, attempts = read_attempts(self.path)
            self.attempts = {a.key: a for a in attempts}
        if previous is not None and self.attempts:  # a run that recorded nothing may be replaced
            # Files written before identities were recorded: the fields they have.
            fixed = RunInfo.FIXED + ("model",)
            old = previous.identity or {k: getattr(previous, k) for k in fixed}
            new = run.identity if previous.identity else {k: getattr(run, k) for k in fixed}
            check_same_run(old, new, where=str(self.path),
                           new_run_hint="choose another output directory (eval --output-dir DIR)")
            changed = [k for k in RunInfo.FIXED if getattr(previous, k) != getattr(run, k)]
            if changed:
                raise UserError(
                    f"{self.path} holds a run with a different {', '.join(changed)}; "
                    "choose another output directory (eval --output-dir DIR) or delete the file "
                    "to start a new run")
        self._file = open(self.path, "a", encoding="utf-8")
        if previous is None or previous.to_dict() != run.to_dict():
            self._append({RUN_KEY: run.to_dict()})

    def done(self, key: tuple[str, int, int]) -> bool:
        return key in self.attempts

    def write(self, attempt: ProofAttempt) -> None:
        """Record one attempt (flushed at once); a key already recorded is an error."""
        with self._lock:
            if attempt.key in self.attempts:
                raise ValueError(f"attempt {attempt.key} is already recorded")
            self.attempts[attempt.key] = attempt
            self._append(attempt.to_dict())

    def _append(self, obj: dict) -> None:
        self._file.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()

    def __enter__(self) -> "AttemptsFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
