"""A proof to check, and what it becomes before any Lean runs: `prepare_job(VerifyJob) -> PreparedJob`.

What a job becomes: the header (the job's `header` plus any import / set_option / open lines at
the top of its statement) and the body `statement + " " + proof`. The generated part is only the
proof: a trailing `by` of the statement (MiniF2F statements end in `:= by\\n`) is moved to the
proof, a proof that repeats the statement has the repetition cut off, and the forbidden-construct
policy (`policy.py`) is applied to the proof before anything runs. The code a verdict's positions
refer to is `header + body` (`PreparedJob.code`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from theoremllama.errors import UserError
from theoremllama.lean.header import canonical_header, join_header, split_header
from theoremllama.lean.policy import Violation, find_forbidden
from theoremllama.lean.syntax import mask, top_level_assign


@dataclass
class VerifyJob:
    """One proof to check."""

    id: str
    """The caller's id for this proof; verdicts carry it back."""
    statement: str
    """`theorem NAME ... :=` (a trailing `by` is moved to the proof; header lines at the top are
    moved to the header)."""
    proof: str
    """What follows `:=`, e.g. "by\\n  norm_num" (a repeated statement at its start is cut off)."""
    header: str = ""
    """import / set_option / open lines, e.g. "import Mathlib\\nopen Real"."""
    context: str = ""
    """Given code the statement needs (a problem's answer `abbrev`, helper `def`s), run between
    the header and the statement: part of the statement side, never policed as generated code."""


@dataclass(frozen=True)
class PreparedJob:
    """A job as a worker checks it."""

    id: str
    header: str
    """The canonical header: the key of the worker that checks this job."""
    header_block: str
    """The header as submitted (ending in a newline, or empty)."""
    statement: str
    """The statement, ending in `:=`, without header lines."""
    name: str
    """The theorem's name as written (checked as `_root_.NAME`)."""
    body: str
    """`statement + " " + proof`: what runs in the header's environment."""
    proof_offset: int
    """Where the proof starts in `body`."""
    violations: tuple[Violation, ...] = ()
    """Forbidden constructs in the proof (positions in `code`)."""

    @property
    def header_lines(self) -> int:
        return self.header_block.count("\n")

    @property
    def code(self) -> str:
        """The submitted code, as checked: verdict positions refer to it."""
        return self.header_block + self.body


_DECL = re.compile(r"(?<![\w.'])(?:theorem|lemma)\s+(?P<name>[^\s(){}\[\]⦃⦄:,]+)")
_TRAILING_BY = re.compile(r"(?<![\w.'])by\s*$")
_LEADING_BY = re.compile(r"\s*by(?![\w'!?])")


def prepare_job(job: VerifyJob) -> PreparedJob:
    """Normalise a job (see the module docstring); raises UserError if it cannot be checked."""
    if not isinstance(job.statement, str) or not isinstance(job.proof, str):
        raise UserError(f"job {job.id!r}: statement and proof must be strings")
    context = job.context.rstrip() + "\n\n" if job.context.strip() else ""
    split = split_header(context + job.statement)
    header_block = join_header(job.header or "", split.header)
    statement = split.body  # leading blank lines kept: positions stay those of the submission
    masked = mask(statement)
    # The theorem to prove is the statement's, not a helper lemma of the context.
    decl = _DECL.search(masked, max(0, len(split.body) - len(job.statement)))
    if decl is None:
        raise UserError(f"job {job.id!r}: the statement is not a `theorem` or `lemma` declaration: "
                        f"{statement[:100]!r}")
    name = decl.group("name").removeprefix("_root_.").rstrip(".")  # `foo.{u}`: universe parameters
    by = _TRAILING_BY.search(masked)
    had_by = by is not None and masked[:by.start()].rstrip().endswith(":=")
    if had_by:
        statement = statement[:by.start()].rstrip()
    else:
        statement = statement.rstrip()
    proof = strip_repeated_statement(job.proof, statement, statement[decl.start():])
    if not mask(statement).rstrip().endswith(":="):
        if top_level_assign(mask(statement), decl.end()) is not None:
            raise UserError(f"job {job.id!r}: the statement already holds a proof after `:=`: "
                            f"...{statement[-80:]!r}; give only `theorem NAME ... :=` as the statement")
        statement += " :="
        if proof.lstrip().startswith(":="):
            proof = proof.lstrip()[2:].lstrip(" \t")
    if had_by and not _LEADING_BY.match(mask(proof)):
        proof = _attach_by(proof)
    body = statement + " " + proof
    header_lines = header_block.count("\n")
    violations = tuple(replace(v, line=v.line + header_lines)
                       for v in find_forbidden(body, start=len(statement) + 1))
    return PreparedJob(id=str(job.id), header=canonical_header(header_block), header_block=header_block,
                       statement=statement, name=name, body=body, proof_offset=len(statement) + 1,
                       violations=violations)



def strip_repeated_statement(proof: str, *statements: str) -> str:
    """`proof` without a leading copy of a statement (compared ignoring whitespace)."""
    for statement in statements:
        want = "".join(statement.split())
        if not want:
            continue
        i = _after_prefix(proof, want)
        if i is None:  # e.g. the model wrote the header again before the statement
            rest = split_header(proof).body
            j = _after_prefix(rest, want)
            if j is not None:
                return rest[j:].lstrip(" \t")
        else:
            return proof[i:].lstrip(" \t")
    return proof


def _after_prefix(text: str, want: str) -> int | None:
    """The offset in `text` just after the non-whitespace characters `want`, or None."""
    k = 0
    for i, c in enumerate(text):
        if c.isspace():
            continue
        if k < len(want) and c == want[k]:
            k += 1
            if k == len(want):
                return i + 1
        else:
            return None
    return None


def _attach_by(proof: str) -> str:
    """`by` + a tactic proof: `by tac` for a one-liner, else `by` on its own line, so that the
    tactic block keeps its indentation (MiniF2F prompts end in `:= by\n`, completions are indented)."""
    if "\n" in proof.strip("\n") or proof[:1].isspace():
        return "by\n" + proof.lstrip("\n")
    return "by " + proof
