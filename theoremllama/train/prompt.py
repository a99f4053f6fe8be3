"""The prover's prompt format: the one place that says how a model is asked for a Lean proof.

Training (SFT examples, block training) and evaluation (MiniF2F prompting, in-context examples)
both import from here, so a trained model is always prompted exactly the way it was trained.
Pure Python on purpose: importing this module must not pull in torch or transformers.

One conversation, in the chat format every HF chat template accepts:

    system     SYSTEM_PROMPT
    user       build_instruction(informal_1, lean_statement_1)     } zero or more worked examples
    assistant  build_answer(commented_proof_1)                     } (block training / few-shot)
    ...
    user       build_instruction(informal, lean_statement)         <- the problem asked
    assistant  build_answer(commented_proof)                       <- the target (training only)

The answer is one ```lean4 code block holding the whole declaration (statement and proof, with the
natural-language reasoning as `--` comments), which is what `extract_lean_block` reads back.
"""

from __future__ import annotations

import re

SYSTEM_PROMPT: str = (
    "You are a Lean 4 expert. Given a mathematical theorem and its proof in natural language, "
    "and the theorem's statement in Lean 4, you write the complete Lean 4 proof, with the "
    "natural-language reasoning written in as comments."
)

# The instruction's two labelled parts. Kept as constants so tests and tools can find them.
INFORMAL_HEADING: str = "Natural language version of theorem and proof:"
FORMAL_HEADING: str = "Translate the natural language version to a Lean 4 version:"


def build_instruction(informal: str, lean_statement: str) -> str:
    """The user turn asking for one proof.

    informal: the natural-language statement and proof (OBT's
        `Generated_informal_statement_and_proof`, or MiniF2F's informal statement and proof joined
        with a blank line);
    lean_statement: the Lean statement up to and including `:=`.
    """
    return f"{INFORMAL_HEADING}\n{informal.strip()}\n\n{FORMAL_HEADING}\n{lean_statement.strip()}"


def build_answer(commented_proof: str) -> str:
    """The assistant turn: the whole declaration (statement and proof) in one ```lean4 block."""
    return f"```lean4\n{commented_proof.strip()}\n```"


def build_conversation(examples: list[tuple[str, str]], instruction: str) -> list[dict]:
    """Chat messages: system prompt, each (instruction, answer) example as a user/assistant pair,
    then `instruction` as the last user turn (the model's reply is what comes next).

    Used by block training (examples = preceding records) and by evaluation (examples =
    retrieved or previously verified proofs; never the problem being evaluated itself)."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for ex_instruction, ex_answer in examples:
        messages.append({"role": "user", "content": ex_instruction})
        messages.append({"role": "assistant", "content": ex_answer})
    messages.append({"role": "user", "content": instruction})
    return messages


REPAIR_HEADING: str = "Lean 4 rejected this proof. Its messages (line numbers count from the theorem's first line):"
REPAIR_REQUEST: str = ("Write a corrected, complete Lean 4 proof of the same theorem, statement included, "
                       "in one ```lean4 block.")


def build_repair_instruction(messages: list[str]) -> str:
    """The user turn after a failed proof (the assistant turn before it): Lean's messages, each
    already laid out as `line L, column C: severity: text`, and the request for a corrected proof."""
    listed = "\n\n".join(m.strip() for m in messages) if messages else "(Lean printed no message.)"
    return f"{REPAIR_HEADING}\n\n{listed}\n\n{REPAIR_REQUEST}"


# A fenced block opened by ```lean or ```lean4 (optionally followed by spaces); the closing fence
# is optional so that a completion cut off by max_tokens still yields its code.
_LEAN_BLOCK = re.compile(r"```[ \t]*lean4?[ \t]*\r?\n(.*?)(?:\r?\n?[ \t]*```|\Z)", re.DOTALL)


def extract_lean_block(completion: str) -> str | None:
    """The code inside the first ```lean / ```lean4 block of a completion, or None if none."""
    m = _LEAN_BLOCK.search(completion)
    if m is None:
        return None
    return m.group(1)
