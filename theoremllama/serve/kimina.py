"""kimina-lean-server's `/api/check` wire format, and how one of its snippets becomes a checked job.

The models mirror kimina-lean-server's public request and response models (project-numina/
kimina-lean-server, `CheckRequest`, `Snippet`, `ReplResponse`, `CheckResponse`): the same field
names, types and defaults, so clients and RL reward code written for kimina work unchanged.
Our verdict travels as one extra field of each result, `verdict` (passed, reason, detail).

A snippet is whole Lean code from an untrusted client. Unlike `/verify`, where the caller's
statement and header are trusted and only the proof is policed, here the forbidden-construct policy
(`theoremllama.lean.policy`) covers everything after the leading `import` lines: `set_option`,
`open` and anything before the theorem included. The theorem checked (the target) is the snippet's
last `theorem`/`lemma`; its statement is the text up to its top-level `:=`. When it is the
snippet's only declaration, its proof is the rest of the snippet. When auxiliary declarations
(`theorem`/`lemma`/`def`/`abbrev`) come before it, everything from the first declaration on is a
lemma-style completion, policed by the lemma-style rules (`policy.find_forbidden_completion`: no
attributes, instances, notation, ...; the target last). The job is then checked exactly as
`/verify` checks `VerifyJob(statement, proof)`.

The kimina `response` is built from the verdict (the pool's workers keep REPL environments to
themselves): `messages` are Lean's messages (positions in the snippet), and `sorries` is empty. For a
verdict that fails for a reason Lean alone reports no error for (forbidden, sorry, statement, axiom),
one message of severity `error` whose data starts with `theoremllama verdict:` is added, and a
timeout, crash or out-of-memory becomes kimina's `error` string; so kimina's own rule, "valid = no
error and no error message and no sorries", holds exactly when `verdict.passed` does.
"""

from __future__ import annotations

import re
from enum import Enum

from pydantic import BaseModel, Field, model_validator

from theoremllama.lean.job import VerifyJob
from theoremllama.lean.policy import declarations, describe, find_forbidden
from theoremllama.lean.syntax import line_col, mask, top_level_assign
from theoremllama.lean.verdict import Verdict

_IMPORT_LINE = re.compile(r"import(?![\w.'!?])")


class Infotree(str, Enum):
    full = "full"
    tactics = "tactics"
    original = "original"
    substantive = "substantive"


class Snippet(BaseModel):
    id: str = Field(..., description="Identifier to trace the snippet")
    code: str = Field(..., description="Lean 4 snippet or proof attempt")


class CheckRequest(BaseModel):
    snippets: list[Snippet] = Field(description="List of snippets to validate (batch or single element)")
    timeout: int = Field(30, ge=0, description="Accepted for compatibility: the server's --timeout applies")
    debug: bool = Field(False, description="Accepted for compatibility (no diagnostics are reported)")
    reuse: bool = Field(True, description="Accepted for compatibility: workers always reuse a header's environment")
    infotree: Infotree | None = Field(None, description="Accepted for compatibility: no info tree is returned")

    @model_validator(mode="after")
    def _non_empty_unique(self) -> "CheckRequest":
        if not self.snippets:
            raise ValueError("`snippets` must be non empty")
        if len({s.id for s in self.snippets}) != len(self.snippets):
            raise ValueError("`snippets` must have unique ids")
        return self


class VerdictSummary(BaseModel):
    """Our extra field: the verdict of `/verify` for this snippet."""

    passed: bool
    reason: str
    detail: str = ""


class ReplResponse(BaseModel):
    id: str
    time: float = 0.0
    error: str | None = None
    response: dict | None = None
    diagnostics: dict | None = None
    verdict: VerdictSummary | None = None


class CheckResponse(BaseModel):
    results: list[ReplResponse]


# ------------------------------------------------------------------------------ snippet -> job

def snippet_job(snippet: Snippet) -> VerifyJob | Verdict | str:
    """The job that checks a snippet's theorem; a `forbidden` Verdict when the policy refuses code
    outside the proof; or a message (str) when the snippet holds no theorem to check."""
    code = snippet.code
    masked = mask(code)
    after_imports = _after_leading_imports(masked)
    decls = [d for d in declarations(code) if d[2] >= after_imports]
    targets = [d for d in decls if d[0] in ("theorem", "lemma")]
    if not targets:
        return "no `theorem` or `lemma` to check in this snippet (this server checks proofs of theorems)"
    keyword, _, at = targets[-1]
    assign = top_level_assign(masked, at + len(keyword))
    if assign is None:
        return "the theorem has no `:=` (no proof to check)"
    first = decls[0][2]
    if first == at:  # the target is the only declaration before its proof
        # The theorem's own keyword is the one declaration this part may contain.
        violations = [v for v in find_forbidden(code, start=after_imports, end=assign)
                      if (v.line, v.column) != line_col(code, at)]
        if violations:
            return Verdict(id=snippet.id, passed=False, reason="forbidden", detail=describe(violations))
        return VerifyJob(id=snippet.id, statement=code[:assign + 2], proof=code[assign + 2:])
    # Auxiliary declarations first: the code before them is policed here, the declarations on
    # (the completion) by the lemma-style rules when the job is prepared.
    violations = find_forbidden(code, start=after_imports, end=first)
    if violations:
        return Verdict(id=snippet.id, passed=False, reason="forbidden", detail=describe(violations))
    return VerifyJob(id=snippet.id, statement=code[:first] + code[at:assign + 2], proof=code[first:])


def _after_leading_imports(masked: str) -> int:
    """Offset just after the leading run of `import` lines (blank and comment lines among them)."""
    offset = end = 0
    for line in masked.split("\n"):
        stripped = line.strip()
        if stripped and not (line[:1] not in (" ", "\t") and _IMPORT_LINE.match(line)):
            break
        offset += len(line) + 1
        if stripped:
            end = min(offset, len(masked))
    return end


# ------------------------------------------------------------------------------ verdict -> result

_ERROR_STRINGS = {"timeout": "Lean REPL command timed out in {timeout:g} seconds",
                  "crash": "Lean REPL crashed: {detail}",
                  "memory": "Lean REPL ran out of memory: {detail}"}


def result_of(snippet_id: str, verdict: Verdict, timeout: float) -> ReplResponse:
    """The kimina result for a verdict (see the module docstring for the guarantee)."""
    summary = VerdictSummary(passed=verdict.passed, reason=verdict.reason, detail=verdict.detail)
    if verdict.reason in _ERROR_STRINGS:
        error = _ERROR_STRINGS[verdict.reason].format(timeout=timeout, detail=verdict.detail)
        return ReplResponse(id=snippet_id, time=verdict.seconds, error=error, verdict=summary)
    messages = list(verdict.messages)
    if not verdict.passed and not any(m.get("severity") == "error" for m in messages):
        pos = {"line": 1, "column": 0}
        messages.append({"severity": "error", "pos": pos, "endPos": pos,
                         "data": f"theoremllama verdict: {verdict.reason}: {verdict.detail}"})
    response: dict = {"messages": messages} if messages else {}
    return ReplResponse(id=snippet_id, time=verdict.seconds, response=response, verdict=summary)


def no_theorem_result(snippet_id: str, message: str) -> ReplResponse:
    return ReplResponse(id=snippet_id, error=message)
