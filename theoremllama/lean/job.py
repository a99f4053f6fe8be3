"""A proof to check, and what it becomes before any Lean runs: `prepare_job(VerifyJob) -> PreparedJob`.

What a job becomes: the header (the job's `header` plus any import / set_option / open lines at
the top of its statement) and the body `statement + " " + proof`. The generated part is only the
proof: a trailing `by` of the statement (MiniF2F statements end in `:= by\\n`) is moved to the
proof, a proof that repeats the statement has the repetition cut off, and the forbidden-construct
policy (`policy.py`) is applied to the proof before anything runs. The code a verdict's positions
refer to is `header + body` (`PreparedJob.code`).

Lemma style: a proof that starts with a declaration (`lemma aux ... := ...`, an attribute, a
modifier...) is a completion that declares auxiliaries and then restates and proves the target;
the body is then the completion alone, checked by `policy.find_forbidden_completion`, and the
worker's checks find the restated target by name and compare its type with the statement's.

Namespace: a theorem declared while `namespace Foo` is open is `Foo.NAME`. The namespace comes
from `VerifyJob.namespace` (opened after the header) or from a header that leaves one open;
`PreparedJob.full_name` is what the checks look up (`theorem _root_.x` escapes the namespace).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from theoremllama.errors import UserError
from theoremllama.lean.checks import qualified_name
from theoremllama.lean.header import canonical_header, join_header, split_header
from theoremllama.lean.policy import Violation, find_forbidden, find_forbidden_completion, starts_with_declaration
from theoremllama.lean.syntax import LINE_COMMENT, mask, spans, top_level_assign


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
    namespace: str = ""
    """The namespace the statement is declared in ('' for the root), e.g. `Nat.Prime` for a theorem
    taken from inside `namespace Nat.Prime`: `theorem two_le` then declares `Nat.Prime.two_le`.
    It is opened after the header (unless the header already leaves it open)."""


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
    """The theorem's name as written in the statement, without a `_root_.` prefix."""
    body: str
    """`statement + " " + proof`: what runs in the header's environment."""
    proof_offset: int
    """Where the proof starts in `body`."""
    violations: tuple[Violation, ...] = ()
    """Forbidden constructs in the proof (positions in `code`)."""
    namespace: str = ""
    """Where `theorem NAME` declares its constant: the namespace the header leaves open, or ''
    for a statement written `theorem _root_.NAME`."""
    lemma_style: bool = False
    """True when the proof was a completion that declares auxiliaries and restates the target
    (`body` is then that completion, see the module docstring)."""

    @property
    def full_name(self) -> str:
        """The fully qualified name of the theorem (what the checks look up, as `_root_.NAME`)."""
        return qualified_name(self.namespace, self.name)

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
    namespace = open_namespace(header_block)
    wanted = (job.namespace or "").strip()
    if wanted and namespace != wanted:
        if namespace:
            raise UserError(f"job {job.id!r}: namespace {wanted!r} given, but the header leaves "
                            f"namespace {namespace!r} open")
        header_block = join_header(header_block, f"namespace {wanted}\n")
        namespace = wanted
    statement = split.body  # leading blank lines kept: positions stay those of the submission
    masked = mask(statement)
    # The theorem to prove is the statement's, not a helper lemma of the context.
    statement_start = max(0, len(split.body) - len(job.statement))
    given = statement[:statement_start] if context else ""  # the context, as it stands in the body
    decl = _DECL.search(masked, statement_start)
    if decl is None:
        raise UserError(f"job {job.id!r}: the statement is not a `theorem` or `lemma` declaration: "
                        f"{statement[:100]!r}")
    written = decl.group("name").rstrip(".")  # `foo.{u}`: universe parameters
    name = written.removeprefix("_root_.")
    if written != name:  # `theorem _root_.x` declares `x` whatever namespace is open
        namespace_of_name = ""
    else:
        namespace_of_name = namespace
    by = _TRAILING_BY.search(masked)
    had_by = by is not None and masked[:by.start()].rstrip().endswith(":=")
    if had_by:
        statement = statement[:by.start()].rstrip()
    else:
        statement = statement.rstrip()
    proof = strip_repeated_statement(job.proof, statement, statement[decl.start():])
    header_lines = header_block.count("\n")
    completion = split_header(proof).body
    if starts_with_declaration(completion):
        # Lemma style: the completion declares auxiliaries, then restates and proves the target.
        # The context stays in front of it: given code, never judged, and a completion that
        # redeclares one of its definitions (say, a different answer) is an error in Lean rather
        # than a theorem about its own definition that prints like the statement's.
        generated = completion.strip("\n") + "\n"
        shift = header_lines + given.count("\n")
        violations = tuple(replace(v, line=v.line + shift) for v in find_forbidden_completion(
            generated, qualified_name(namespace_of_name, name), namespace))
        if not mask(statement).rstrip().endswith(":="):
            statement += " :="
        return PreparedJob(id=str(job.id), header=canonical_header(header_block), header_block=header_block,
                           statement=statement, name=name, body=given + generated, proof_offset=len(given),
                           violations=violations, namespace=namespace_of_name, lemma_style=True)
    if not mask(statement).rstrip().endswith(":="):
        if top_level_assign(mask(statement), decl.end()) is not None:
            raise UserError(f"job {job.id!r}: the statement already holds a proof after `:=`: "
                            f"...{statement[-80:]!r}; give only `theorem NAME ... :=` as the statement")
        statement += " :="
        if proof.lstrip().startswith(":="):
            proof = proof.lstrip()[2:].lstrip(" \t")
    if had_by and not _LEADING_BY.match(mask(proof)):
        proof = _attach_by(proof)
    # a statement ending in a `--` comment would swallow a proof put on its line
    ends_in_comment = bool(statement.strip()) and spans(statement)[-1].kind == LINE_COMMENT
    body = statement + ("\n" if ends_in_comment else " ") + proof
    violations = tuple(replace(v, line=v.line + header_lines)
                       for v in find_forbidden(body, start=len(statement) + 1))
    return PreparedJob(id=str(job.id), header=canonical_header(header_block), header_block=header_block,
                       statement=statement, name=name, body=body, proof_offset=len(statement) + 1,
                       violations=violations, namespace=namespace_of_name)


_SCOPE = re.compile(r"^[ \t]*(namespace|section|end)(?![\w.'!?])[ \t]*([^\s]*)", re.M)


def open_namespace(header: str) -> str:
    """The namespace a header leaves open: `namespace A.B` opens A and B, `section` opens an
    anonymous (or named) scope, `end X` closes as many scopes as X has parts, `end` one."""
    scopes: list[tuple[str, str]] = []  # (kind, part)
    for m in _SCOPE.finditer(mask(header)):
        kind, arg = m.group(1), m.group(2)
        parts = [p for p in arg.split(".") if p]
        if kind == "namespace":
            scopes += [("namespace", p) for p in parts]
        elif kind == "section":
            scopes += [("section", p) for p in parts] or [("section", "")]
        else:
            del scopes[len(scopes) - max(1, len(parts)):]
    return ".".join(p for kind, p in scopes if kind == "namespace")



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
