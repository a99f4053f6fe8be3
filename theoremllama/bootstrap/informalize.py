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

from theoremllama.bootstrap.examples import Example, format_informal

SYSTEM = (
    "You are an expert in Lean 4, Mathlib and competition mathematics. Given a Lean 4 theorem and its "
    "formal proof, write the theorem's statement and a complete proof in natural language, as a "
    "mathematician would (LaTeX allowed). Follow the formal proof's line of reasoning. Answer with exactly "
    "two sections:\n# Informal statement\n...\n# Informal proof\n..."
)


def _lean_block(code: str) -> str:
    return f"```lean4\n{code.strip()}\n```"


def informalize_prompt(proof: str, examples: list[Example]) -> list[dict]:
    """Chat messages: the instructions, one user/assistant turn per example, then the theorem."""
    messages = [{"role": "system", "content": SYSTEM}]
    for ex in examples:
        messages.append({"role": "user", "content": f"Lean 4 theorem:\n{_lean_block(ex.proof)}"})
        messages.append({"role": "assistant", "content": format_informal(ex.informal_statement, ex.informal_proof)})
    messages.append({"role": "user", "content": f"Lean 4 theorem:\n{_lean_block(proof)}"})
    return messages


# A heading line: markdown `#`s, or a bold/plain label ending in a colon; the label names the part.
_HEADING = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*|\*\*|__)?[ \t]*"
    r"(?P<label>(?:informal|natural[- ]language|nl)?[ \t]*(?:statement|problem|theorem|proof))\b"
    r"[ \t]*[.:]?[ \t]*(?:\*\*|__)?[ \t]*[.:]?[ \t]*(?P<rest>.*)$",
    re.IGNORECASE | re.MULTILINE,
)
_CODE_BLOCK = re.compile(r"^[ \t]*```[ \t]*(?:lean4?)[^\n]*\n.*?^[ \t]*```[ \t]*$", re.DOTALL | re.MULTILINE | re.IGNORECASE)
_JSON_KEYS_STATEMENT = ("informal_statement", "statement", "natural_language_statement", "nl_statement")
_JSON_KEYS_PROOF = ("informal_proof", "proof", "natural_language_proof", "nl_proof")


def _from_json(text: str) -> tuple[str, str] | None:
    fenced = re.search(r"```(?:json)?\s*(\{.*?\})\s*```", text, re.DOTALL)
    candidates = [fenced.group(1)] if fenced else []
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start:end + 1])
    for c in candidates:
        try:
            obj = json.loads(c)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        lower = {str(k).lower().replace(" ", "_"): v for k, v in obj.items()}
        s = next((lower[k] for k in _JSON_KEYS_STATEMENT if isinstance(lower.get(k), str)), None)
        p = next((lower[k] for k in _JSON_KEYS_PROOF if isinstance(lower.get(k), str)), None)
        if s is not None and p is not None:
            return s.strip(), p.strip()
    return None


def parse_informal(text: str) -> tuple[str, str] | None:
    """(statement, proof) from an answer, or None if it has no recognisable statement and proof.

    Accepts `# Informal statement` / `# Informal proof` sections (any heading level, `**bold**` or
    `Label:` forms, synonyms like `Statement`, `Problem`, `Proof`) and JSON objects."""
    if not text or not text.strip():
        return None
    text = _CODE_BLOCK.sub("", text)  # an echoed Lean block's `theorem` line is not a heading
    headings = list(_HEADING.finditer(text))
    is_proof = [m.group("label").lower().endswith("proof") for m in headings]
    # The first statement heading, then the first proof heading after it; later headings of
    # either kind are body text (a proof may well contain a line starting "Proof:").
    first = next((i for i, p in enumerate(is_proof) if not p), None)
    if first is not None:
        second = next((j for j in range(first + 1, len(headings)) if is_proof[j]), None)
        if second is not None:
            s_m, p_m = headings[first], headings[second]
            statement = (s_m.group("rest") + "\n" + text[s_m.end():p_m.start()]).strip()
            proof = (p_m.group("rest") + "\n" + text[p_m.end():]).strip()
            if statement and proof:
                return statement, proof
    return _from_json(text)


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
