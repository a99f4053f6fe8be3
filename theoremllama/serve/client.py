"""`RemoteVerifier`: a `theoremllama serve` used like an in-process `Verifier`.

    with RemoteVerifier("http://cpu-node:8000", api_key=KEY) as v:
        future = v.submit(job)                       # Future[Verdict]
        verdicts = v.verify_many(jobs, out_path="runs/v.jsonl")

`concurrency` threads each post whatever is queued (up to `batch_size` jobs) to `POST /verify`:
a job submitted alone goes at once, jobs submitted together travel in batches. Connection errors
and 429/503 answers are retried (after `Retry-After` when the server gives one, else with
exponential backoff) up to `retries` times; a server restart is therefore invisible to callers
except as delay. Any other refusal fails the batch's futures with a `UserError` quoting the server.
A reply with another count or other ids than the batch sent fails it too, never mislabels a verdict.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
import time
from collections import deque
from typing import Sequence

from theoremllama.errors import UserError
from theoremllama.lean.job import VerifyJob, prepare_job
from theoremllama.lean.stream import collect_in_order
from theoremllama.lean.verdict import Verdict
from theoremllama.serve.models import JobIn

RETRY_STATUSES = (429, 503)


class RemoteVerifier:
    def __init__(self, url: str, *, api_key: str | None = None, batch_size: int = 64, concurrency: int = 8,
                 retries: int = 10, backoff: float = 0.25, max_backoff: float = 30.0,
                 request_timeout: float = 3600.0, progress: bool = True):
        """
        url: the server's base URL, e.g. http://cpu-node:8000.
        api_key: its key (default: THEOREMLLAMA_API_KEY, if set).
        batch_size: most jobs per request; concurrency: requests in flight at once.
        retries, backoff, max_backoff: retry policy for connection errors and 429/503.
        request_timeout: seconds to wait for one request's verdicts.
        """
        import requests  # the serve extra (HTTP client)

        if batch_size < 1 or concurrency < 1:
            raise UserError("RemoteVerifier: batch_size and concurrency must be at least 1")
        self.url = url.rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("THEOREMLLAMA_API_KEY")
        self.batch_size, self.concurrency = batch_size, concurrency
        self.retries, self.backoff, self.max_backoff = retries, backoff, max_backoff
        self.request_timeout, self.progress = request_timeout, progress
        self._requests = requests
        self._local = threading.local()
        self._cond = threading.Condition()
        self._queue: deque[tuple[VerifyJob, concurrent.futures.Future]] = deque()
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._counts = {"requests": 0, "retries": 0, "verified": 0}
        self._server_start: dict | None = None
        self._first_submit: float | None = None

    # ------------------------------------------------------------------ the Verifier interface

    def submit(self, job: VerifyJob) -> concurrent.futures.Future:
        """Queue one job (checked locally first: UserError at once if it cannot be checked)."""
        return self._submit_many([job])[0]

    def verify_many(self, jobs: Sequence[VerifyJob], out_path: str | None = None) -> list[Verdict]:
        """One verdict per job, in input order, appended to `out_path` in input order as known."""
        futures = self._submit_many(list(jobs))
        return collect_in_order(futures, out_path, progress=self.progress)

    def stats(self) -> dict:
        """This client's requests/retries/verified, and the server's counters (workers,
        header_imports, restarts: differences since this client's first submit, all clients included)."""
        with self._cond:
            out = dict(self._counts)
            start = self._first_submit
        out["wall_seconds"] = round(time.monotonic() - start, 4) if start else 0.0
        now = self._health()
        base = self._server_start or {}
        out["workers"] = now.get("workers")
        for key in ("header_imports", "restarts", "busy_seconds"):
            out[key] = (now.get(key) or 0) - (base.get(key) or 0)
        return out

    def close(self) -> None:
        with self._cond:
            self._closed = True
            pending = list(self._queue)
            self._queue.clear()
            self._cond.notify_all()
        for _, future in pending:
            future.cancel()

    def __enter__(self) -> "RemoteVerifier":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ internals

    def _submit_many(self, jobs: list[VerifyJob]) -> list[concurrent.futures.Future]:
        for job in jobs:
            prepare_job(job)  # the same UserError as the in-process pool, before anything is sent
        if self._server_start is None:
            self._server_start = self._health()
        futures = [concurrent.futures.Future() for _ in jobs]
        with self._cond:
            if self._closed:
                raise UserError("this RemoteVerifier is closed")
            if self._first_submit is None:
                self._first_submit = time.monotonic()
            self._queue.extend(zip(jobs, futures))
            while len(self._threads) < self.concurrency:
                thread = threading.Thread(target=self._sender, daemon=True,
                                          name=f"remote-verifier-{len(self._threads)}")
                self._threads.append(thread)
                thread.start()
            self._cond.notify_all()
        return futures

    def _sender(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                batch = []
                while self._queue and len(batch) < self.batch_size:
                    job, future = self._queue.popleft()
                    if future.set_running_or_notify_cancel():
                        batch.append((job, future))
            if batch:
                self._send(batch)

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._requests.Session()
        return session

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def _send(self, batch: list[tuple[VerifyJob, concurrent.futures.Future]]) -> None:
        body = {"jobs": [JobIn.from_job(job) for job, _ in batch]}
        attempt = 0
        while True:
            wait = None
            try:
                with self._cond:
                    self._counts["requests"] += 1
                reply = self._session().post(f"{self.url}/verify", json=body, headers=self._headers(),
                                             timeout=(10, self.request_timeout))
            except self._requests.ConnectionError as e:
                problem = f"cannot reach {self.url}: {type(e).__name__}"
            else:
                if reply.status_code == 200:
                    return self._deliver(batch, reply)
                problem = f"{self.url} answered {reply.status_code}: {_detail(reply)}"
                if reply.status_code not in RETRY_STATUSES:
                    return self._fail(batch, UserError(f"verifier server {problem}"))
                retry_after = reply.headers.get("Retry-After", "")
                wait = float(retry_after) if retry_after.replace(".", "", 1).isdigit() else None
            attempt += 1
            if attempt > self.retries or self._closed:
                return self._fail(batch, UserError(f"verifier server: {problem} (gave up after {attempt} tries)"))
            with self._cond:
                self._counts["retries"] += 1
            time.sleep(min(self.max_backoff, wait if wait is not None else self.backoff * 2 ** (attempt - 1)))

    def _deliver(self, batch, reply) -> None:
        try:
            verdicts = [Verdict.from_dict(d) for d in reply.json()["verdicts"]]
        except (ValueError, KeyError, TypeError) as e:
            return self._fail(batch, UserError(f"verifier server {self.url}: unreadable reply ({e})"))
        sent = [job.id for job, _ in batch]
        if [v.id for v in verdicts] != [str(i) for i in sent]:
            return self._fail(batch, UserError(
                f"verifier server {self.url}: {len(verdicts)} verdicts for {len(sent)} jobs, or other ids"))
        with self._cond:
            self._counts["verified"] += len(verdicts)
        for (_, future), verdict in zip(batch, verdicts):
            future.set_result(verdict)

    @staticmethod
    def _fail(batch, error: Exception) -> None:
        for _, future in batch:
            future.set_exception(error)

    def _health(self) -> dict:
        try:
            reply = self._session().get(f"{self.url}/health", timeout=10)
            return reply.json() if reply.status_code == 200 else {}
        except (self._requests.RequestException, ValueError):
            return {}


def _detail(reply) -> str:
    try:
        return str(reply.json().get("detail", ""))[:300]
    except ValueError:
        return reply.text[:300]
