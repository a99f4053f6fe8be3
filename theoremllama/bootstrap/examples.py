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

from theoremllama.bootstrap.informal_text import parse_informal
from theoremllama.data.formats import read_records
from theoremllama.data.minif2f import load_example_bank
from theoremllama.errors import InputError


@dataclass(frozen=True)
class CommentedExample:
    """A theorem with its natural-language statement and proof and its commented proof: one worked
    example of the bootstrap stages (informalize, weave)."""

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


def example_from_dict(d: dict) -> CommentedExample | None:
    """An example from a seed-bank row (`Informal_statement`/`Informal_proof`) or an OBT row
    (`Generated_informal_statement_and_proof`); None when the row lacks what an example needs."""
    statement, proof = d.get("Informal_statement") or "", d.get("Informal_proof") or ""
    if not (statement and proof) and d.get("Generated_informal_statement_and_proof"):
        parsed = parse_informal(d["Generated_informal_statement_and_proof"])
        if parsed:
            statement, proof = parsed
    if not (d.get("Name") and d.get("Proof") and d.get("Commented_proof") and statement and proof):
        return None
    return CommentedExample(d["Name"], d["Proof"], statement, proof, d["Commented_proof"])


def load_examples(path: str | Path | None = None) -> list[CommentedExample]:
    """Examples from a bank file (.json array, .jsonl, HF dataset dir); default: the seed bank."""
    if path is None:
        # The shipped seed bank through the data layer, which corrects the 14 cut-off `Name`s
        # (so the never-its-own-example rule holds for them) and leaves out `sorry` placeholders.
        return [e for e in (example_from_dict(r.to_dict()) for r in load_example_bank(proved_only=True))
                if e is not None]
    path = Path(path)
    rows = read_records(path)
    examples = [e for e in (example_from_dict(r) for r in rows) if e is not None]
    if rows and not examples:
        raise InputError("no usable examples: rows need Name, Proof, Commented_proof and an informal "
                         "statement and proof", path=str(path))
    return examples


class CommentedExampleBank:
    """Examples searchable by similarity of their Lean code to a theorem's.

    With a `retriever` (`theoremllama.llm.retriever.Retriever`), `top_k` returns the most similar
    examples; without one, the first `k` examples in bank order (a fixed few-shot prompt)."""

    def __init__(self, examples: list[CommentedExample], retriever=None):
        self.retriever = retriever
        self._examples: dict[str, CommentedExample] = {}
        self.add(examples)

    def __len__(self) -> int:
        return len(self._examples)

    def add(self, examples: list[CommentedExample]) -> None:
        fresh = [e for e in examples if e.name not in self._examples]
        for e in examples:
            self._examples[e.name] = e
        if self.retriever is not None and fresh:
            self.retriever.add([e.name for e in fresh], [e.proof for e in fresh], fresh)

    def warm(self, queries: list[str]) -> None:
        """Embed the queries ahead of time, in batches (much faster than one at a time)."""
        if self.retriever is not None and queries:
            self.retriever.embed(queries)

    def top_k(self, query: str, k: int, *, exclude: str) -> list[CommentedExample]:
        """The `k` best examples for the theorem named `exclude` (never that theorem itself)."""
        if self.retriever is not None:
            return self.retriever.top_k(query, k, exclude={exclude})
        return [e for e in self._examples.values() if e.name != exclude][:k]
