"""In-context examples for bootstrapping: theorems with a known NL statement, NL proof and
commented proof, and the bank that retrieves the most similar ones for a theorem.

The seed bank is the 93 real commented MiniF2F-valid proofs published with TheoremLlama (of 106: 13 are
`sorry` placeholders). Any OBT
file can be a bank too (its `Generated_informal_statement_and_proof` is parsed back into a
statement and a proof); with `iterate`, accepted records join the bank as the job runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from theoremllama.errors import InputError, UserError

SEED_BANK = "data/theoremllama_eval/MiniF2F_valid_partial_withProof_commented.json"
"""The shipped seed bank, relative to the repository root."""


@dataclass(frozen=True)
class Example:
    """One worked example shown to the LLM."""

    name: str
    """Theorem name; a theorem is never its own example."""
    proof: str
    """The whole Lean declaration (statement and proof)."""
    informal_statement: str
    """Natural-language statement."""
    informal_proof: str
    """Natural-language proof."""
    commented_proof: str
    """`proof` with the natural-language reasoning as `--` comments."""


# One layout of the `Generated_informal_statement_and_proof` column for the whole project (the
# seed bank, bootstrapped OBT rows and evaluation prompts all use it); `parse_informal` reads it back.
from theoremllama.data.minif2f import format_informal  # noqa: E402,F401


def example_from_dict(d: dict) -> Example | None:
    """An example from a seed-bank row (`Informal_statement`/`Informal_proof`) or an OBT row
    (`Generated_informal_statement_and_proof`); None when the row lacks what an example needs."""
    from theoremllama.bootstrap.informalize import parse_informal

    statement, proof = d.get("Informal_statement") or "", d.get("Informal_proof") or ""
    if not (statement and proof) and d.get("Generated_informal_statement_and_proof"):
        parsed = parse_informal(d["Generated_informal_statement_and_proof"])
        if parsed:
            statement, proof = parsed
    if not (d.get("Name") and d.get("Proof") and d.get("Commented_proof") and statement and proof):
        return None
    return Example(d["Name"], d["Proof"], statement, proof, d["Commented_proof"])


def default_bank_path() -> Path:
    """The seed bank in this checkout (an editable install) or in the working directory."""
    for root in (Path(__file__).resolve().parents[2], Path.cwd()):
        if (root / SEED_BANK).exists():
            return root / SEED_BANK
    raise UserError(f"the seed example bank {SEED_BANK} was not found; set examples.bank to an OBT or "
                    "MiniF2F_valid_partial_withProof_commented.json file")


def load_examples(path: str | Path | None = None) -> list[Example]:
    """Examples from a bank file (.json array, .jsonl, HF dataset dir); default: the seed bank."""
    from theoremllama.data.jsonl import read_records

    if path is None:
        # The shipped seed bank through the data layer, which corrects the 14 cut-off `Name`s
        # (so the never-its-own-example rule holds for them) and leaves out `sorry` placeholders.
        from theoremllama.data.minif2f import load_example_bank

        return [e for e in (example_from_dict(r.to_dict()) for r in load_example_bank(proved_only=True))
                if e is not None]
    path = Path(path)
    rows = read_records(path)
    examples = [e for e in (example_from_dict(r) for r in rows) if e is not None]
    if rows and not examples:
        raise InputError("no usable examples: rows need Name, Proof, Commented_proof and an informal "
                         "statement and proof", path=str(path))
    return examples


class ExampleBank:
    """Examples searchable by similarity of their Lean code to a theorem's.

    With a `retriever` (`theoremllama.llm.retriever.Retriever`), `top_k` returns the most similar
    examples; without one, the first `k` examples in bank order (a fixed few-shot prompt)."""

    def __init__(self, examples: list[Example], retriever=None):
        self.retriever = retriever
        self._examples: dict[str, Example] = {}
        self.add(examples)

    def __len__(self) -> int:
        return len(self._examples)

    def add(self, examples: list[Example]) -> None:
        fresh = [e for e in examples if e.name not in self._examples]
        for e in examples:
            self._examples[e.name] = e
        if self.retriever is not None and fresh:
            self.retriever.add([e.name for e in fresh], [e.proof for e in fresh], fresh)

    def warm(self, queries: list[str]) -> None:
        """Embed the queries ahead of time, in batches (much faster than one at a time)."""
        if self.retriever is not None and queries:
            self.retriever.embed(queries)

    def top_k(self, query: str, k: int, *, exclude: str) -> list[Example]:
        """The `k` best examples for the theorem named `exclude` (never that theorem itself)."""
        if self.retriever is not None:
            return self.retriever.top_k(query, k, exclude={exclude})
        return [e for e in self._examples.values() if e.name != exclude][:k]
