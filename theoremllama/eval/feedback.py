"""Lean's feedback on a failed proof, as a repair prompt shows it.

A verdict's messages are positioned in the code Lean checked: header, context, then the
declaration (statement + proof). A model sees only the declaration, so positions are moved to
count from the theorem's first line; the messages kept are Lean's first `limit` errors (else its
warnings: a `sorry` verdict has no error), their text clipped. The "unsolved goals" error's text
holds the goals Lean could not close.
"""

from __future__ import annotations

from theoremllama.data.records import Problem
from theoremllama.eval.extract import statement_of
from theoremllama.lean.job import VerifyJob, prepare_job

MESSAGE_CHARS = 1500
"""Longest message text kept (an unsolved-goals message can list pages of hypotheses)."""


def checked_declaration(problem: Problem, proof: str) -> tuple[str, int, object]:
    """(the declaration as Lean checked it: statement + proof, without header and context;
    the line of the submitted code it starts on (1-based); the `PreparedJob`)."""
    prepared = prepare_job(verify_job(problem, proof, job_id=problem.name))
    statement = statement_of(problem.formal_statement)
    start = prepared.proof_offset - 1 - len(statement)
    if prepared.lemma_style:  # the completion restates the theorem: it is the declaration
        start = prepared.proof_offset
    elif start < 0 or prepared.body[start:prepared.proof_offset - 1] != statement:
        start = 0  # the statement was rewritten (header lines moved out): count from the body
    first_line = prepared.header_lines + prepared.body[:start].count("\n") + 1
    return prepared.body[start:], first_line, prepared


def verify_job(problem: Problem, proof: str, *, job_id: str):
    """The `VerifyJob` of a proof of `problem`: the context is given code, on the statement side."""
    return VerifyJob(id=job_id, statement=statement_of(problem.formal_statement), proof=proof,
                     header=problem.header, context=problem.context)


def feedback(problem: Problem, proof: str, messages: list[dict], limit: int) -> list[dict]:
    """Lean's first `limit` messages on a failed proof (errors, else warnings), each as
    `{"line", "column", "severity", "text"}` with `line` counted from the theorem's first line
    (1 = the `theorem` line; 0 or less: in the header or the context)."""
    _, first_line, _ = checked_declaration(problem, proof)
    errors = [m for m in messages if m.get("severity") == "error"]
    chosen = errors or [m for m in messages if m.get("severity") == "warning"]
    out = []
    for m in chosen[:limit]:
        pos = m.get("pos") or {}
        text = str(m.get("data", "")).strip()
        if len(text) > MESSAGE_CHARS:
            text = text[:MESSAGE_CHARS] + " ..."
        out.append({"line": int(pos.get("line", 0)) - first_line + 1, "column": int(pos.get("column", 0)),
                    "severity": m.get("severity", ""), "text": text})
    return out


def describe(entry: dict) -> str:
    """One feedback entry as shown to the model."""
    where = (f"line {entry['line']}, column {entry['column']}" if entry["line"] >= 1
             else "in the code before the theorem")
    return f"{where}: {entry['severity']}: {entry['text']}"
