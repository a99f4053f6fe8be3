"""`theoremllama verify INPUT.jsonl -o VERDICTS.jsonl`: check proofs with Lean, one verdict each.

Input: JSON Lines, one proof per line, with
    id                 (or `name`) unique within the file
    formal_statement   (or `statement`) `theorem NAME ... :=` or `... := by` (MiniF2F style); may
                       start with import / set_option / open lines
    proof              what follows `:=` (a copy of the statement at its start is cut off)
    header             optional: import / set_option / open lines
    context            optional: given code the statement needs (definitions), checked before it
Output: JSON Lines of `Verdict`s (id, passed, reason, messages, axioms, seconds, detail,
header_failed), appended as each proof finishes. Rerunning with the same output skips the ids
already there, so a killed run resumes where it stopped; a verdict with `header_failed` (its
header did not import, so its proof was never checked) does not count as done and is redone.
Identical jobs (same header, statement and proof) are checked once: within a run by the pool,
across runs by copying the verdict already in the output. A summary (counts by reason) ends the run.
If no header can be imported at all (a setup problem), the run stops with one line and exit
status 2 before writing anything.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from theoremllama.data.jsonl import JsonlWriter, iter_jsonl_lines
from theoremllama.errors import InputError, UserError
from theoremllama.lean.job import VerifyJob, prepare_job
from theoremllama.lean.open import open_verifier, verifier_options
from theoremllama.lean.pool import DEFAULT_MAX_RSS_GIB, REPL_MEMORY_GIB, check_key
from theoremllama.lean.verdict import REASONS
from theoremllama.lean.worker import HEADER_TIMEOUT_S


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="JSONL of proofs: id, formal_statement (or statement), proof, [header]")
    parser.add_argument("-o", "--output", required=True,
                        help="JSONL of verdicts (appended to; ids already there are skipped)")
    parser.add_argument("--workers", type=int, default=None,
                        help=f"REPL processes (default: CPU count - 1, and no more than free memory holds at "
                             f"--repl-memory-gb each)")
    parser.add_argument("--repl-memory-gb", type=float, default=REPL_MEMORY_GIB,
                        help=f"memory budgeted per Mathlib REPL when choosing the default --workers "
                             f"(default {REPL_MEMORY_GIB:g})")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="wall-clock seconds per proof, from the end of the header import (default 60)")
    parser.add_argument("--header-timeout", type=float, default=HEADER_TIMEOUT_S,
                        help=f"wall-clock seconds for importing a header in a fresh REPL (default {HEADER_TIMEOUT_S:g})")
    parser.add_argument("--mem-gb", type=float, default=None, help="address-space cap per REPL process, GiB (RLIMIT_AS; Mathlib's memory-mapped "
                             ".olean files count towards it, so leave several GiB above what a proof needs, "
                             "e.g. 16); a proof that hits it gets the verdict `memory`")
    parser.add_argument("--max-uses", type=int, default=200,
                        help="proofs per REPL process before it is restarted (default 200)")
    parser.add_argument("--max-rss-gb", type=float, default=DEFAULT_MAX_RSS_GIB,
                        help=f"restart a REPL whose resident memory exceeds this after a proof, GiB "
                             f"(default {DEFAULT_MAX_RSS_GIB:g}; 0: never)")
    parser.add_argument("--repl-cmd", default=None,
                        help="the Lean REPL command (default: $THEOREMLLAMA_REPL_CMD, else the REPL built by "
                             "`theoremllama setup-lean`)")
    parser.add_argument("--lean-project", default=None,
                        help="the Lake project the REPL runs in (default: $THEOREMLLAMA_LEAN_PROJECT or the repo root)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--verifier-url", default=None,
                        help="check on a `theoremllama serve` at this URL instead of here (key: $THEOREMLLAMA_API_KEY)")
    parser.add_argument("--ray", nargs="?", const="auto", default=None, metavar="ADDRESS",
                        help="check on a Ray cluster: ADDRESS, `auto` (the running one, the default) or `local` (start one "
                             "here); one pool per node")


def read_jobs(path: str) -> list:
    """The input file as VerifyJobs, each checked (InputError naming file, line and field)."""
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
        _, context = field("context", required=False)
        job = VerifyJob(id=job_id, statement=statement, proof=proof, header=header, context=context)
        try:
            prepare_job(job)
        except UserError as e:
            raise InputError(str(e), path=path, line=line_no, field=statement_field) from None
        jobs.append(job)
    return jobs


def done_verdicts(path: str) -> dict[str, dict]:
    """The verdicts already in an output file, by id (the last one of an id wins). A truncated
    last line (from a killed run) and a verdict whose header failed (`header_failed`: its proof
    was never checked) do not count: those proofs are checked again."""
    out: dict[str, dict] = {}
    if not Path(path).exists():
        return out
    with warnings.catch_warnings():  # the writer reopening the file reports the cut line itself
        warnings.simplefilter("ignore")
        try:
            lines = list(iter_jsonl_lines(path, tolerate_truncated_tail=True))
        except InputError as e:
            raise InputError(f"{e.reason} in an existing verdicts file; is this the right -o?",
                             path=path, line=e.line) from None
    for record, line_no in lines:
        if not isinstance(record, dict) or "id" not in record or "reason" not in record:
            raise InputError("not a verdict (no id/reason); is this the right -o?", path=path,
                             line=line_no)
        if record.get("header_failed"):
            out.pop(str(record["id"]), None)
        else:
            out[str(record["id"])] = record
    return out


def done_ids(path: str) -> set[str]:
    """Ids already in an output file with a verdict that counts (see `done_verdicts`)."""
    return set(done_verdicts(path))


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
    if Path(args.input).resolve() == Path(args.output).resolve():
        raise UserError("the output file must not be the input file")
    if Path(args.output).is_dir():
        raise UserError(f"-o {args.output}: is a directory; -o names the verdicts file "
                        f"(e.g. -o {Path(args.output) / 'verdicts.jsonl'})")
    jobs = read_jobs(args.input)
    done = done_verdicts(args.output)
    todo = [j for j in jobs if j.id not in done]
    copied = copy_identical_verdicts(jobs, done, todo, args.output)
    todo = [j for j in todo if j.id not in copied]
    print(f"verify: {len(jobs)} proofs in {args.input}; {len(jobs) - len(todo) - len(copied)} already in "
          f"{args.output}; {len(copied)} identical to one there (verdict copied); {len(todo)} to check",
          file=sys.stderr)
    stats = None
    if todo:
        with open_verifier(url=args.verifier_url, ray=args.ray, **verifier_options(args)) as verifier:
            verifier.verify_many(todo, out_path=args.output)
            stats = verifier.stats()
    counts = summarize(args.output, {j.id for j in jobs}) if Path(args.output).exists() else {}
    total = sum(counts.values())
    print(f"verdicts in {args.output}: {total} of {len(jobs)}")
    for reason in sorted(counts, key=lambda r: (REASONS.index(r) if r in REASONS else len(REASONS), r)):
        print(f"  {reason:<10} {counts[reason]:>7}  {100 * counts[reason] / max(1, total):5.1f}%")
    if stats is not None:
        print(f"  ({stats['workers']} workers, {stats['header_imports']} header imports, {stats['restarts']} "
              f"restarts, {stats.get('shared', 0)} verdicts copied from identical proofs, {stats['wall_seconds']:.1f}s wall, "
              f"{stats['busy_seconds']:.1f}s busy)")
    return 0


def copy_identical_verdicts(jobs: list, done: dict[str, dict], todo: list, output: str) -> set[str]:
    """Give each job of `todo` identical to a job already verified in `output` (same header,
    statement and proof once prepared) a copy of that verdict, appended to `output`; their ids."""
    if not done or not todo:
        return set()
    known = {}
    for job in jobs:
        if job.id in done:
            known.setdefault(check_key(prepare_job(job)), done[job.id])
    copies = []
    for job in todo:
        verdict = known.get(check_key(prepare_job(job)))
        if verdict is not None:
            copies.append({**verdict, "id": job.id})
    if copies:
        with JsonlWriter(output) as writer:
            for record in copies:
                writer.write(record)
    return {record["id"] for record in copies}
