"""The informal statement-and-proof text read back: from an LLM's answer (stage 1) or from an OBT
row's `Generated_informal_statement_and_proof` (written by `theoremllama.data.minif2f.format_informal`).
"""

from __future__ import annotations

import json
import re


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
