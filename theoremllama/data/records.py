"""The records that flow through the pipeline.

    Lean repo --extract--> TheoremRecord --bootstrap--> OBTRecord --train--> checkpoint
    MiniF2F --load--> Problem --generate--> ProofAttempt --verify--> Verdict --report--> pass@k

Every record converts to and from a plain JSON object (`to_dict` / `from_dict`). `from_dict`
checks field names and types and raises `InputError(field=...)`; readers add the file and line.
Lean code is stored exactly as written (no stripping), so positions stay meaningful.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

from theoremllama.errors import InputError
from theoremllama.lean import syntax

# The published Open Bootstrapped Theorems (OBT) columns, in order.
OBT_COLUMNS: tuple[str, ...] = (
    "idx", "Name", "Statement", "Proof", "Generated_informal_statement_and_proof",
    "Commented_proof", "File_path", "Commit",
)


def _check(d: Any, cls: type, required: tuple[str, ...]) -> dict:
    """Validate a JSON object against a dataclass: required fields present, types as declared."""
    if not isinstance(d, dict):
        raise InputError(f"expected a JSON object for a {cls.__name__}, got {type(d).__name__}")
    missing = [k for k in required if k not in d]
    if missing:
        raise InputError(f"missing required field for a {cls.__name__}", field=missing[0])
    out = {}
    hints = {f.name: f for f in dataclasses.fields(cls)}
    for name, f in hints.items():
        if name not in d:
            continue
        value = d[name]
        want = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        if value is None and "None" in want:
            out[name] = None
            continue
        if want.startswith("str") and not isinstance(value, str):
            raise InputError(f"expected a string, got {type(value).__name__}", field=name)
        if want.startswith("int") and (not isinstance(value, int) or isinstance(value, bool)):
            raise InputError(f"expected an integer, got {type(value).__name__}", field=name)
        if want.startswith("float") and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            raise InputError(f"expected a number, got {type(value).__name__}", field=name)
        if want.startswith("bool") and not isinstance(value, bool):
            raise InputError(f"expected true or false, got {type(value).__name__}", field=name)
        if want.startswith("list") and not isinstance(value, list):
            raise InputError(f"expected a list, got {type(value).__name__}", field=name)
        if want.startswith("dict") and not isinstance(value, dict):
            raise InputError(f"expected an object, got {type(value).__name__}", field=name)
        out[name] = value
    return out


@dataclass
class TheoremRecord:
    """A formal theorem taken from a Lean source file, with what it needs to be re-elaborated."""

    name: str
    """Fully qualified name, namespaces resolved (e.g. `Nat.Prime.two_le`)."""
    statement: str
    """The declaration up to and including `:=` (attributes and modifiers excluded), e.g.
    `theorem foo (n : ℕ) : n + 0 = n :=`. For a `where`/pattern-matching proof with no `:=`,
    the declaration up to the end of its type."""
    proof: str
    """The whole declaration as written: statement followed by its proof (the OBT convention)."""
    file_path: str = ""
    """Path of the source file relative to the repository root."""
    commit: str = ""
    """Commit of the repository the theorem was taken from ('' if unknown)."""
    imports: list[str] = field(default_factory=list)
    """Modules imported by the file (`Mathlib.Data.Nat.Basic`, ...)."""
    opens: list[str] = field(default_factory=list)
    """`open ...` commands in force at the declaration, as written (`open Nat Real`)."""
    variables: list[str] = field(default_factory=list)
    """`variable ...` commands in force at the declaration, as written."""
    universes: list[str] = field(default_factory=list)
    """`universe ...` commands in force at the declaration, as written."""
    namespace: str = ""
    """Namespace the declaration sits in ('' at top level)."""
    kind: str = "theorem"
    """`theorem` or `lemma`."""
    line: int = 0
    """1-based line of the declaration's keyword in its file (0 if unknown)."""
    has_sorry: bool = False
    """The statement or the proof leaves a gap: `sorry`, `admit`, `sorryAx` or `stop` outside
    comments and strings (`theoremllama.lean.syntax.has_sorry`), e.g. an open problem stated as
    `... ↔ answer(sorry) := by sorry`. Always computed from the text: a stored value is
    recomputed when a record is made or read, so it cannot disagree with the code."""

    REQUIRED: ClassVar[tuple[str, ...]] = ("name", "statement", "proof")

    def __post_init__(self) -> None:
        self.has_sorry = syntax.has_sorry(self.statement) or syntax.has_sorry(self.proof)

    def header(self) -> str:
        """A header that re-creates the declaration's context: imports, universes, opens."""
        lines = [f"import {m}" for m in self.imports]
        lines += self.universes
        if self.namespace:
            lines.append(f"namespace {self.namespace}")
        lines += self.opens + self.variables
        return "\n".join(lines) + ("\n" if lines else "")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TheoremRecord":
        return cls(**_check(d, cls, cls.REQUIRED))


@dataclass
class OBTRecord:
    """One row of an Open Bootstrapped Theorems dataset (the published OBT schema, exactly)."""

    idx: int
    """Row index, unique within a dataset."""
    Name: str
    """Fully qualified theorem name."""
    Statement: str
    """The Lean statement up to and including `:=`."""
    Proof: str
    """The whole Lean declaration (statement and proof), without natural-language comments."""
    Generated_informal_statement_and_proof: str = ""
    """The LLM-written natural-language statement and proof."""
    Commented_proof: str = ""
    """`Proof` with the natural-language reasoning written in as `--` comments; removing the
    comments gives back `Proof` line for line, indentation included (`syntax.same_code`)."""
    File_path: str = ""
    """Source file the theorem came from."""
    Commit: str = ""
    """Commit of the source repository."""

    REQUIRED: ClassVar[tuple[str, ...]] = ("Name", "Statement", "Proof")

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in OBT_COLUMNS}

    @classmethod
    def from_dict(cls, d: dict, *, idx: int | None = None) -> "OBTRecord":
        """Accepts published OBT rows; `idx` fills in a missing index (e.g. the row number)."""
        d = dict(d)
        if "idx" not in d:
            if idx is None:
                raise InputError("missing required field for an OBTRecord", field="idx")
            d["idx"] = idx
        known = {k: d[k] for k in OBT_COLUMNS if k in d}
        for k in ("Generated_informal_statement_and_proof", "Commented_proof", "File_path", "Commit"):
            if known.get(k) is None:
                known[k] = ""
        return cls(**_check(known, cls, cls.REQUIRED))


@dataclass
class Problem:
    """A benchmark problem (MiniF2F): a formal statement to prove, with its natural language."""

    name: str
    """Problem id, e.g. `mathd_algebra_478`."""
    split: str
    """`valid` or `test`."""
    header: str
    """Lean header the statement is checked under (imports, options, opens)."""
    formal_statement: str
    """The theorem up to and including `:=` (without the trailing `by`)."""
    informal_statement: str = ""
    """Natural-language statement."""
    informal_proof: str = ""
    """Human-written natural-language proof ('' if none)."""
    reference_proof: str = ""
    """A known formal proof of the whole declaration, if any ('' if none)."""
    commented_proof: str = ""
    """`reference_proof` with natural-language comments, if any."""
    context: str = ""
    """Lean code the statement needs, checked between the header and the statement as GIVEN code
    (e.g. a PutnamBench answer `abbrev`): never generated, never judged by the policy ('' if none)."""

    REQUIRED: ClassVar[tuple[str, ...]] = ("name", "split", "header", "formal_statement")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Problem":
        return cls(**_check(d, cls, cls.REQUIRED))


def prompt_hash(prompt: str | list) -> str:
    """A short stable id of a prompt (string or chat messages), for provenance."""
    import json

    text = prompt if isinstance(prompt, str) else json.dumps(prompt, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class ProofAttempt:
    """One generated attempt at a problem, and what Lean said of it."""

    problem: str
    """Problem name."""
    round: int
    """Round of iterative proof writing (0-based)."""
    sample: int
    """Sample index within the round."""
    prompt_hash: str
    """`prompt_hash(prompt)` of the prompt that produced the completion."""
    completion: str
    """The raw model output."""
    proof: str
    """The Lean proof extracted from the completion ('' if none could be extracted)."""
    passed: bool = False
    """Whether Lean accepted the proof (see `Verdict`)."""
    reason: str = ""
    """The verdict's reason (`ok`, `error`, `sorry`, ...), or `no_proof` if nothing was extracted."""
    seconds: float = 0.0
    """Verification wall-clock time."""
    split: str = ""
    """The problem's split."""
    parent: str = ""
    """For a repair: the `id` of the failed attempt it repairs ('' for a fresh sample)."""
    depth: int = 0
    """Repairs between this attempt and its fresh sample (0 for a fresh sample)."""
    branch: int = 0
    """For a repair: which of the `repair.per_failure` repairs of its parent it is (0-based)."""
    feedback: list = field(default_factory=list)
    """Lean's first messages on a failed proof, positions relative to the checked declaration
    (`{"line", "column", "severity", "text"}`, see `eval/repair.py`): what a repair is shown."""

    REQUIRED: ClassVar[tuple[str, ...]] = ("problem", "round", "sample", "prompt_hash", "completion", "proof")

    @property
    def id(self) -> str:
        """`PROBLEM/rROUND/sSAMPLE` for a fresh sample, `PARENT_ID/fBRANCH` for a repair."""
        if self.depth == 0:
            return f"{self.problem}/r{self.round}/s{self.sample}"
        return f"{self.parent}/f{self.branch}"

    @property
    def key(self) -> tuple:
        """(problem, round, sample) for a fresh sample; repairs add their `id` (unique per run)."""
        if self.depth == 0:
            return (self.problem, self.round, self.sample)
        return (self.problem, self.round, self.sample, self.id)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ProofAttempt":
        return cls(**_check(d, cls, cls.REQUIRED))
