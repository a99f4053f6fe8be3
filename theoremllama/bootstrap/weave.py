"""Stage 2: write the natural-language proof into the Lean proof as `--` comments.

The LLM sees k examples (NL proof + Lean proof -> commented Lean proof), then the theorem. The
answer's Lean code block is accepted only if removing its comments gives back the original
code (`theoremllama.lean.syntax.same_code`: comments removed, strings and docstrings kept, every
line with its indentation as in the original; only trailing spaces and blank lines may differ,
since Lean is indentation-sensitive) and it adds at least one comment. Otherwise the caller
retries.
"""

from __future__ import annotations

import re

from theoremllama.bootstrap.examples import CommentedExample
from theoremllama.lean.syntax import BLOCK_COMMENT, LINE_COMMENT, mask, same_code, spans

SYSTEM = (
    "You are an expert in Lean 4 and Mathlib. You are given a natural-language proof and a Lean 4 proof of "
    "the same theorem. Rewrite the Lean 4 proof with the natural-language reasoning written in as `--` "
    "comments before the tactics they explain. Do not change, add or remove any Lean code, and keep every "
    "line and its indentation exactly as it is: only add comments, on lines of their own or at the end of "
    "a line. Answer with the commented proof in one ```lean4 code block."
)


def _user_turn(informal_proof: str, proof: str) -> str:
    return (f"Natural-language proof:\n{informal_proof.strip()}\n\n"
            f"Lean 4 proof:\n```lean4\n{proof.strip()}\n```")


def weave_prompt(proof: str, informal_proof: str, examples: list[CommentedExample]) -> list[dict]:
    """Chat messages: the instructions, one user/assistant turn per example, then the theorem."""
    messages = [{"role": "system", "content": SYSTEM}]
    for ex in examples:
        messages.append({"role": "user", "content": _user_turn(ex.informal_proof, ex.proof)})
        messages.append({"role": "assistant", "content": f"```lean4\n{ex.commented_proof.strip()}\n```"})
    messages.append({"role": "user", "content": _user_turn(informal_proof, proof)})
    return messages


# An opening fence (``` or ~~~, optional language tag) up to the matching closing fence.
_FENCE = re.compile(r"^[ \t]*(```|~~~)[ \t]*([\w+-]*)[ \t]*\n(.*?)^[ \t]*\1[ \t]*$", re.DOTALL | re.MULTILINE)


def code_blocks(answer: str) -> list[str]:
    """The fenced code blocks of an answer, Lean-tagged ones first; an unterminated last fence
    (the model ran out of tokens) counts as a block to its end."""
    blocks = [(m.group(2).lower(), m.group(3)) for m in _FENCE.finditer(answer)]
    tail = answer.rfind("```")
    if not blocks and tail >= 0:
        rest = answer[tail + 3:]
        tag, _, body = rest.partition("\n")
        blocks.append((tag.strip().lower(), body))
    lean = [b for tag, b in blocks if tag.startswith("lean")]
    return lean + [b for tag, b in blocks if not tag.startswith("lean")]


def _comments(code: str) -> list[str]:
    return [" ".join(code[s.start:s.end].split()) for s in spans(code) if s.kind in (LINE_COMMENT, BLOCK_COMMENT)]


def accept_commented(original: str, answer: str) -> tuple[str | None, str]:
    """(commented proof, "ok") or (None, reason), reason one of:
    `no_code` (no code block and the answer is not code), `code_changed` (comments removed, the
    code differs from the original), `no_comments` (nothing was added)."""
    candidates = code_blocks(answer)
    if not candidates:
        if not answer.strip():
            return None, "no_code"
        candidates = [answer]  # some models answer with bare code
    for code in candidates:
        if same_code(original, code):
            code = code.strip("\n")
            added = list(_comments(code))
            for c in _comments(original):
                if c in added:
                    added.remove(c)
            if not added:
                return None, "no_comments"
            return code, "ok"
    return None, "code_changed" if code_blocks(answer) or "theorem" in answer or "lemma" in answer else "no_code"


def proof_after_statement(commented: str, statement: str) -> str:
    """The part of a commented declaration after its statement (what follows `:=`).

    The statement is found by its code alone, so comments the LLM put inside the statement's
    lines do not hide it. Returns the whole text if the statement cannot be found."""
    masked = mask(commented, strings=False)
    positions = [i for i, c in enumerate(masked) if not c.isspace()]
    code = "".join(masked[i] for i in positions)
    want = "".join(mask(statement, strings=False).split())
    at = code.find(want) if want else -1
    if at < 0:
        return commented
    return commented[positions[at + len(want) - 1] + 1:].lstrip(" \t")
