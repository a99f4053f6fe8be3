"""From a model's completion to the proof that is checked against the ORIGINAL statement.

A completion is read in three steps:
1. take the code of its first ```lean / ```lean4 block (`extract_lean_block`, the format the
   model is trained on), or the whole completion when it has no block (a completion-style model
   simply continues after the statement);
2. if that code contains a declaration (`theorem`, `lemma`, `example`), keep only what follows
   the declaration's `:=` — the model repeated the statement, perhaps a DIFFERENT statement;
   either way only its proof is used;
3. cut the proof where the next top-level command starts (a second theorem, `#eval`, `end`).

The result is spliced onto the problem's own statement (`splice`), so a model can never prove an
easier theorem of its own: if its proof does not fit the original statement, Lean says so.
"""

from __future__ import annotations

import re

from theoremllama.lean.syntax import mask, top_level_assign
from theoremllama.train.prompt import extract_lean_block

# A declaration keyword at the start of a line (after optional modifiers and attributes).
_DECLARATION = re.compile(
    r"^[ \t]*(?:@\[[^\]]*\][ \t]*)?(?:(?:private|protected|noncomputable|nonrec)[ \t]+)*"
    r"(?:theorem|lemma|example)\b", re.MULTILINE)
# A top-level command that ends the proof: anything starting in column 0 that is a command.
_NEXT_COMMAND = re.compile(
    r"^(?:@\[|theorem\b|lemma\b|example\b|def\b|abbrev\b|instance\b|structure\b|inductive\b|class\b|"
    r"namespace\b|section\b|end\b|open\b|variable\b|universe\b|import\b|set_option\b|"
    r"private\b|protected\b|noncomputable\b|#)", re.MULTILINE)


def extract_proof(completion: str) -> str:
    """The proof term or tactic block (`by ...`) in a completion; '' when there is none."""
    block = extract_lean_block(completion)
    code = completion if block is None else block
    masked = mask(code)
    decl = _DECLARATION.search(masked)
    if decl is not None:
        at = top_level_assign(masked, decl.end())
        if at is None:  # a statement with no proof
            return ""
        start = at + 2
        end = _proof_end(masked, start)
    else:
        start, end = 0, _proof_end(masked, 0)
    return code[start:end].strip()


def splice(formal_statement: str, proof: str) -> str:
    """The whole declaration: the original statement (up to and including `:=`) and the proof."""
    return f"{statement_of(formal_statement)} {proof.strip()}"


def statement_of(formal_statement: str) -> str:
    """A MiniF2F statement without a trailing `by` / `sorry`, ending in `:=`."""
    s = formal_statement.rstrip()
    for tail in ("sorry", "by"):
        if s.endswith(tail) and s[: -len(tail)].rstrip().endswith(":="):
            s = s[: -len(tail)].rstrip()
    return s



def _proof_end(masked: str, start: int) -> int:
    """Where the proof starting at `start` ends: before the next top-level command, if any."""
    # Search from the next line: the proof's own first line never ends it.
    nl = masked.find("\n", start)
    if nl < 0:
        return len(masked)
    m = _NEXT_COMMAND.search(masked, nl + 1)
    return len(masked) if m is None else m.start()
