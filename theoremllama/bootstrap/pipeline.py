"""The bootstrap job: theorem records in, an OBT dataset out, resumable at any point.

For each theorem (many at once, as asyncio tasks over the async generator):
  0. a theorem whose statement or proof holds `sorry`/`admit`/`sorryAx`/`stop` is rejected
     (`input/sorry`) before any request;
  1. informalize: k retrieved examples -> NL statement + NL proof (filtered, retried);
  2. weave: NL proof + Lean proof -> Lean proof with the NL reasoning as comments, accepted only
     if stripping the comments gives back the original code (retried);
  3. verify (optional): the commented proof must still pass Lean;
  4. iterate (optional): the accepted record joins the example bank for later theorems.

Outputs under `output/`, each written as it happens:
  obt.jsonl          accepted OBT records, appended and flushed one per line (the resume key is Name)
  rejections.jsonl   rejected theorems with the stage and reason (a rerun skips them unless
                     `retry_rejected`)
  dataset/           the HF dataset of obt.jsonl sorted by idx (rewritten atomically at the end)
  summary.json       counts: accepted, rejected by reason, every failed attempt by reason, tokens

Killing the job loses at most the theorems in flight; a rerun skips every theorem already in
obt.jsonl or rejections.jsonl and never writes one twice.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from theoremllama.bootstrap.config import BootstrapConfig
from theoremllama.bootstrap.examples import CommentedExample, CommentedExampleBank, load_examples
from theoremllama.bootstrap.informal_text import parse_informal
from theoremllama.bootstrap.informalize import InformalFilter, informalize_prompt
from theoremllama.bootstrap.weave import accept_commented, proof_after_statement, weave_prompt
from theoremllama.config import hint_with_config_key
from theoremllama.data.formats import read_records
from theoremllama.data.hf import save_dataset
from theoremllama.data.jsonl import JsonlWriter, atomic_write_jsonl, atomic_write_text, read_jsonl
from theoremllama.data.minif2f import format_informal
from theoremllama.data.records import OBTRecord, TheoremRecord
from theoremllama.errors import InputError, UserError
from theoremllama.identity import check_same_run
from theoremllama.lean.job import VerifyJob
from theoremllama.lean.open import open_verifier
from theoremllama.lean.syntax import has_sorry
from theoremllama.llm.base import Sampling
from theoremllama.llm.batching import as_async
from theoremllama.llm.options import backend_options
from theoremllama.llm.retriever import Retriever
from theoremllama.runlog import LOG_FILE, run_log

OBT_FILE, REJECTIONS_FILE, DATASET_DIR, SUMMARY_FILE = "obt.jsonl", "rejections.jsonl", "dataset", "summary.json"
RUN_FILE = "run.json"  # the run's identity: a rerun with other settings is refused


@dataclass
class Theorem:
    """One unit of work: the OBT fields known before bootstrapping, and its Lean header."""

    record: OBTRecord
    header: str
    namespace: str = ""
    """The namespace the theorem is declared in (a TheoremRecord's), for the Lean re-check."""


@dataclass
class Outcome:
    """What became of one theorem."""

    name: str
    idx: int
    record: OBTRecord | None
    """The accepted record, or None if rejected."""
    stage: str
    """`done` if accepted, else the stage that rejected it: `input` (reason `sorry`),
    `informalize`, `weave` or `verify`."""
    reason: str
    """`ok`, or the last attempt's rejection reason."""
    attempts: dict = field(default_factory=dict)
    """Attempts used per stage."""
    last_answer: str = ""
    """The last rejected answer (truncated), to see why."""

    def rejection(self) -> dict:
        return {"Name": self.name, "idx": self.idx, "stage": self.stage, "reason": self.reason,
                "attempts": self.attempts, "last_answer": self.last_answer[:2000]}


@dataclass
class BootstrapSummary:
    """The job's final counts (also written to summary.json)."""

    input: int = 0
    """Theorems in the input (distinct names)."""
    already_done: int = 0
    """Theorems skipped because an earlier run accepted or rejected them."""
    processed: int = 0
    accepted: int = 0
    rejected: dict = field(default_factory=dict)
    """Rejected theorems by `stage/reason`."""
    attempt_failures: dict = field(default_factory=dict)
    """Every failed attempt by `stage/reason` (a theorem accepted on its third try counts two)."""
    duplicates: int = 0
    """Input rows whose name was already seen (the first one is kept)."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0
    seconds: float = 0.0
    """Wall-clock time of the whole run (loading, embedding, processing, writing the dataset)."""
    run_seconds: float = 0.0
    """Time spent processing theorems (from the first request to the last record written)."""
    records_per_second: float = 0.0
    """Theorems processed per second of `run_seconds`."""
    total_accepted: int = 0
    """Records in obt.jsonl after this run (all runs together)."""

    def to_dict(self) -> dict:
        return asdict(self)


# -- input -------------------------------------------------------------------------------------

def load_theorems(path: str | Path, default_header: str) -> tuple[list[Theorem], int]:
    """Theorems from TheoremRecord JSONL (the extractor's output) or any OBT-schema file.

    Returns (theorems, duplicates dropped); errors name the file, line and field."""
    rows = read_records(path)
    if not rows:
        return [], 0
    first = rows[0]
    is_theorem_record = "name" in first and "statement" in first and "Name" not in first
    record_type = TheoremRecord if is_theorem_record else OBTRecord
    records = read_records(path, record_type)
    theorems, seen, duplicates = [], set(), 0
    for i, r in enumerate(records):
        namespace = r.namespace if is_theorem_record else ""
        if is_theorem_record:
            obt = OBTRecord(idx=i, Name=r.name, Statement=r.statement, Proof=r.proof,
                            File_path=r.file_path, Commit=r.commit)
            header = r.header() if r.imports else default_header
        else:
            obt = OBTRecord(idx=r.idx, Name=r.Name, Statement=r.Statement, Proof=r.Proof,
                            File_path=r.File_path, Commit=r.Commit)
            header = default_header
        if not obt.Proof.strip():
            raise InputError("empty proof", path=str(path), line=i + 1, field="proof" if is_theorem_record else "Proof")
        if obt.Name in seen:
            duplicates += 1
            continue
        seen.add(obt.Name)
        theorems.append(Theorem(obt, header, namespace))
    return theorems, duplicates


# -- one theorem -------------------------------------------------------------------------------

class Bootstrapper:
    """Runs the stages for one theorem at a time (call `run_one` from many tasks at once)."""

    def __init__(self, generator, bank: CommentedExampleBank, *, k: int, informal_sampling: Sampling,
                 informal_retries: int, informal_filter: InformalFilter, weave_sampling: Sampling,
                 weave_retries: int, verifier=None, iterate: bool = False):
        self.generator = generator
        self.bank = bank
        self.k = k
        self.informal_sampling = informal_sampling
        self.informal_retries = informal_retries
        self.filter = informal_filter
        self.weave_sampling = weave_sampling
        self.weave_retries = weave_retries
        self.verifier = verifier
        """An async `verify(record, header, namespace) -> Verdict`, or None."""
        self.iterate = iterate
        self.attempt_failures: Counter = Counter()

    async def _sample(self, prompt: list[dict], sampling: Sampling, attempt: int) -> str:
        if sampling.seed is not None:  # retries must not redraw the same sample
            sampling = Sampling(**{**asdict(sampling), "seed": sampling.seed + attempt})
        return (await self.generator.agenerate([prompt], sampling))[0][0]

    async def run_one(self, theorem: Theorem) -> Outcome:
        rec = theorem.record
        # 0. a theorem with a gap (`sorry` in its proof, `answer(sorry)` in its statement) is not
        # a proof to learn from, whatever a later stage would say: rejected before any request
        if has_sorry(rec.Statement) or has_sorry(rec.Proof):
            return Outcome(rec.Name, rec.idx, None, "input", "sorry", {})
        examples = self.bank.top_k(rec.Proof, self.k, exclude=rec.Name)
        attempts = {"informalize": 0}

        # 1. NL statement + NL proof
        prompt = informalize_prompt(rec.Proof, examples)
        parsed, answer, reason = None, "", ""
        for attempt in range(self.informal_retries):
            attempts["informalize"] += 1
            answer = await self._sample(prompt, self.informal_sampling, attempt)
            parsed, reason = self.filter.check(answer)
            if parsed:
                break
            self.attempt_failures[f"informalize/{reason}"] += 1
        if not parsed:
            return Outcome(rec.Name, rec.idx, None, "informalize", reason, attempts, answer)
        statement, informal_proof = parsed

        # 2. the NL proof woven into the Lean proof as comments
        attempts["weave"] = 0
        prompt = weave_prompt(rec.Proof, informal_proof, examples)
        commented = None
        for attempt in range(self.weave_retries):
            attempts["weave"] += 1
            answer = await self._sample(prompt, self.weave_sampling, attempt)
            commented, reason = accept_commented(rec.Proof, answer)
            if commented:
                break
            self.attempt_failures[f"weave/{reason}"] += 1
        if not commented:
            return Outcome(rec.Name, rec.idx, None, "weave", reason, attempts, answer)

        record = OBTRecord(idx=rec.idx, Name=rec.Name, Statement=rec.Statement, Proof=rec.Proof,
                           Generated_informal_statement_and_proof=format_informal(statement, informal_proof),
                           Commented_proof=commented, File_path=rec.File_path, Commit=rec.Commit)

        # 3. the commented proof must still check
        if self.verifier is not None:
            attempts["verify"] = 1
            verdict = await self.verifier(record, theorem.header, theorem.namespace)
            if not verdict.passed:
                self.attempt_failures[f"verify/{verdict.reason}"] += 1
                detail = verdict.detail or "; ".join(str(m.get("data", "")) for m in verdict.messages[:3])
                return Outcome(rec.Name, rec.idx, None, "verify", verdict.reason, attempts, detail)

        # 4. later theorems may learn from this one
        if self.iterate:
            self.bank.add([CommentedExample(rec.Name, rec.Proof, statement, informal_proof, commented)])
        return Outcome(rec.Name, rec.idx, record, "done", "ok", attempts)


# -- the job -----------------------------------------------------------------------------------

def make_verifier(config: BootstrapConfig):
    """An async `verify(record, header, namespace) -> Verdict` over the Lean REPL pool: each check is
    submitted to the pool at once, so the REPLs work while other theorems are generating."""
    v = config.verify
    try:
        verifier = open_verifier(repl_cmd=v.repl_cmd, workers=v.workers, timeout=v.timeout,
                                 header_timeout=v.header_timeout, progress=False, url=v.url, ray=v.ray)
    except UserError as e:  # the harness's hints name `verify`'s flags; bootstrap has config keys
        raise hint_with_config_key(e, {"--repl-cmd": "verify.repl_cmd"}) from None

    async def verify(record: OBTRecord, header: str, namespace: str = ""):
        job = VerifyJob(record.Name, record.Statement,
                        proof_after_statement(record.Commented_proof, record.Statement), header,
                        namespace=namespace)
        return await asyncio.wrap_future(verifier.submit(job))

    verify.close = verifier.close
    return verify


def make_bank(config: BootstrapConfig, output: Path) -> CommentedExampleBank:
    retriever = None
    if config.examples.encoder and config.examples.k > 0:
        cache = config.examples.cache_dir or str(output / "embeddings")
        retriever = Retriever(config.examples.encoder, cache_dir=cache, device=config.examples.device)
    return CommentedExampleBank(load_examples(config.examples.bank), retriever)


def run_bootstrap(config: BootstrapConfig, *, generator=None, bank: CommentedExampleBank | None = None,
                  verifier=None, progress: bool = True) -> BootstrapSummary:
    """Run (or resume) the job described by `config`; returns the summary.

    `generator`, `bank` and `verifier` default to what the config describes (tests and
    benchmarks pass their own). Everything logged goes to `run.log` in the output directory too."""
    output = Path(config.output)
    output.mkdir(parents=True, exist_ok=True)
    with run_log(output / LOG_FILE):  # everything logged goes to output/run.log too
        return _run_bootstrap(config, output, generator=generator, bank=bank, verifier=verifier,
                              progress=progress)


def _run_bootstrap(config: BootstrapConfig, output: Path, *, generator, bank, verifier,
                   progress: bool) -> BootstrapSummary:
    started = time.monotonic()
    theorems, duplicates = load_theorems(config.input, config.header)
    summary = BootstrapSummary(input=len(theorems), duplicates=duplicates)
    if config.limit is not None:  # a cap on the run, not a quota per call: a rerun never adds more
        theorems = theorems[:config.limit]
    _check_run_identity(output, config)

    if config.retry_rejected and (output / REJECTIONS_FILE).exists():
        atomic_write_jsonl(output / REJECTIONS_FILE, [])  # forget them: they are tried again
    accepted_out = JsonlWriter(output / OBT_FILE, key=lambda d: d["Name"])
    rejected_out = JsonlWriter(output / REJECTIONS_FILE, key=lambda d: d["Name"])
    own_generator = generator is None
    try:
        done = accepted_out.done_keys() | rejected_out.done_keys()
        pending = [t for t in theorems if t.record.Name not in done]
        summary.already_done = len(theorems) - len(pending)

        if bank is None:
            bank = make_bank(config, output)
        if config.iterate:  # records accepted by earlier runs are examples too
            earlier = [CommentedExample(d["Name"], d["Proof"], *_split(d), d["Commented_proof"])
                       for d in read_jsonl(output / OBT_FILE, tolerate_truncated_tail=True)]
            bank.add([e for e in earlier if e.informal_statement])
        bank.warm([t.record.Proof for t in pending])

        if generator is None:
            generator = _make_generator(config)
        own_verifier = verifier is None and config.verify.enabled
        if own_verifier:
            verifier = make_verifier(config)
        boot = _make_bootstrapper(config, generator, bank, verifier)
        rejected: Counter = Counter()

        def record(outcome: Outcome) -> None:
            if outcome.record is not None:
                accepted_out.write(outcome.record)
                summary.accepted += 1
            else:
                rejected_out.write(outcome.rejection())
                rejected[f"{outcome.stage}/{outcome.reason}"] += 1
            summary.processed += 1

        run_started = time.monotonic()
        try:
            asyncio.run(_run_all(boot, pending, record, concurrency=config.concurrency, progress=progress))
        finally:
            summary.run_seconds = round(time.monotonic() - run_started, 3)
            if own_verifier:
                verifier.close()
            summary.rejected = dict(rejected)
            summary.attempt_failures = dict(boot.attempt_failures)
            _count_usage(summary, generator)
    finally:
        accepted_out.close()
        rejected_out.close()
        if own_generator and generator is not None:
            generator.close()
        summary.seconds = round(time.monotonic() - started, 3)
        if summary.run_seconds:
            summary.records_per_second = round(summary.processed / summary.run_seconds, 3)
        if (output / OBT_FILE).exists():
            _write_dataset(output, summary)
        atomic_write_text(output / SUMMARY_FILE, json.dumps(summary.to_dict(), indent=2) + "\n")
    return summary


def _make_generator(config: BootstrapConfig):
    """The LLM backend `config.llm` names (options of another backend are noted and ignored)."""
    # the backends need the llm extra (openai, torch, vllm)
    from theoremllama.llm.factory import make_generator

    options, dropped = backend_options(config.llm)
    if dropped:
        print(f"bootstrap: note: not options of the {options['backend']} backend, ignored: "
              f"{', '.join('llm.' + k for k in dropped)}", file=sys.stderr)
    try:
        return make_generator(options)
    except TypeError as e:  # a misspelt or unknown backend option
        raise UserError(f"llm: {e}") from None


def _make_bootstrapper(config: BootstrapConfig, generator, bank: CommentedExampleBank, verifier) -> "Bootstrapper":
    return Bootstrapper(
        as_async(generator), bank, k=config.examples.k,
        informal_sampling=config.sampling("informalize"), informal_retries=config.informalize.retries,
        informal_filter=InformalFilter(min_chars=config.informalize.min_chars,
                                       max_chars=config.informalize.max_chars,
                                       max_repetition=config.informalize.max_repetition),
        weave_sampling=config.sampling("weave"), weave_retries=config.weave.retries,
        verifier=verifier, iterate=config.iterate)


def _count_usage(summary: BootstrapSummary, generator) -> None:
    """Token and request counts of the generator, for backends that keep them."""
    usage = getattr(generator, "usage", None)
    if usage is not None:
        summary.prompt_tokens, summary.completion_tokens = usage.prompt_tokens, usage.completion_tokens
        summary.requests = usage.requests


def _check_run_identity(output: Path, config: BootstrapConfig) -> None:
    """Record the run's identity in run.json, or refuse a rerun whose settings differ from it."""
    path = output / RUN_FILE
    current = config.identity()
    recorded = any((output / f).exists() and (output / f).stat().st_size for f in (OBT_FILE, REJECTIONS_FILE))
    if path.exists() and recorded:  # a run that recorded nothing may be replaced
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))["identity"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
            raise InputError(f"unreadable run identity ({e}); delete the file to adopt this run's settings",
                             path=str(path)) from None
        check_same_run(previous, current, where=str(output),
                       new_run_hint="give another output directory (--output DIR)")
    elif recorded:
        # Outputs without an identity (an older version wrote them): they cannot be checked.
        raise UserError(f"{output} holds bootstrap outputs but no {RUN_FILE} saying how they were made; "
                        "give another output directory (--output DIR) to start a new run")
    else:
        atomic_write_text(path, json.dumps({"identity": current}, indent=2, ensure_ascii=False) + "\n")


def _split(d: dict) -> tuple[str, str]:
    return parse_informal(d.get("Generated_informal_statement_and_proof", "")) or ("", "")


def _write_dataset(output: Path, summary: BootstrapSummary) -> None:
    rows = sorted(read_jsonl(output / OBT_FILE, OBTRecord, tolerate_truncated_tail=True), key=lambda r: r.idx)
    summary.total_accepted = len(rows)
    if rows:
        save_dataset(rows, output / DATASET_DIR)


async def _run_all(boot: Bootstrapper, pending: list[Theorem], record, *, concurrency: int,
                   progress: bool) -> None:
    """`concurrency` workers take theorems from a shared queue; each outcome is written as soon
    as it is known. A failing generator (server down after retries) stops every worker."""
    from tqdm import tqdm

    queue = iter(pending)  # shared: each worker takes the next theorem when it is free
    bar = tqdm(total=len(pending), unit="thm", desc="bootstrap", disable=not progress, dynamic_ncols=True)
    counts = Counter()

    async def worker() -> None:
        for theorem in queue:
            outcome = await boot.run_one(theorem)
            record(outcome)
            counts["accepted" if outcome.record else "rejected"] += 1
            bar.update(1)
            bar.set_postfix(counts, refresh=False)

    tasks = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, max(1, len(pending))))]
    try:
        for finished in asyncio.as_completed(tasks):
            await finished  # the first failure propagates; the others are cancelled below
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        bar.close()
        aclose = getattr(boot.generator, "aclose", None)
        if aclose is not None:  # its HTTP session belongs to this event loop
            await aclose()
