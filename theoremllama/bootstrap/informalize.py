"""Stage 1: a formal theorem -> its natural-language statement and proof.

The LLM sees k retrieved examples (Lean code -> NL statement + NL proof) as earlier chat turns,
then the theorem. Its answer is parsed (markdown sections, bold labels or a JSON object are all
accepted) and filtered: answers that are empty, too long, repetitive, refusals or unparsable are
rejected, each with a reason, and the caller retries within its budget.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass

from theoremllama.bootstrap.examples import CommentedExample
from theoremllama.bootstrap.informal_text import parse_informal
from theoremllama.data.minif2f import format_informal

SYSTEM = (
    "You are an expert in Lean 4, Mathlib and competition mathematics. Given a Lean 4 theorem and its "
    "formal proof, write the theorem's statement and a complete proof in natural language, as a "
    "mathematician would (LaTeX allowed). Follow the formal proof's line of reasoning. Answer with exactly "
    "two sections:\n# Informal statement\n...\n# Informal proof\n..."
)


def _lean_block(code: str) -> str:
    return f"```lean4\n{code.strip()}\n```"


def informalize_prompt(proof: str, examples: list[CommentedExample]) -> list[dict]:
    """Chat messages: the instructions, one user/assistant turn per example, then the theorem."""
    messages = [{"role": "system", "content": SYSTEM}]
    for ex in examples:
        messages.append({"role": "user", "content": f"Lean 4 theorem:\n{_lean_block(ex.proof)}"})
        messages.append({"role": "assistant", "content": format_informal(ex.informal_statement, ex.informal_proof)})
    messages.append({"role": "user", "content": f"Lean 4 theorem:\n{_lean_block(proof)}"})
    return messages


_REFUSALS = re.compile(
    r"\b(?:I cannot|I can't|I can not|I'm unable|I am unable|I'm sorry|I am sorry|As an AI|as a language model|"
    r"I do not have the ability|I won't be able)\b",
    re.IGNORECASE,
)


def repetition_ratio(text: str, n: int = 4) -> float:
    """Share of word n-grams that repeat an earlier one (0: none repeat; near 1: a loop)."""
    words = text.split()
    grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
    if not grams:
        return 0.0
    return 1.0 - len(Counter(grams)) / len(grams)


@dataclass
class InformalFilter:
    """Quality gates for a generated NL statement and proof."""

    min_chars: int = 10
    """Shortest acceptable statement and proof (each)."""
    max_chars: int = 6000
    """Longest acceptable statement + proof."""
    max_repetition: float = 0.5
    """Largest acceptable `repetition_ratio` (degenerate loops score near 1)."""
    ngram: int = 4
    """n of the n-grams used to measure repetition."""
    min_ngrams: int = 20
    """Texts with fewer n-grams are too short for the repetition measure to mean anything."""

    def check(self, answer: str) -> tuple[tuple[str, str] | None, str]:
        """((statement, proof), "ok") or (None, reason) with reason one of
        `empty`, `refusal`, `too_long`, `format`, `too_short`, `repetitive`."""
        if not answer or not answer.strip():
            return None, "empty"
        if _REFUSALS.search(answer[:400]):
            return None, "refusal"
        if len(answer) > 2 * self.max_chars:
            return None, "too_long"
        parsed = parse_informal(answer)
        if parsed is None:
            return None, "format"
        statement, proof = parsed
        if len(statement) + len(proof) > self.max_chars:
            return None, "too_long"
        if min(len(statement), len(proof)) < self.min_chars:
            return None, "too_short"
        words = proof.split()
        if len(words) - self.ngram + 1 >= self.min_ngrams and repetition_ratio(proof, self.ngram) > self.max_repetition:
            return None, "repetitive"
        return parsed, "ok"
