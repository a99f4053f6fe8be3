"""Generation, extraction and verification of proof attempts, overlapped.

    request ──generate──▶ completion ──extract──▶ proof ──Verifier.submit──▶ verdict ──▶ record

Each attempt goes to the verifier the moment its completion arrives, while other requests are
still generating, so the Lean workers stay busy instead of waiting for a whole round of
generation. At most `concurrency` requests are in flight (generating, or waiting for and under
verification), which bounds memory and the work a kill can lose.

Follow-ups: `follow_up(item, attempt)`, called as each attempt is recorded, may return new items
(the repairs of a failed proof, see `repair.py`); they go to the front of the queue, so repairs
interleave with the fresh samples still to generate and the verifier never idles between phases.

Seeds: with an async backend (the OpenAI-compatible one) every sample is its own request with its
own seed, derived from (base seed, problem, round, sample) — for a repair, from its attempt id —
so a rerun asks exactly the same questions. A blocking backend (local vLLM / HF) is asked once per (problem, round) for all its
missing samples (one call at a time, in a helper thread), seeded by the first of them.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import dataclasses
import hashlib
import time
from dataclasses import dataclass
from typing import Callable

from tqdm.auto import tqdm

from theoremllama.data.records import Problem, ProofAttempt
from theoremllama.eval.extract import extract_proof
from theoremllama.eval.feedback import feedback, verify_job
from theoremllama.llm.base import Generator, Sampling

NO_PROOF = "no_proof"  # the reason recorded when nothing could be extracted (never verified)


@dataclass
class WorkItem:
    """One sample to generate and check."""

    problem: Problem
    round: int
    sample: int
    prompt: list[dict]
    """Chat messages asking for the proof."""
    prompt_hash: str
    parent: str = ""
    """For a repair: the id of the failed attempt it repairs ('' for a fresh sample)."""
    depth: int = 0
    """Repair depth (0 for a fresh sample)."""
    branch: int = 0
    """Which repair of the parent this is."""

    @property
    def job_id(self) -> str:
        """The attempt's id (`ProofAttempt.id`)."""
        if self.depth == 0:
            return f"{self.problem.name}/r{self.round}/s{self.sample}"
        return f"{self.parent}/f{self.branch}"

    def seed(self, base: int) -> int:
        if self.depth == 0:
            return sample_seed(base, self.problem.name, self.round, self.sample)
        return repair_seed(base, self.job_id)


@dataclass
class PipelineStats:
    """What one pipeline run did."""

    attempts: int = 0
    """Attempts recorded."""
    requests: int = 0
    """Generation calls made."""
    verified: int = 0
    """Proofs sent to the verifier (attempts with an extracted proof)."""
    repairs: int = 0
    """Attempts that were repairs (included in `attempts`)."""
    unchecked: int = 0
    """Attempts not recorded because their header did not import (Lean never saw the proof, so
    `error` would be a wrong verdict): a rerun generates and checks them again."""
    wall_seconds: float = 0.0


def sample_seed(seed: int, problem: str, round: int, sample: int) -> int:
    """A 31-bit seed for one sample, stable across runs, machines and Python versions."""
    digest = hashlib.sha256(f"{seed}/{problem}/{round}/{sample}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def repair_seed(seed: int, attempt_id: str) -> int:
    """A 31-bit seed for a repair, from the base seed and the repair's attempt id."""
    digest = hashlib.sha256(f"{seed}/{attempt_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def run_pipeline(items: list[WorkItem], *, generator: Generator, sampling: Sampling, verifier,
                 record: Callable[[ProofAttempt], None], seed: int = 0, concurrency: int = 64,
                 progress: bool = True, description: str = "attempts",
                 follow_up: Callable[[WorkItem, ProofAttempt], list[WorkItem]] | None = None,
                 feedback_messages: int = 3) -> PipelineStats:
    """Generate, extract and verify every item; `record` is called once per finished attempt
    (from the pipeline's thread, in completion order), then `follow_up` (whose items join the
    run). A failed attempt keeps Lean's first `feedback_messages` messages (`ProofAttempt.feedback`).
    The first failure stops the run and is raised after the attempts already finished have been
    recorded."""
    stats = PipelineStats()
    if not items:
        return stats
    start = time.perf_counter()
    bar = tqdm(total=len(items), desc=description, unit="attempt", disable=not progress)
    try:
        asyncio.run(_run(items, generator, sampling, verifier, record, seed, concurrency, stats, bar,
                         follow_up, feedback_messages))
    finally:
        bar.close()
        stats.wall_seconds = time.perf_counter() - start
    return stats


def _requests(items: list[WorkItem], batched: bool) -> list[list[WorkItem]]:
    """Group items into generation calls: one per sample, or one per (problem, round, prompt):
    the fresh samples of a problem share one call, and so do the repairs of one failure."""
    if not batched:
        return [[it] for it in items]
    groups: dict[tuple[str, int, str], list[WorkItem]] = {}
    for it in items:
        groups.setdefault((it.problem.name, it.round, it.prompt_hash), []).append(it)
    return list(groups.values())


async def _attempt(item: WorkItem, completion: str, verifier, stats: PipelineStats,
                   feedback_messages: int) -> ProofAttempt | None:
    """Extract the proof of a completion, verify it, and make the attempt's record (None when its
    header did not import: the proof was never checked)."""
    proof = extract_proof(completion)
    passed, reason, seconds = False, NO_PROOF, 0.0
    notes: list[dict] = []
    if proof:
        stats.verified += 1
        verdict = await asyncio.wrap_future(verifier.submit(verify_job(item.problem, proof, job_id=item.job_id)))
        if getattr(verdict, "header_failed", False):
            return None
        passed, reason, seconds = verdict.passed, verdict.reason, verdict.seconds
        if not passed and verdict.messages and feedback_messages > 0:
            notes = feedback(item.problem, proof, verdict.messages, feedback_messages)
    return ProofAttempt(problem=item.problem.name, round=item.round, sample=item.sample,
                        prompt_hash=item.prompt_hash, completion=completion, proof=proof,
                        passed=passed, reason=reason, seconds=seconds, split=item.problem.split,
                        parent=item.parent, depth=item.depth, branch=item.branch, feedback=notes)


async def _generate(generator, blocking_pool, group: list[WorkItem], sampling, seed, stats) -> list[str]:
    """The completions of one request: n = len(group) samples of the group's (shared) prompt.
    A blocking backend (no `agenerate`) runs in `blocking_pool`, off the event loop."""
    first = group[0]
    ask = dataclasses.replace(sampling, n=len(group), seed=first.seed(seed))
    stats.requests += 1
    if blocking_pool is None:
        outs = await generator.agenerate([first.prompt], ask)
    else:
        loop = asyncio.get_running_loop()
        outs = await loop.run_in_executor(blocking_pool, generator.generate, [first.prompt], ask)
    return list(outs[0])


async def _run(items, generator, sampling, verifier, record, seed, concurrency, stats, bar,
               follow_up=None, feedback_messages=3) -> None:
    asynchronous = hasattr(generator, "agenerate")
    # Blocking backends hold a model in memory: one call at a time, off the event loop.
    blocking_pool = None if asynchronous else concurrent.futures.ThreadPoolExecutor(1, "generate")
    slots = asyncio.Semaphore(concurrency)
    tasks: set[asyncio.Task] = set()
    failures: list[BaseException] = []
    queue = collections.deque(_requests(items, batched=not asynchronous))
    wake = asyncio.Event()  # set when a task ends or adds follow-ups

    async def check(item: WorkItem, completion: str) -> None:
        attempt = await _attempt(item, completion, verifier, stats, feedback_messages)
        if attempt is None:
            stats.unchecked += 1
            bar.update(1)
            return
        record(attempt)
        stats.attempts += 1
        stats.repairs += int(item.depth > 0)
        bar.update(1)
        if follow_up is not None:
            more = follow_up(item, attempt)
            if more:
                bar.total += len(more)
                bar.refresh()
                queue.extendleft(reversed(_requests(more, batched=not asynchronous)))
                wake.set()

    async def handle(group: list[WorkItem]) -> None:
        try:
            completions = await _generate(generator, blocking_pool, group, sampling, seed, stats)
            if len(completions) != len(group):
                raise RuntimeError(f"the generator returned {len(completions)} completions, "
                                   f"{len(group)} were asked for")
            await asyncio.gather(*(check(it, c) for it, c in zip(group, completions)))
        finally:
            slots.release()

    def finished(task: asyncio.Task) -> None:
        tasks.discard(task)
        wake.set()
        if not task.cancelled() and task.exception() is not None:
            failures.append(task.exception())

    try:
        while not failures:
            if not queue:
                if not tasks:
                    break  # nothing queued, nothing in flight that could add more
                wake.clear()
                await wake.wait()
                continue
            await slots.acquire()
            if failures:
                break
            group = queue.popleft()
            task = asyncio.create_task(handle(group))
            tasks.add(task)
            task.add_done_callback(finished)
        if failures:  # stop generating; what is in flight is abandoned (redone on resume)
            for t in list(tasks):
                t.cancel()
        await asyncio.gather(*list(tasks), return_exceptions=True)
    finally:
        if asynchronous and hasattr(generator, "aclose"):
            await generator.aclose()
        if blocking_pool is not None:
            blocking_pool.shutdown(wait=False, cancel_futures=True)
    if failures:
        raise failures[0]
