"""Curriculum sorting: train on easy proofs first, hard ones last, in that fixed order.

TheoremLlama's ablation credits this ordering with a large share of its gain. Difficulty here is
a number any user can recompute without Lean:

    difficulty(record) = (tactic steps, code length, name)

- tactic steps: in the proof body (what follows the statement's `:=`, with comments removed by
  `theoremllama.lean.syntax.strip_comments` so the natural-language comments of a commented proof
  do not count), the number of non-blank lines plus the number of `;` separators (`t1; t2` and
  `t1 <;> t2` are two steps on one line). A tactic written over several lines counts once per
  line: an approximation, but a monotone one in how much a proof has to say;
- ties are broken by the length of that body (characters, whitespace-collapsed), then by the
  theorem name, then by position in the dataset, so the order is total and reproducible.

Training then keeps this order: `OrderedSampler` yields the indices as given and the trainer
does not shuffle. Without curriculum the order is a permutation fixed by the seed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from theoremllama.data.records import OBTRecord
from theoremllama.lean.syntax import normalize_whitespace, strip_comments


def proof_body(record: OBTRecord) -> str:
    """The proof after the statement's `:=`, comments removed (falls back to the whole proof)."""
    code = strip_comments(record.Proof or record.Commented_proof, keep_docstrings=False)
    statement = strip_comments(record.Statement, keep_docstrings=False).rstrip()
    # The statement ends with `:=`; look for it from where the statement's text would end, so a
    # `:=` inside the statement (a default argument) is not taken for the proof's start.
    cut = code.find(":=", max(0, len(statement) - 2))
    if cut < 0:
        cut = code.find(":=")
    return code[cut + 2:] if cut >= 0 else code


def tactic_steps(record: OBTRecord) -> int:
    """Non-blank lines of the proof body plus its `;` separators (see the module docstring)."""
    body = proof_body(record)
    lines = [line for line in body.splitlines() if line.strip()]
    # A body that is just `by` on the statement's line followed by tactics: `by` alone is no step.
    if lines and lines[0].strip() == "by":
        lines = lines[1:]
    return len(lines) + body.count(";")


def difficulty(record: OBTRecord) -> tuple[int, int, str]:
    """(tactic steps, body length, name): smaller is easier."""
    return tactic_steps(record), len(normalize_whitespace(proof_body(record))), record.Name


def curriculum_order(records: Sequence[OBTRecord]) -> list[int]:
    """Positions of `records` from easiest to hardest (ties: position in the dataset)."""
    return sorted(range(len(records)), key=lambda i: (difficulty(records[i]), i))


def training_order(records: Sequence[OBTRecord], *, curriculum: bool, seed: int) -> list[int]:
    """The order records are trained in: the curriculum, or a permutation fixed by `seed`."""
    if curriculum:
        return curriculum_order(records)
    return [int(i) for i in np.random.default_rng(seed).permutation(len(records))]


class OrderedSampler(torch.utils.data.Sampler[int]):
    """Yields dataset indices in the order given, every epoch: no shuffling, nothing random.

    Resuming is exact because the order is a pure function of the data and the config: the
    trainer skips the batches already seen and continues with the same sequence."""

    def __init__(self, order: Sequence[int]):
        self.order = list(order)

    def __iter__(self) -> Iterator[int]:
        return iter(self.order)

    def __len__(self) -> int:
        return len(self.order)
