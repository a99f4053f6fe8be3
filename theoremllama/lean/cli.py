"""`theoremllama verify INPUT.jsonl -o VERDICTS.jsonl`: check proofs with Lean, one verdict each.

Input: JSON Lines, one proof per line, with
    id                 (or `name`) unique within the file
    formal_statement   (or `statement`) `theorem NAME ... :=` or `... := by` (MiniF2F style); may
                       start with import / set_option / open lines
    proof              what follows `:=` (a copy of the statement at its start is cut off)
    header             optional: import / set_option / open lines
Output: JSON Lines of `Verdict`s (id, passed, reason, messages, axioms, seconds, detail), appended
as each proof finishes. Rerunning with the same output skips the ids already there, so a killed
run resumes where it stopped. A summary (counts by reason) ends the run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from theoremllama.errors import InputError, UserError
from theoremllama.lean.verdict import REASONS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="JSONL of proofs: id, formal_statement (or statement), proof, [header]")
    parser.add_argument("-o", "--output", required=True,
                        help="JSONL of verdicts (appended to; ids already there are skipped)")
    parser.add_argument("--workers", type=int, default=None, help="REPL processes (default: CPU count - 1)")
    parser.add_argument("--timeout", type=float, default=60.0, help="wall-clock seconds per proof (default 60)")
    parser.add_argument("--mem-gb", type=float, default=None, help="address-space cap per REPL process, GiB (RLIMIT_AS; Mathlib's memory-mapped "
                             ".olean files count towards it, so leave several GiB above what a proof needs, "
                             "e.g. 16); a proof that hits it gets the verdict `memory`")
    parser.add_argument("--max-uses", type=int, default=200,
                        help="proofs per REPL process before it is restarted (default 200)")
    parser.add_argument("--max-rss-gb", type=float, default=None,
                        help="restart a REPL whose resident memory exceeds this, GiB")
    parser.add_argument("--repl-cmd", default=None,
                        help="the Lean REPL command (default: $THEOREMLLAMA_REPL_CMD, else the REPL built by "
                             "`theoremllama setup-lean`)")
    parser.add_argument("--lean-project", default=None,
                        help="the Lake project the REPL runs in (default: $THEOREMLLAMA_LEAN_PROJECT or the repo root)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def read_jobs(path: str) -> list:
    """The input file as VerifyJobs, each checked (InputError naming file, line and field)."""
    from theoremllama.data.jsonl import iter_jsonl_lines
    from theoremllama.lean.job import VerifyJob, prepare_job

    jobs, first_line = [], {}
    for record, line_no in iter_jsonl_lines(path):
        if not isinstance(record, dict):
            raise InputError(f"expected a JSON object, got {type(record).__name__}", path=path, line=line_no)

        def field(*names: str, required: bool = True, kinds: tuple = (str,)):
            for name in names:
                if name in record and record[name] is not None:
                    value = record[name]
                    if not isinstance(value, kinds) or isinstance(value, bool):
                        raise InputError(f"expected a {' or '.join(k.__name__ for k in kinds)}, "
                                         f"got {type(value).__name__}", path=path, line=line_no, field=name)
                    return name, value
            if required:
                also = f" (or '{names[1]}')" if len(names) > 1 else ""
                raise InputError(f"missing{also}", path=path, line=line_no, field=names[0])
            return names[0], ""

        id_field, job_id = field("id", "name", kinds=(str, int))
        job_id = str(job_id)
        if job_id in first_line:
            raise InputError(f"duplicate id {job_id!r} (first on line {first_line[job_id]})",
                             path=path, line=line_no, field=id_field)
        first_line[job_id] = line_no
        statement_field, statement = field("formal_statement", "statement")
        _, proof = field("proof")
        _, header = field("header", required=False)
        job = VerifyJob(id=job_id, statement=statement, proof=proof, header=header)
        try:
            prepare_job(job)
        except UserError as e:
            raise InputError(str(e), path=path, line=line_no, field=statement_field) from None
        jobs.append(job)
    return jobs


def done_ids(path: str) -> set[str]:
    """Ids already in an output file (a truncated last line, from a killed run, does not count)."""
    out: set[str] = set()
    p = Path(path)
    if not p.exists():
        return out
    with open(p, "rb") as f:
        for line_no, raw_bytes in enumerate(f, start=1):
            try:
                raw = raw_bytes.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError("not UTF-8 text in an existing verdicts file; is this the right -o?",
                                 path=path, line=line_no) from None
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError:
                if not raw.endswith("\n"):
                    break  # the last line of a killed run: that proof is checked again
                raise InputError("invalid JSON in an existing verdicts file; is this the right -o?",
                                 path=path, line=line_no) from None
            if not isinstance(record, dict) or "id" not in record or "reason" not in record:
                raise InputError("not a verdict (no id/reason); is this the right -o?", path=path,
                                 line=line_no)
            out.add(str(record["id"]))
    return out


def summarize(path: str, ids: set[str]) -> dict[str, int]:
    """Counts by reason of the verdicts in `path` for `ids` (the last verdict of an id wins)."""
    reason_of: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for raw in f:
            try:
                record = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if str(record.get("id")) in ids:
                reason_of[str(record["id"])] = record.get("reason", "?")
    counts: dict[str, int] = {}
    for reason in reason_of.values():
        counts[reason] = counts.get(reason, 0) + 1
    return counts


def run(args: argparse.Namespace) -> int:
    from theoremllama.lean.pool import Verifier

    if Path(args.input).resolve() == Path(args.output).resolve():
        raise UserError("the output file must not be the input file")
    if Path(args.output).is_dir():
        raise UserError(f"-o {args.output}: is a directory; -o names the verdicts file "
                        f"(e.g. -o {Path(args.output) / 'verdicts.jsonl'})")
    jobs = read_jobs(args.input)
    done = done_ids(args.output)
    todo = [j for j in jobs if j.id not in done]
    print(f"verify: {len(jobs)} proofs in {args.input}; {len(jobs) - len(todo)} already in {args.output}; "
          f"{len(todo)} to check", file=sys.stderr)
    stats = None
    if todo:
        with Verifier(args.repl_cmd, workers=args.workers, timeout=args.timeout, mem_gb=args.mem_gb,
                      max_uses=args.max_uses, max_rss_gb=args.max_rss_gb, lean_project=args.lean_project,
                      progress=not args.no_progress) as verifier:
            verifier.verify_many(todo, out_path=args.output)
            stats = verifier.stats()
    counts = summarize(args.output, {j.id for j in jobs}) if Path(args.output).exists() else {}
    total = sum(counts.values())
    print(f"verdicts in {args.output}: {total} of {len(jobs)}")
    for reason in sorted(counts, key=lambda r: (REASONS.index(r) if r in REASONS else len(REASONS), r)):
        print(f"  {reason:<10} {counts[reason]:>7}  {100 * counts[reason] / max(1, total):5.1f}%")
    if stats is not None:
        print(f"  ({stats['workers']} workers, {stats['header_imports']} header imports, {stats['restarts']} "
              f"restarts, {stats['wall_seconds']:.1f}s wall, {stats['busy_seconds']:.1f}s busy)")
    return 0
