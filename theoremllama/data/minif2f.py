"""MiniF2F problems, joined from the two sources the project ships (see `data/README.md`).

- `data/minif2f/minif2f.jsonl` (DeepSeek-Prover / Goedel-Prover version) defines the problems:
  the name, split, header and formal statement every evaluation checks against.
- `data/theoremllama_eval/MiniF2F_{valid,test}_Lean4.json` (published with the paper) add the
  informal statement, the human-written informal proof and, for some problems, a formal proof;
  `MiniF2F_valid_partial_withProof_commented.json` adds verified proofs with their reasoning
  written in as comments (the example bank).

The two sources are joined by name; a name in one and not the other is matched case-insensitively,
then by identical statement (whitespace-normalised, the theorem's own name left out), then by
statement up to parentheses and spacing. Every name that needs such a fallback or does not match
at all is reported, never dropped silently.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from theoremllama.data.formats import iter_json_array
from theoremllama.data.jsonl import iter_jsonl_lines
from theoremllama.data.records import OBTRecord, Problem
from theoremllama.errors import InputError, UserError
from theoremllama.lean.syntax import has_sorry, normalize_whitespace, strip_comments

log = logging.getLogger(__name__)

SPLITS = ("valid", "test")
MINIF2F_FILE = "minif2f/minif2f.jsonl"
THEOREMLLAMA_FILE = "theoremllama_eval/MiniF2F_{split}_Lean4.json"
EXAMPLE_BANK_FILE = "theoremllama_eval/MiniF2F_valid_partial_withProof_commented.json"

_DECL_HEAD = re.compile(r"^\s*(?:theorem|lemma)\s+\S+")
_DECLARED = re.compile(r"^\s*(?:theorem|lemma)\s+([^\s(){}\[\]:]+)")
_LOOSE = re.compile(r"[\s()]")
_TRAILING_BY = re.compile(r"\s*\bby\s*$")


def data_root() -> Path:
    """The project's `data/` directory; the `THEOREMLLAMA_DATA` environment variable overrides it."""
    env = os.environ.get("THEOREMLLAMA_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / "data"
    if not root.is_dir():
        raise UserError(f"data directory {root} not found: set THEOREMLLAMA_DATA to the project's data/ "
                        "directory (it holds minif2f/ and theoremllama_eval/)")
    return root


def format_informal(statement: str, proof: str) -> str:
    """The `Generated_informal_statement_and_proof` text made from a statement and a proof."""
    return f"Informal statement:\n{statement.strip()}\n\nInformal proof:\n{proof.strip()}"


def docstring_text(informal_prefix: str) -> str:
    """The text of a `/-- ... -/` docstring (MiniF2F's `informal_prefix`), delimiters removed."""
    text = informal_prefix.strip()
    if text.startswith("/--"):
        text = text[3:]
    elif text.startswith("/-"):
        text = text[2:]
    if text.endswith("-/"):
        text = text[:-2]
    return text.strip()


def statement_without_by(formal_statement: str) -> str:
    """`theorem t ... := by\\n` -> `theorem t ... :=` (the trailing ` by` moved out)."""
    return _TRAILING_BY.sub("", formal_statement.rstrip()).rstrip()


def _statement_key(statement: str) -> str:
    """A statement compared across sources: no comments, no own name, whitespace collapsed."""
    s = strip_comments(statement_without_by(statement), keep_docstrings=False)
    s = _DECL_HEAD.sub("theorem", s, count=1)
    s = normalize_whitespace(s)
    return s[:-2].rstrip() if s.endswith(":=") else s


def declared_name(statement: str) -> str | None:
    """The name a `theorem NAME ...` statement declares (None if it declares none)."""
    m = _DECLARED.match(strip_comments(statement, keep_docstrings=False))
    return m.group(1) if m else None


def corrected_name(name: str, statement: str) -> str:
    """`name`, unless the statement declares a theorem that `name` does not end with: then the
    declared name. 14 published seed records carry a cut-off `Name` (`mathd_algebra_10` for
    `theorem mathd_algebra_101 ...`). A qualified name (`Nat.foo` for `theorem foo`) is kept."""
    declared = declared_name(statement)
    if not declared or "«" in declared:
        return name
    declared = declared.removeprefix("_root_.").rstrip(".")  # `foo.{u}`: universe parameters
    if name == declared or name.endswith("." + declared):
        return name
    return declared


def _bank_name(d: dict, path: Path, line: int, report: list) -> str:
    """A bank record's real name (see `corrected_name`): the declared name wins."""
    name = corrected_name(d["Name"], d.get("Statement") or "")
    if name != d["Name"]:
        report.append(f"{path.name}:{line}: Name {d['Name']!r} does not match the statement's "
                      f"theorem {name!r}: using {name!r}")
    return name


def _read_minif2f(root: Path, split: str) -> list[tuple[dict, int]]:
    path = root / MINIF2F_FILE
    if not path.exists():
        raise UserError(f"{path}: MiniF2F file not found (is THEOREMLLAMA_DATA right?)")
    rows = []
    for d, lineno in iter_jsonl_lines(path):
        if not isinstance(d, dict):
            raise InputError("expected a JSON object", path=str(path), line=lineno)
        for key in ("name", "split", "formal_statement", "header"):
            if not isinstance(d.get(key), str):
                raise InputError("missing or not a string", path=str(path), line=lineno, field=key)
        if d["split"] == split:
            rows.append((d, lineno))
    return rows


def _match(names: list[str], others: dict[str, dict], statement_of: dict[str, str],
           other_statement_of: dict[str, str]) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Map each name to a key of `others`: exactly, case-insensitively, then by statement.

    Returns (name -> other name, [(name, other name, how)] for the fallback matches)."""
    matched: dict[str, str] = {}
    fallbacks = []
    free = set(others)
    for name in names:
        if name in others:
            matched[name] = name
            free.discard(name)
    lower = {}
    for o in free:
        lower.setdefault(o.lower(), []).append(o)
    for name in names:
        if name in matched:
            continue
        cands = [o for o in lower.get(name.lower(), []) if o in free]
        if len(cands) == 1:
            matched[name] = cands[0]
            free.discard(cands[0])
            fallbacks.append((name, cands[0], "case-insensitive name"))
    # Statements compared as written, then up to parentheses and spacing (`((a x)^2)` is
    # `a x ^ 2`): a match needs exactly one free candidate, so nothing is guessed.
    for how, key in (("identical statement", lambda s: s),
                     ("statement equal up to parentheses and spacing", lambda s: _LOOSE.sub("", s))):
        by_statement: dict[str, list[str]] = {}
        for o in free:
            by_statement.setdefault(key(other_statement_of[o]), []).append(o)
        for name in names:
            if name in matched:
                continue
            cands = [o for o in by_statement.get(key(statement_of[name]), []) if o in free]
            if len(cands) == 1:
                matched[name] = cands[0]
                free.discard(cands[0])
                fallbacks.append((name, cands[0], how))
    return matched, fallbacks


def load_minif2f(split: str, *, root: str | Path | None = None, report: list | None = None) -> list[Problem]:
    """The MiniF2F problems of `split` (`valid` or `test`), in the order of `minif2f.jsonl`.

    Names that could not be joined exactly with the TheoremLlama files are appended to `report`
    (one line each) and logged (`log_notes`: each at INFO, and one warning that counts them unless
    the caller passed `report`); such problems are still returned, with the
    informal statement taken from MiniF2F's docstring."""
    if split not in SPLITS:
        raise UserError(f"unknown MiniF2F split {split!r}: expected 'valid' or 'test'")
    root = Path(root) if root is not None else data_root()
    summarize = report is None  # a caller that asks for the notes reports them itself
    report = report if report is not None else []
    first_note = len(report)
    rows = _read_minif2f(root, split)

    tl_path = root / THEOREMLLAMA_FILE.format(split=split)
    tl = {}
    if tl_path.exists():
        for d, line in _iter_named(tl_path):
            tl[d["Name"]] = d
    else:
        report.append(f"{tl_path}: not found; informal statements come from MiniF2F docstrings, no informal proofs")
    bank: dict[str, dict] = {}
    bank_path = root / EXAMPLE_BANK_FILE
    if split == "valid" and bank_path.exists():
        for d, line in _iter_named(bank_path):
            name = _bank_name(d, bank_path, line, report)
            if has_sorry(d.get("Proof") or ""):
                continue  # 13 published "proofs" are `sorry` placeholders
            # Several proofs of one problem: the first one with comments is the reference.
            if name not in bank or (d.get("Commented_proof") and not bank[name].get("Commented_proof")):
                bank[name] = d

    names = [d["name"] for d, _ in rows]
    ours = {d["name"]: _statement_key(d["formal_statement"]) for d, _ in rows}
    theirs = {n: _statement_key(d.get("Statement", "")) for n, d in tl.items()}
    matched, fallbacks = _match(names, tl, ours, theirs)
    for name, other, how in fallbacks:
        report.append(f"{split}: {name} (minif2f.jsonl) matched {other} ({tl_path.name}) by {how}")
    for name in names:
        if name not in matched and tl:
            report.append(f"{split}: {name} (minif2f.jsonl) has no record in {tl_path.name}: informal "
                          "statement from the MiniF2F docstring, no informal proof")
    used = set(matched.values())
    for other in tl:
        if other not in used:
            report.append(f"{split}: {other} ({tl_path.name}) is not in minif2f.jsonl: not loaded "
                          "(minif2f.jsonl defines the problems)")

    problems = []
    for d, line in rows:
        name = d["name"]
        statement = statement_without_by(d["formal_statement"])
        if not statement.endswith(":="):
            raise InputError("a formal statement must end with ':=' (optionally followed by 'by')",
                             path=str(root / MINIF2F_FILE), line=line, field="formal_statement")
        t = tl.get(matched.get(name, ""), {})
        informal = (t.get("Informal_statement") or "").strip() or docstring_text(d.get("informal_prefix") or "")
        b = bank.get(matched.get(name, ""), {})
        reference = b.get("Proof") or ""
        if not reference and t.get("Proof") and not has_sorry(t["Proof"]):
            reference = t["Proof"]
        problems.append(Problem(
            name=name, split=split, header=d["header"], formal_statement=statement,
            informal_statement=informal, informal_proof=(t.get("Informal_proof") or "").strip(),
            reference_proof=reference, commented_proof=b.get("Commented_proof") or "",
        ))
    log_notes(f"MiniF2F-{split}", report[first_note:], summary=summarize)
    return problems


def log_notes(what: str, notes: list[str], *, summary: bool = True, details: bool = True,
              log_file: str = "the run's log") -> None:
    """Each note as an INFO record (the run's log file; the console with --verbose), and one
    warning line that counts them."""
    for note in notes if details else ():
        log.info("%s: %s", what, note)
    if summary and notes:
        log.warning("%s: %d notes on the published files (names corrected or unmatched, `sorry` "
                    "placeholders left out); each one with --verbose or in %s", what, len(notes), log_file)


def _iter_named(path: Path):
    for d, line in iter_json_array(str(path)):
        if not isinstance(d, dict) or not isinstance(d.get("Name"), str):
            raise InputError("expected a record with a string 'Name'", path=str(path), line=line, field="Name")
        yield d, line


def load_example_bank(*, root: str | Path | None = None, report: list | None = None,
                      proved_only: bool = False) -> list[OBTRecord]:
    """The 106 published commented MiniF2F-valid proofs as OBT records (the seed bank; 93 with proved_only).

    `Generated_informal_statement_and_proof` is `format_informal(Informal_statement,
    Informal_proof)`; `File_path`/`Commit` come from the matching `MiniF2F_valid_Lean4.json`
    record. 13 published records have no `Commented_proof` (null): theirs is ''. Several
    records may share a name (different proofs of one problem): callers must
    exclude by name, not by index, when the problem being solved is in the bank. `Name` is the
    theorem the statement declares: where the published `Name` differs (14 cut-off names), the
    correction is appended to `report` and logged. 13 published records are not proofs: their
    `Proof` contains `sorry` (and they have no `Commented_proof`); they are reported, and left
    out with `proved_only=True` (what an in-context example bank wants)."""
    root = Path(root) if root is not None else data_root()
    summarize = report is None  # a caller that asks for the notes reports them itself
    report = report if report is not None else []
    first_note = len(report)
    path = root / EXAMPLE_BANK_FILE
    if not path.exists():
        raise UserError(f"{path}: example bank not found (is THEOREMLLAMA_DATA right?)")
    valid_path = root / THEOREMLLAMA_FILE.format(split="valid")
    source = {d["Name"]: d for d, _ in _iter_named(valid_path)} if valid_path.exists() else {}
    out = []
    for row, (d, line) in enumerate(_iter_named(path)):
        for key in ("Statement", "Proof"):
            if not isinstance(d.get(key), str) or not d[key].strip():
                raise InputError("missing or empty", path=str(path), line=line, field=key)
        if d.get("Commented_proof") is not None and not isinstance(d["Commented_proof"], str):
            raise InputError("expected a string or null", path=str(path), line=line, field="Commented_proof")
        name = _bank_name(d, path, line, report)
        if has_sorry(d["Proof"]):
            report.append(f"{path.name}:{line}: {name}: the published proof is a `sorry` placeholder"
                          + (": left out" if proved_only else ""))
            if proved_only:
                continue
        src = source.get(name, {})
        out.append(OBTRecord(
            idx=row, Name=name, Statement=d["Statement"], Proof=d["Proof"],
            Generated_informal_statement_and_proof=format_informal(
                d.get("Informal_statement") or "", d.get("Informal_proof") or ""),
            Commented_proof=d.get("Commented_proof") or "",
            File_path=d.get("File_path") or src.get("File_path") or "",
            Commit=d.get("Commit") or src.get("Commit") or "",
        ))
    log_notes("MiniF2F example bank", report[first_note:], summary=summarize)
    return out
