"""Check many proofs with a pool of Lean REPL workers: `Verifier.verify_many(jobs) -> [Verdict]`.

    with Verifier(workers=8, timeout=60) as v:
        verdicts = v.verify_many([VerifyJob(id="p1", header="import Mathlib",
                                            statement="theorem p1 : (2 : ℕ) + 2 = 4 :=",
                                            proof="by norm_num")], out_path="runs/p.verdicts.jsonl")

Jobs are prepared by `job.py`. The pool: up to `workers` threads, each owning one `Worker` (one
REPL process bound to one header, see `worker.py`); the REPL processes do the CPU work, the
threads only wait on pipes. Jobs queue per header. A job whose header has no worker gets a new
one while the pool has room; when it is full, the least recently used idle worker is retired (its
process closed) and takes the new header. A header with more queued jobs than idle workers also
gets a new worker while the pool has room. So with K headers and W workers, jobs submitted
together import each header once per worker that serves it (plus once per restart after a fault
or a recycle), and one header with at least W jobs imports exactly W times.

Identical proofs are checked once: a job whose (header, header line count, body) equals one
already submitted to this Verifier shares that job's Lean check, and gets a copy of its verdict
under its own id (sampling many proofs per problem gives many exact duplicates; `stats()["shared"]`
counts them). The REPL processes are started directly with the environment of the Lean project
(see `setup.resolve_repl_command`), so the pool's children are the REPLs themselves.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import itertools
import os
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Sequence

from tqdm import tqdm

from theoremllama.errors import UserError
from theoremllama.lean.job import PreparedJob, VerifyJob, prepare_job
from theoremllama.lean.policy import describe
from theoremllama.lean.repl import LeanRepl
from theoremllama.lean.setup import resolve_repl_command
from theoremllama.lean.verdict import Verdict
from theoremllama.lean.worker import HEADER_TIMEOUT_S, Counters, ReferenceTypes, Worker, WorkerLimits

REPL_MEMORY_GIB = 8.0
"""Memory to budget per Mathlib REPL when sizing the pool: `import Mathlib` maps about 5 GiB of
.olean files and every checked proof adds environments the REPL never frees (kimina-lean-server
caps each REPL at 8 GiB by default for the same reason). Override with `repl_memory_gb`."""
DEFAULT_MAX_RSS_GIB = 12.0
"""Resident memory above which a REPL is recycled after its proof (None/0 in `max_rss_gb`: never)."""

@dataclass
class _Task:
    job: PreparedJob
    future: concurrent.futures.Future
    seq: int


@dataclass
class _Slot:
    """A pool thread and the worker it currently owns (state guarded by the pool's lock)."""

    header: str
    worker: object = None
    busy: bool = False
    last_used: float = field(default_factory=time.monotonic)
    thread: threading.Thread | None = None


def default_workers(repl_memory_gb: float = REPL_MEMORY_GIB, *, available_bytes: int | None = None,
                    cpus: int | None = None) -> int:
    """How many REPLs this machine can run: one per core but one (one core is left for the rest of
    the machine), and no more than free memory holds at `repl_memory_gb` each; at least 1."""
    if cpus is None:
        try:
            cpus = len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            cpus = os.cpu_count() or 1
    if available_bytes is None:
        import psutil  # only here: the rest of the pool does not need it

        available_bytes = psutil.virtual_memory().available
    by_memory = int(available_bytes // (repl_memory_gb * 2**30))
    return max(1, min(cpus - 1, by_memory))


def check_key(job: PreparedJob) -> tuple[str, int, str]:
    """What a verdict depends on: jobs with equal keys share one Lean check (the header's line
    count is in it because message positions are shifted by it)."""
    return (job.header, job.header_lines, job.body)


class Verifier:
    """A pool of REPL workers that turns `VerifyJob`s into `Verdict`s."""

    def __init__(self, repl_cmd: str | list[str] | None = None, *, workers: int | None = None,
                 timeout: float = 60.0, header_timeout: float = HEADER_TIMEOUT_S, mem_gb: float | None = None,
                 max_uses: int = 200, max_rss_gb: float | None = DEFAULT_MAX_RSS_GIB,
                 repl_memory_gb: float = REPL_MEMORY_GIB, lean_project: str | None = None,
                 progress: bool = True):
        """
        repl_cmd: the REPL command (string or argv); None: THEOREMLLAMA_REPL_CMD, else the REPL
            built by `theoremllama setup-lean` (see `setup.resolve_repl_command`).
        workers: REPL processes at most (default: `default_workers(repl_memory_gb)`: CPU count - 1,
            no more than free memory holds, at least 1).
        timeout: wall-clock seconds per proof, counted from the end of the header import; on
            expiry the REPL is killed, verdict `timeout`.
        header_timeout: wall-clock seconds for importing a header in a fresh process.
        mem_gb: address-space cap per REPL process (RLIMIT_AS), in GiB; verdict `memory` when hit.
        max_uses: proofs per REPL process before it is recycled (the REPL never frees environments).
        max_rss_gb: recycle a REPL whose resident memory exceeds this after a proof (default
            DEFAULT_MAX_RSS_GIB; None or 0: never).
        repl_memory_gb: memory budgeted per REPL when choosing the default worker count.
        lean_project: the Lake project the REPL runs in (cwd).
        progress: show a tqdm progress bar in verify_many.
        """
        for label, value in (("timeout", timeout), ("header_timeout", header_timeout),
                             ("repl_memory_gb", repl_memory_gb)):
            if value is None or value <= 0:
                raise UserError(f"{label} must be positive, got {value}")
        if workers is not None and workers < 1:
            raise UserError(f"workers must be at least 1, got {workers}")
        if max_uses < 1:
            raise UserError(f"max_uses must be at least 1, got {max_uses}")
        for label, value in (("mem_gb", mem_gb), ("max_rss_gb", max_rss_gb)):
            if value is not None and value < 0 or (label == "mem_gb" and value == 0):
                raise UserError(f"{label} must be positive, got {value}")
        self.argv, self.cwd, self.env = resolve_repl_command(repl_cmd, lean_project)
        self.workers = workers or default_workers(repl_memory_gb)
        self.timeout = float(timeout)
        self.progress = progress
        self.limits = WorkerLimits(
            timeout=self.timeout, header_timeout=float(header_timeout), max_uses=max_uses,
            mem_limit_bytes=int(mem_gb * 2**30) if mem_gb else None,
            max_rss_bytes=int(max_rss_gb * 2**30) if max_rss_gb else None)
        self._counters = Counters()
        self._references = ReferenceTypes()
        self._cond = threading.Condition()
        self._queues: dict[str, deque[_Task]] = {}
        self._slots: list[_Slot] = []
        self._seq = itertools.count()
        self._names = itertools.count()
        self._closed = False
        self._verified = 0
        self._first_submit: float | None = None
        self._last_done: float | None = None
        self._checks: dict[tuple, concurrent.futures.Future] = {}
        """(header, header lines, body) -> the future of the one Lean check of that job."""
        self._shared = 0

    # ------------------------------------------------------------------ public API

    def submit(self, job: VerifyJob) -> concurrent.futures.Future:
        """Queue one job; the future resolves to its Verdict (for pipelining generation and checking).

        Raises UserError at once for a job that cannot be checked (no theorem in the statement)."""
        return self._submit_prepared([prepare_job(job)])[0]

    def verify_many(self, jobs: Sequence[VerifyJob], out_path: str | None = None) -> list[Verdict]:
        """One verdict per job, in input order. With `out_path`, each verdict is appended to that
        JSONL file as soon as it is known (flushed per line; a truncated last line left by a killed
        run is repaired first). Until a header has imported, verdicts are held back: if none can be
        imported (a setup problem, raised as UserError) nothing is written."""
        prepared = [prepare_job(job) for job in jobs]  # every job is valid before anything runs
        writer = None
        held: list[Verdict] = []

        def write(verdict: Verdict | None) -> None:
            nonlocal writer
            if out_path is None:
                return
            if verdict is not None:
                held.append(verdict)
            if self._counters.headers_ok == 0 and verdict is not None:
                return
            if writer is None and held:
                from theoremllama.data.jsonl import JsonlWriter  # the data layer is not needed for submit()
                writer = JsonlWriter(out_path)
            for v in held:
                writer.write(v)
            held.clear()

        futures = self._submit_prepared(prepared)
        where = {f: i for i, f in enumerate(futures)}
        results: list[Verdict | None] = [None] * len(futures)
        counts: dict[str, int] = {}
        bar = tqdm(total=len(futures), desc="verify", unit="proof", disable=not self.progress, dynamic_ncols=True)
        try:
            for f in concurrent.futures.as_completed(futures):
                verdict = f.result()
                results[where[f]] = verdict
                write(verdict)
                counts[verdict.reason] = counts.get(verdict.reason, 0) + 1
                bar.set_postfix_str(" ".join(f"{k}={v}" for k, v in sorted(counts.items())), refresh=False)
                bar.update(1)
            write(None)  # every verdict is known: nothing more to wait for
        finally:
            bar.close()
            if writer is not None:
                writer.close()
            self._cancel([f for f in futures if not f.done()])
        return results  # type: ignore[return-value]

    def stats(self) -> dict:
        """Counts so far: workers, header_imports, restarts, busy_seconds, wall_seconds, verified,
        shared (verdicts copied from an identical job's check instead of a Lean check of their own)."""
        with self._cond:
            start, end = self._first_submit, self._last_done
            busy = any(slot.busy for slot in self._slots) or any(self._queues.values())
            if start is None:
                wall = 0.0
            else:
                wall = (time.monotonic() if busy or end is None else end) - start
            return {"workers": self.workers, "header_imports": self._counters.header_imports,
                    "restarts": self._counters.restarts, "busy_seconds": round(self._counters.busy_seconds, 4),
                    "wall_seconds": round(wall, 4), "verified": self._verified, "shared": self._shared}

    def close(self) -> None:
        """Stop the pool: queued jobs are cancelled, REPL processes are killed, threads joined."""
        with self._cond:
            self._closed = True
            pending = [t for q in self._queues.values() for t in q]
            self._queues.clear()
            slots = list(self._slots)
            self._cond.notify_all()
        for task in pending:
            task.future.cancel()
        for slot in slots:
            # A busy thread waits on its REPL: kill the process group (by pid, leaving the pipes to
            # the thread that owns them); the thread then sees the REPL die, and `closed`.
            repl = slot.worker.repl if slot.busy and slot.worker is not None else None
            pid = repl.pid if repl is not None else None
            if pid is not None:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        for slot in slots:
            if slot.thread is not None and slot.thread is not threading.current_thread():
                slot.thread.join(timeout=10)

    def __enter__(self) -> "Verifier":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ scheduling

    def _submit_prepared(self, prepared: list[PreparedJob]) -> list[concurrent.futures.Future]:
        futures = []
        rejected: list[tuple[concurrent.futures.Future, Verdict]] = []
        copies: list[tuple[concurrent.futures.Future, concurrent.futures.Future, str]] = []
        with self._cond:
            if self._closed:
                raise UserError("this Verifier is closed")
            if self._first_submit is None:
                self._first_submit = time.monotonic()
            for job in prepared:
                future: concurrent.futures.Future = concurrent.futures.Future()
                futures.append(future)
                if job.violations:  # rejected before anything runs
                    rejected.append((future, Verdict(id=job.id, passed=False, reason="forbidden",
                                                     detail=describe(list(job.violations)))))
                    self._count_done_locked()
                    continue
                key = check_key(job)
                original = self._checks.get(key)
                if original is not None and not original.cancelled():
                    copies.append((original, future, job.id))
                    continue
                self._checks[key] = future
                self._queues.setdefault(job.header, deque()).append(_Task(job, future, next(self._seq)))
                self._maybe_spawn_locked(job.header)
            self._cond.notify_all()
        for future, verdict in rejected:
            future.set_result(verdict)
        for original, future, job_id in copies:  # outside the lock: a done original calls back at once
            original.add_done_callback(lambda done, f=future, i=job_id: self._copy_verdict(done, f, i))
        return futures

    def _copy_verdict(self, original: concurrent.futures.Future, future: concurrent.futures.Future,
                      job_id: str) -> None:
        """Resolve a duplicate job's future from its original's check (its verdict, under its id)."""
        if future.done() or not future.set_running_or_notify_cancel():
            return
        if original.cancelled():
            future.set_exception(concurrent.futures.CancelledError(
                f"the identical job whose check {job_id!r} shared was cancelled"))
            return
        error = original.exception()
        if error is not None:
            future.set_exception(error)
            return
        with self._cond:
            self._shared += 1
            self._count_done_locked()
        future.set_result(dataclasses.replace(original.result(), id=job_id))

    def _maybe_spawn_locked(self, header: str) -> None:
        """A new worker for `header` if the pool has room and the header lacks idle workers."""
        if len(self._slots) >= self.workers:
            return
        mine = [s for s in self._slots if s.header == header]
        idle = sum(1 for s in mine if not s.busy)
        if mine and len(self._queues[header]) <= idle:
            return
        slot = _Slot(header=header)
        slot.thread = threading.Thread(target=self._serve, args=(slot,), daemon=True,
                                       name=f"lean-worker-{next(self._names)}")
        self._slots.append(slot)
        slot.thread.start()

    def _next_task_locked(self, slot: _Slot) -> _Task | None:
        """The next task for this idle slot (switching it to another header if it should), or None."""
        queue = self._queues.get(slot.header)
        if queue:
            return queue.popleft()
        # Its own header has nothing queued. Another header with queued jobs and no idle worker
        # needs a worker: the least recently used idle worker is the one retired for it.
        idle_ids = {id(s) for s in self._slots if not s.busy and not self._queues.get(s.header)}
        waiting = [(q[0].seq, h) for h, q in self._queues.items() if q and not any(
            s.header == h and not s.busy for s in self._slots)]
        if not waiting:
            return None
        lru = min((s for s in self._slots if id(s) in idle_ids), key=lambda s: s.last_used)
        if lru is not slot:
            return None
        slot.header = min(waiting)[1]
        self._cond.notify_all()  # the next least recently used idle worker may be needed too
        return self._queues[slot.header].popleft()

    def _serve(self, slot: _Slot) -> None:
        """A pool thread: take tasks for its header, check them, switch header when retired."""
        def make_repl() -> LeanRepl:
            # start_timeout=0: the first request is the header import, which has its own limit.
            return LeanRepl(self.argv, cwd=self.cwd, env=self.env, mem_limit_bytes=self.limits.mem_limit_bytes,
                            start_timeout=0.0, name=slot.thread.name if slot.thread else "repl")

        while True:
            with self._cond:
                task = None
                while not self._closed:
                    task = self._next_task_locked(slot)
                    if task is None:
                        self._cond.wait()
                    elif task.future.set_running_or_notify_cancel():
                        break
                    # else: cancelled while queued; take the next one
                if task is None:
                    break
                slot.busy = True
                worker, header = slot.worker, slot.header
            if worker is None or worker.header != header:
                if worker is not None:
                    worker.discard()  # retired: its header is no longer needed here
                worker = Worker(header, make_repl, self.limits, self._counters, self._references)
                with self._cond:
                    slot.worker = worker
            verdict: Verdict | None = None
            try:
                verdict = worker.check(task.job)
            except BaseException as e:  # a bug, or a setup problem (the REPL cannot start): surface it
                worker.discard()
                failure = e
            with self._cond:
                slot.busy = False
                slot.last_used = time.monotonic()
                self._count_done_locked()
                self._cond.notify_all()
            if verdict is not None:
                task.future.set_result(verdict)
            else:
                task.future.set_exception(failure)
        worker = slot.worker
        if worker is not None:
            worker.discard()

    def _count_done_locked(self) -> None:
        self._verified += 1
        self._last_done = time.monotonic()

    def _cancel(self, futures: list[concurrent.futures.Future]) -> None:
        """Drop queued tasks whose futures nobody waits for any more (e.g. after Ctrl-C)."""
        if not futures:
            return
        dropped = set(map(id, futures))
        with self._cond:
            for header, queue in self._queues.items():
                self._queues[header] = deque(t for t in queue if id(t.future) not in dropped)
        for f in futures:
            f.cancel()
