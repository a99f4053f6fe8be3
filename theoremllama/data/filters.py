"""Dataset hygiene: deduplicate, filter by length, split train/valid deterministically.

Every function returns what it kept *and* what it dropped, counted per reason, so that a
pipeline can print "dropped 1,204 (duplicate name: 1,100, statement chars > 2000: 104)" and
nothing disappears silently. They work on any record with a name, a statement and a proof:
`TheoremRecord` (`name`, `statement`, `proof`), `OBTRecord` (`Name`, `Statement`, `Proof`),
`Problem` (`name`, `formal_statement`, `reference_proof`) or the equivalent dicts.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

from theoremllama.errors import UserError
from theoremllama.lean.syntax import normalize_whitespace, strip_comments

_FIELDS = {
    "name": ("name", "Name"),
    "statement": ("statement", "Statement", "formal_statement"),
    "proof": ("proof", "Proof", "reference_proof"),
}
_DECL_HEAD = re.compile(r"^\s*(?:theorem|lemma)\s+\S+")


def get_field(record: Any, what: str) -> str:
    """A record's name/statement/proof, whatever its type calls it ('' if it has none)."""
    for key in _FIELDS[what]:
        value = record.get(key) if isinstance(record, dict) else getattr(record, key, None)
        if value is not None:
            return value
    if what == "name":
        raise ValueError(f"a {type(record).__name__} record has no name field ({', '.join(_FIELDS['name'])})")
    return ""


@dataclass
class FilterResult:
    """The records kept (in their original order) and the count of dropped ones per reason."""

    kept: list
    dropped: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=dict)
    """One dropped record's name per reason, to show the user what a reason means."""

    def drop(self, record: Any, reason: str) -> None:
        self.dropped[reason] += 1
        if reason not in self.examples:
            self.examples[reason] = get_field(record, "name")

    def summary(self) -> str:
        total = sum(self.dropped.values())
        if not total:
            return f"kept {len(self.kept)}, dropped 0"
        reasons = ", ".join(f"{r}: {c} (e.g. {self.examples[r]})" for r, c in self.dropped.most_common())
        return f"kept {len(self.kept)}, dropped {total} ({reasons})"


def normalized_statement(statement: str) -> str:
    """A statement's identity for deduplication: comments removed (docstrings too), the
    declared name left out (`theorem foo (x) : P` and `lemma bar (x) : P` state the same
    thing), whitespace collapsed."""
    s = strip_comments(statement, keep_docstrings=False)
    s = _DECL_HEAD.sub("theorem", s, count=1)
    return normalize_whitespace(s)


def deduplicate(records: Sequence, *, by_name: bool = True, by_statement: bool = True) -> FilterResult:
    """Keep the first record of each name and of each normalised statement."""
    result = FilterResult(kept=[])
    names: set[str] = set()
    statements: set[str] = set()
    for r in records:
        name = get_field(r, "name")
        if by_name and name in names:
            result.drop(r, "duplicate name")
            continue
        key = normalized_statement(get_field(r, "statement")) if by_statement else None
        if by_statement and key in statements:
            result.drop(r, "duplicate statement")
            continue
        names.add(name)
        if key is not None:
            statements.add(key)
        result.kept.append(r)
    return result


def filter_length(records: Sequence, *, max_statement_chars: int | None = None,
                  max_statement_lines: int | None = None, max_proof_chars: int | None = None,
                  max_proof_lines: int | None = None, min_proof_chars: int | None = None) -> FilterResult:
    """Drop records whose statement or proof is too long (or whose proof is too short).

    Characters and lines are counted on the text as stored (comments included: that is what
    a model is trained on). The first limit a record breaks is its reason."""
    limits = [
        ("statement", "chars", max_statement_chars, len),
        ("statement", "lines", max_statement_lines, lambda t: t.count("\n") + 1),
        ("proof", "chars", max_proof_chars, len),
        ("proof", "lines", max_proof_lines, lambda t: t.count("\n") + 1),
    ]
    result = FilterResult(kept=[])
    for r in records:
        reason = None
        for what, unit, limit, measure in limits:
            if limit is not None and measure(get_field(r, what)) > limit:
                reason = f"{what} {unit} > {limit}"
                break
        if reason is None and min_proof_chars is not None and len(get_field(r, "proof")) < min_proof_chars:
            reason = f"proof chars < {min_proof_chars}"
        if reason:
            result.drop(r, reason)
        else:
            result.kept.append(r)
    return result


def split_fraction(name: str, seed: str | int = "theoremllama") -> float:
    """A number in [0, 1) fixed by the name and the seed: the same on every run and machine."""
    digest = hashlib.sha256(f"{seed}\x00{name}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0 ** 64


@dataclass
class Split:
    """A deterministic train/valid split."""

    train: list
    valid: list

    def summary(self) -> str:
        return f"train {len(self.train)}, valid {len(self.valid)}"


def train_valid_split(records: Sequence, *, valid_fraction: float = 0.05,
                      seed: str | int = "theoremllama") -> Split:
    """Assign each record to `valid` when `split_fraction(name, seed) < valid_fraction`.

    A record's side depends only on its name and the seed, not on the other records or their
    order: adding records never moves an old one across, and records sharing a name (several
    proofs of one theorem) always land on the same side, so valid never leaks into train."""
    if not 0.0 <= valid_fraction <= 1.0:
        raise UserError(f"valid_fraction must be in [0, 1], got {valid_fraction}")
    split = Split(train=[], valid=[])
    for r in records:
        side = split.valid if split_fraction(get_field(r, "name"), seed) < valid_fraction else split.train
        side.append(r)
    return split
