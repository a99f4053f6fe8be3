"""Problem files, and the held-out guard: evaluation problems never enter training data.

A problem set is named by a spec: `minif2f:valid` / `minif2f:test` (the MiniF2F the project
ships), or the path of a problem file (`Problem` records, e.g. from `theoremllama data minif2f`,
as .jsonl/.json/.parquet/HF dataset directory).

The held-out set is the union of several specs, and may also name record files of any kind with
a name and a statement (OBT rows, theorem records). A training problem set, a base SFT dataset or
the SFT data of a round that shares a theorem NAME or a normalised STATEMENT with it is refused
before anything runs, with one line naming the first overlap. Statements are compared without
comments, without the theorem's own name, without a trailing `by`/`sorry` or `:=`, whitespace
collapsed: the same theorem renamed is still caught.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from theoremllama.data.filters import get_field, normalized_statement
from theoremllama.data.formats import read_records
from theoremllama.data.jsonl import iter_jsonl_lines
from theoremllama.data.minif2f import MINIF2F_FILE, SPLITS, data_root, load_minif2f, statement_without_by
from theoremllama.data.records import Problem
from theoremllama.errors import UserError

MINIF2F_PREFIX = "minif2f:"


def load_problems(spec: str) -> list[Problem]:
    """The problems a spec names (see the module docstring); refuses an empty set."""
    if spec.startswith(MINIF2F_PREFIX):
        problems = load_minif2f(spec[len(MINIF2F_PREFIX):])
    else:
        problems = read_records(spec, Problem)
    if not problems:
        raise UserError(f"{spec}: holds no problems")
    seen: set[str] = set()
    for p in problems:
        if p.name in seen:
            raise UserError(f"{spec}: problem {p.name!r} appears twice (problem names must be unique)")
        seen.add(p.name)
    return problems


def statement_key(statement: str) -> str:
    """A statement's identity across sources (see the module docstring)."""
    s = statement.rstrip()
    if s.endswith("sorry") and s[:-5].rstrip().endswith(":="):
        s = s[:-5]
    key = normalized_statement(statement_without_by(s))
    return key[:-2].rstrip() if key.endswith(":=") else key


@dataclass
class HeldOut:
    """Names and statement keys of the problems that must never be trained on."""

    names: dict[str, str] = field(default_factory=dict)
    """name -> the spec it came from."""
    statements: dict[str, tuple[str, str]] = field(default_factory=dict)
    """statement key -> (name, spec)."""

    @classmethod
    def load(cls, specs: list[str]) -> "HeldOut":
        held = cls()
        for spec in specs:
            if spec.startswith(MINIF2F_PREFIX):
                rows = _minif2f_rows(spec)
            else:
                if not Path(spec).exists():
                    raise UserError(f"config key 'heldout': {spec}: no such file or directory")
                rows = [(get_field(d, "name"), get_field(d, "statement")) for d in read_records(spec)]
            for name, statement in rows:
                held.names.setdefault(name, spec)
                if statement.strip():
                    held.statements.setdefault(statement_key(statement), (name, spec))
        return held

    def __len__(self) -> int:
        return len(self.names)

    def refuse_overlap(self, records, *, what: str) -> None:
        """Raise UserError naming the first record of `records` (problems, OBT rows, dicts) that is
        held out by name or statement, with how many overlap in all."""
        hits = []
        for r in records:
            name = get_field(r, "name")
            if name in self.names:
                hits.append(f"{name!r} is held out by name ({self.names[name]})")
                continue
            key = statement_key(get_field(r, "statement"))
            if key and key in self.statements:
                other, spec = self.statements[key]
                hits.append(f"{name!r} has the statement of held-out {other!r} ({spec})")
        if hits:
            raise UserError(f"{what}: {len(hits)} record(s) overlap the held-out evaluation set, first: {hits[0]}; "
                            "evaluation problems never enter training data: remove them (or change `heldout`)")


def _minif2f_rows(spec: str) -> list[tuple[str, str]]:
    """(name, formal statement) of a shipped MiniF2F split, read straight from `minif2f.jsonl`
    (the file that defines the problems; no join with the informal files is needed here)."""
    split = spec[len(MINIF2F_PREFIX):]
    if split not in SPLITS:
        raise UserError(f"config key 'heldout': unknown MiniF2F split in {spec!r} (expected minif2f:valid or minif2f:test)")
    rows = [(d.get("name", ""), d.get("formal_statement", "")) for d, _ in iter_jsonl_lines(data_root() / MINIF2F_FILE)
            if isinstance(d, dict) and d.get("split") == split]
    if not rows:
        raise UserError(f"{spec}: no problems found in {data_root() / MINIF2F_FILE}")
    return rows
