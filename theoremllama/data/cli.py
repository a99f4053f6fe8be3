"""`theoremllama data ...`: extract, minif2f, stats, convert, dedup, split.

    theoremllama data extract --repo mathlib4 -o theorems.jsonl      # lexical, seconds
    theoremllama data extract --dojo --repo mathlib4 --commit SHA -o theorems.jsonl   # LeanDojo
    theoremllama data minif2f --split valid -o problems.jsonl
    theoremllama data problems putnambench/lean4/src -o putnam.jsonl     # any benchmark -> problem file
    theoremllama data stats obt.jsonl
    theoremllama data convert obt.json -o obt_hf/                   # .jsonl/.json/HF dir/.parquet
    theoremllama data dedup theorems.jsonl -o clean.jsonl --max-proof-chars 4000 --sorry drop
    theoremllama data split clean.jsonl -o splits/ --valid-fraction 0.05 --seed 0

`--sorry keep|drop|only` (extract, convert, dedup, split) keeps every record, drops those whose
Lean code leaves a gap (`sorry`, `admit`, `sorryAx`, `stop`; comments and strings ignored), or
keeps only those; every command prints how many it saw either way.

Outputs are written atomically (a temporary file renamed at the end): extraction is fast enough
to redo whole, so a killed run leaves the previous output, never half of a new one.
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter
from pathlib import Path

from theoremllama.data.dojo import extract_with_dojo
from theoremllama.data.extract import extract_repo
from theoremllama.data.filters import SORRY_MODES, deduplicate, filter_length, filter_sorry, get_field, record_has_sorry, record_name, train_valid_split
from theoremllama.data.formats import read_records
from theoremllama.data.hf import save_dataset, to_hf_dataset
from theoremllama.data.jsonl import atomic_open, atomic_write_jsonl, atomic_write_text
from theoremllama.data.minif2f import load_minif2f
from theoremllama.data.problems import convert, write_problems
from theoremllama.data.records import OBTRecord
from theoremllama.errors import UserError
from theoremllama.lean.syntax import has_sorry


def _add_sorry(p: argparse.ArgumentParser, default: str = "keep") -> None:
    p.add_argument("--sorry", choices=SORRY_MODES, default=default,
                   help="records whose statement or proof holds sorry/admit/sorryAx/stop: keep them, "
                        f"drop them, or keep only them (default: {default})")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    p = sub.add_parser("extract", help="theorems of a Lean repository -> TheoremRecord JSONL")
    p.add_argument("--repo", required=True, help="checkout of a Lean project (or one .lean file)")
    p.add_argument("--commit", default=None, help="commit to record (default: git HEAD of --repo, else '')")
    p.add_argument("-o", "--output", required=True, help=".jsonl file, or a directory for an HF dataset")
    p.add_argument("--dojo", action="store_true", help="trace with LeanDojo (needs lean-dojo and Lean)")
    _add_sorry(p)

    p = sub.add_parser("minif2f", help="MiniF2F problems of a split -> Problem JSONL")
    p.add_argument("--split", required=True, choices=["valid", "test"])
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--data-root", default=None, help="the data/ directory (default: the project's, or $THEOREMLLAMA_DATA)")

    p = sub.add_parser("problems", help="a benchmark (folder of .lean files, MiniF2F-style .jsonl, "
                                        "TheoremLlama .json) -> problem file (Problem JSONL)")
    p.add_argument("source", help="folder of .lean files (one theorem each), .jsonl or .json")
    p.add_argument("-o", "--output", required=True, help="problem file to write (.jsonl)")
    p.add_argument("--split", default=None,
                   help="keep only this split (sources with splits) or label the problems with it (default: test)")

    p = sub.add_parser("stats", help="counts and lengths of a records file")
    p.add_argument("file", help=".jsonl, .json, .parquet or HF dataset directory")

    p = sub.add_parser("convert", help="convert between .jsonl, .json, .parquet and HF dataset directories")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True, help=".jsonl, .json, .parquet, or a directory (HF dataset)")
    p.add_argument("--obt", action="store_true", help="validate as OBT records (fills a missing idx)")
    _add_sorry(p)

    p = sub.add_parser("dedup", help="drop duplicate names/statements and over-long records")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--keep-duplicate-names", action="store_true")
    p.add_argument("--keep-duplicate-statements", action="store_true")
    for what in ("statement", "proof"):
        for unit in ("chars", "lines"):
            p.add_argument(f"--max-{what}-{unit}", type=int, default=None)
    _add_sorry(p)

    p = sub.add_parser("split", help="deterministic train/valid split by a hash of the name")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True, help="directory: train.jsonl and valid.jsonl are written there")
    p.add_argument("--valid-fraction", type=float, default=0.05)
    p.add_argument("--seed", default="theoremllama", help="salt of the hash (same seed, same split)")
    _add_sorry(p)


def write_records(records: list, output: str | Path) -> None:
    """Write records atomically in the format the output's name asks for."""
    out = Path(output)
    if out.suffix in (".jsonl", ".ndjson"):
        atomic_write_jsonl(out, records)
    elif out.suffix == ".json":
        import json

        rows = [r if isinstance(r, dict) else r.to_dict() for r in records]
        atomic_write_text(out, json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
    elif out.suffix == ".parquet":
        with atomic_open(out, "wb") as f:
            to_hf_dataset(records).to_parquet(f)
    elif out.suffix == "":
        save_dataset(records, out)
    else:
        raise UserError(f"{out}: unknown output format (use .jsonl, .json, .parquet or a directory name)")


def read_checked(path: str, record_type: type | None = None, *, need_name: bool = True) -> list:
    """`read_records`, then every record's name, statement and proof checked (present where
    needed, strings): a bad record is one line naming the file and the record's 1-based number."""
    records = read_records(path, record_type)
    for i, r in enumerate(records):
        try:
            for what in ("name", "statement", "proof") if need_name else ("statement", "proof"):
                get_field(r, what)
        except UserError as e:
            raise UserError(f"{path}: record {i + 1}: {e}") from None
    return records


def apply_sorry(records: list, mode: str) -> list:
    """`filter_sorry` with one line on stdout: how many records hold a gap, what became of them."""
    if mode == "keep":
        gaps = sum(1 for r in records if record_has_sorry(r))
        print(f"sorry: {gaps} of {len(records)} records hold sorry/admit/sorryAx/stop: kept "
              "(--sorry drop leaves them out)" if gaps else f"sorry: none of {len(records)} records holds one")
        return list(records)
    result = filter_sorry(records, mode)
    print(f"sorry ({mode}): {result.summary()}")
    return result.kept


def _extract(args) -> int:
    if args.dojo:
        result = extract_with_dojo(args.repo, args.commit)
    else:
        result = extract_repo(args.repo, args.commit, progress=True)
    print(result.summary())
    records = apply_sorry(result.records, args.sorry)
    write_records(records, args.output)
    print(f"wrote {len(records)} theorem records to {args.output}")
    return 0


def _minif2f(args) -> int:
    report: list[str] = []
    problems = load_minif2f(args.split, root=args.data_root, report=report)
    write_records(problems, args.output)  # the name notes were logged (stderr) by load_minif2f
    with_proof = sum(1 for p in problems if p.reference_proof)
    print(f"wrote {len(problems)} {args.split} problems to {args.output} "
          f"({with_proof} with a reference proof, {len(report)} name notes)")
    return 0


def _problems(args) -> int:
    import sys

    result = convert(args.source, split=args.split)
    for line in result.notes:
        print(f"note: {line}", file=sys.stderr)
    for line in result.skipped:
        print(f"skipped: {line}", file=sys.stderr)
    if not result.problems:
        raise UserError(f"{args.source}: no problem could be converted ({len(result.skipped)} skipped)")
    write_problems(result.problems, args.output)
    print(f"wrote {len(result.problems)} problems to {args.output}; {len(result.skipped)} skipped, "
          f"{len(result.notes)} notes (listed above)")
    return 0


def _lengths(values: list[int]) -> str:
    if not values:
        return "-"
    return (f"mean {statistics.fmean(values):.0f}, median {statistics.median(values):.0f}, "
            f"max {max(values)}")


def stats_lines(records: list[dict]) -> list[str]:
    """Human-readable statistics of a list of record dicts (any of the project's record types)."""
    lines = [f"records: {len(records)}"]
    if not records:
        return lines
    columns = Counter(k for r in records for k in r)
    lines.append("columns: " + ", ".join(f"{k}" + ("" if c == len(records) else f" ({c})") for k, c in columns.items()))
    try:
        names = [record_name(r) for r in records]
        corrected = sum(1 for r, n in zip(records, names) if n != get_field(r, "name"))
    except UserError:
        names, corrected = [], 0
    if names:
        lines.append(f"distinct names: {len(set(names))}" + (
            f" ({corrected} records carry a name other than the theorem their statement "
            "declares: counted by the declared name)" if corrected else ""))
    for what in ("statement", "proof"):
        texts = [get_field(r, what) for r in records]
        if any(texts):
            lines.append(f"{what} chars: {_lengths([len(t) for t in texts])}; "
                         f"lines: {_lengths([t.count(chr(10)) + 1 for t in texts if t])}")
    for col in ("Commented_proof", "Generated_informal_statement_and_proof", "informal_statement", "informal_proof"):
        if col in columns:
            lines.append(f"non-empty {col}: {sum(1 for r in records if r.get(col))}")
    for col in ("split", "kind", "reason"):
        if col in columns:
            lines.append(f"{col}: " + ", ".join(f"{k}: {v}" for k, v in Counter(r.get(col) for r in records).most_common()))
    gaps = [r for r in records if record_has_sorry(r)]
    in_statement = sum(1 for r in gaps if has_sorry(get_field(r, "statement")))
    lines.append(f"with sorry: {len(gaps)}" + (f" ({in_statement} in the statement)" if gaps else ""))
    if "passed" in columns:
        lines.append(f"passed: {sum(1 for r in records if r.get('passed'))}")
    if "file_path" in columns or "File_path" in columns:
        lines.append(f"source files: {len({r.get('file_path', r.get('File_path')) for r in records})}")
    return lines


def _stats(args) -> int:
    print("\n".join(stats_lines(read_checked(args.file, need_name=False))))
    return 0


def _convert(args) -> int:
    records = apply_sorry(read_checked(args.input, OBTRecord if args.obt else None, need_name=False), args.sorry)
    write_records(records, args.output)
    print(f"wrote {len(records)} records to {args.output}")
    return 0


def _dedup(args) -> int:
    records = read_checked(args.input)
    dedup = deduplicate(apply_sorry(records, args.sorry), by_name=not args.keep_duplicate_names,
                        by_statement=not args.keep_duplicate_statements)
    lengths = filter_length(dedup.kept, max_statement_chars=args.max_statement_chars,
                            max_statement_lines=args.max_statement_lines,
                            max_proof_chars=args.max_proof_chars, max_proof_lines=args.max_proof_lines)
    write_records(lengths.kept, args.output)
    print(f"dedup: {dedup.summary()}")
    if dedup.renamed_summary():
        print(f"names: {dedup.renamed_summary()}")
    print(f"length: {lengths.summary()}")
    print(f"wrote {len(lengths.kept)} of {len(records)} records to {args.output}")
    return 0


def _split(args) -> int:
    records = apply_sorry(read_checked(args.input), args.sorry)
    split = train_valid_split(records, valid_fraction=args.valid_fraction, seed=args.seed)
    out = Path(args.output)
    write_records(split.train, out / "train.jsonl")
    write_records(split.valid, out / "valid.jsonl")
    print(f"{split.summary()} -> {out}/train.jsonl, {out}/valid.jsonl")
    return 0


def run(args) -> int:
    return {"extract": _extract, "minif2f": _minif2f, "problems": _problems, "stats": _stats, "convert": _convert,
            "dedup": _dedup, "split": _split}[args.data_command](args)
