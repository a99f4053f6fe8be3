"""Dataset hygiene: deduplicate, filter by length or by `sorry`, split train/valid deterministically.

Every function returns what it kept *and* what it dropped, counted per reason, so that a
pipeline can print "dropped 1,204 (duplicate name: 1,100, statement chars > 2000: 104)" and
nothing disappears silently. They work on any record with a name, a statement and a proof:
`TheoremRecord` (`name`, `statement`, `proof`), `OBTRecord` (`Name`, `Statement`, `Proof`),
`Problem` (`name`, `formal_statement`, `reference_proof`) or the equivalent dicts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

from theoremllama.data.minif2f import corrected_name
from theoremllama.errors import UserError
from theoremllama.lean.syntax import has_sorry, normalize_whitespace, strip_comments

_FIELDS = {
    "name": ("name", "Name", "id"),  # `id`: `theoremllama verify` input records
    "statement": ("statement", "Statement", "formal_statement"),
    "proof": ("proof", "Proof", "reference_proof"),
}
# Other Lean code a record may carry (a training target, a commented reference proof).
_MORE_CODE = ("Commented_proof", "commented_proof")
# What gives a statement its meaning besides its text: the context it is elaborated in.
_CONTEXT = ("opens", "variables", "universes", "header")
_NAME_COMPONENT = re.compile(r"«[^»]*»|[^.«]+")
SORRY_MODES = ("keep", "drop", "only")
_DECL_HEAD = re.compile(r"^\s*(?:theorem|lemma)\s+\S+")


def get_field(record: Any, what: str) -> str:
    """A record's name/statement/proof, whatever its type calls it ('' if it has none)."""
    for key in _FIELDS[what]:
        value = record.get(key) if isinstance(record, dict) else getattr(record, key, None)
        if isinstance(value, str):
            return value
        if value is not None:
            raise UserError(f"field {key!r}: expected a string, got {type(value).__name__} "
                            f"({str(value)[:60]!r})")
    if what == "name":
        raise UserError(f"a {type(record).__name__} record has no name field ({', '.join(_FIELDS['name'])})")
    return ""


def record_name(record: Any) -> str:
    """A record's name as the data layer knows it: the name it carries, unless its statement
    declares another theorem (a cut-off published name, a verify input's `NAME#2` id):
    `theoremllama.data.minif2f.corrected_name`."""
    return corrected_name(get_field(record, "name"), get_field(record, "statement"))


def record_has_sorry(record: Any) -> bool:
    """Whether any Lean code of a record (statement, proof, commented proof) leaves a gap:
    `theoremllama.lean.syntax.has_sorry`, comments and strings ignored. Computed from the text,
    whatever a stored `has_sorry` says."""
    texts = [get_field(record, "statement"), get_field(record, "proof")]
    for key in _MORE_CODE:
        value = record.get(key) if isinstance(record, dict) else getattr(record, key, None)
        texts.append(value if isinstance(value, str) else "")
    return any(has_sorry(t) for t in texts if t)


@dataclass
class FilterResult:
    """The records kept (in their original order) and the count of dropped ones per reason."""

    kept: list
    dropped: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=dict)
    """One dropped record's name per reason, to show the user what a reason means."""
    renamed: list = field(default_factory=list)
    """Names corrected in the kept records, (old name, new name) per record (`deduplicate`)."""

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

    def renamed_summary(self) -> str | None:
        """One line on the corrected names, or None when there were none."""
        if not self.renamed:
            return None
        old, new = self.renamed[0]
        n = len(self.renamed)
        return (f"{n} name{'' if n == 1 else 's'} corrected to the theorem their statement declares "
                f"(e.g. {old} -> {new})")


def filter_sorry(records: Sequence, mode: str = "drop") -> FilterResult:
    """`keep` every record, `drop` those that leave a gap (`record_has_sorry`), or keep `only`
    those (e.g. the open problems of a conjecture repository, as evaluation targets)."""
    if mode not in SORRY_MODES:
        raise UserError(f"sorry mode must be one of {', '.join(SORRY_MODES)}, got {mode!r}")
    result = FilterResult(kept=[])
    for r in records:
        gap = record_has_sorry(r)
        if mode == "drop" and gap:
            result.drop(r, "contains sorry")
        elif mode == "only" and not gap:
            result.drop(r, "no sorry")
        else:
            result.kept.append(r)
    return result


def normalized_statement(statement: str) -> str:
    """A statement's identity for deduplication: comments removed (docstrings too), the
    declared name left out (`theorem foo (x) : P` and `lemma bar (x) : P` state the same
    thing), whitespace collapsed."""
    s = strip_comments(statement, keep_docstrings=False)
    s = _DECL_HEAD.sub("theorem", s, count=1)
    return normalize_whitespace(s)


def namespace_of(name: str) -> str:
    """The namespace a fully qualified name sits in (`A.B.foo` -> `A.B`; `«a.b».c` -> `«a.b»`):
    where the unqualified names of its statement are looked up first."""
    return ".".join(_NAME_COMPONENT.findall(name)[:-1])


def statement_key(record: Any, name: str | None = None) -> tuple:
    """What makes two records the same theorem: the namespace of the (corrected) name, the
    context in force (`opens`, `variables`, `universes`, `header`, as far as the record carries
    them) and the normalised statement. `a 1 = 1` in `namespace A` and in `namespace B` are two
    theorems about two different `a`s; so are two copies under different `open`s."""
    name = record_name(record) if name is None else name
    context = []
    for key in _CONTEXT:
        value = record.get(key) if isinstance(record, dict) else getattr(record, key, None)
        if isinstance(value, list):
            context.append(tuple(normalize_whitespace(v) for v in value if isinstance(v, str)))
        elif isinstance(value, str):
            context.append(normalize_whitespace(value))
        else:  # a record that does not carry this part of the context (OBT rows carry none)
            context.append("" if key == "header" else ())
    return namespace_of(name), tuple(context), normalized_statement(get_field(record, "statement"))


def _renamed(record: Any, name: str) -> Any:
    """The record with its `name`/`Name` field set to `name` (an `id` is left as it is)."""
    if isinstance(record, dict):
        for key in ("name", "Name"):
            if key in record:
                return {**record, key: name}
        return record
    for key in ("name", "Name"):
        if hasattr(record, key) and dataclasses.is_dataclass(record):
            return dataclasses.replace(record, **{key: name})
    return record


def deduplicate(records: Sequence, *, by_name: bool = True, by_statement: bool = True) -> FilterResult:
    """Keep one record of each name and of each statement (`statement_key`: namespace, context
    and normalised statement), in their original order.

    Names are the data layer's corrected names (`record_name`), and kept records carry them
    (each correction is counted in `renamed`). Of several records of one theorem the first that
    proves it is kept: a `sorry` placeholder never hides a later real proof."""
    result = FilterResult(kept=[])
    names: set[str] = set()
    statements: set[tuple] = set()
    corrected = [record_name(r) for r in records]
    # Proofs before placeholders, each group in file order; the kept ones are put back in order.
    visit = sorted(range(len(records)), key=lambda i: record_has_sorry(records[i]))
    kept = []
    for i in visit:
        r, name = records[i], corrected[i]
        if by_name and name in names:
            result.drop(r, "duplicate name")
            continue
        key = statement_key(r, name) if by_statement else None
        if by_statement and key in statements:
            result.drop(r, "duplicate statement")
            continue
        names.add(name)
        if key is not None:
            statements.add(key)
        kept.append(i)
    for i in sorted(kept):
        r = records[i]
        if corrected[i] != get_field(r, "name"):
            new = _renamed(r, corrected[i])
            if new is not r:
                result.renamed.append((get_field(r, "name"), corrected[i]))
            r = new
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
    proofs of one theorem; the corrected name, `record_name`) always land on the same side, so
    valid never leaks into train."""
    if not 0.0 <= valid_fraction <= 1.0:
        raise UserError(f"valid_fraction must be in [0, 1], got {valid_fraction}")
    split = Split(train=[], valid=[])
    for r in records:
        side = split.valid if split_fraction(record_name(r), seed) < valid_fraction else split.train
        side.append(r)
    return split
