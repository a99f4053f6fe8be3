"""The FastAPI app in front of one verifier pool: `create_app(verifier, limits) -> FastAPI`.

Routes (all but `/health` need the API key when one is set):
    POST /verify      native: {"jobs": [...]} -> {"verdicts": [...]}, in order (models.py)
    POST /api/check   kimina-lean-server's wire format (kimina.py)
    GET  /health      {"status", "queue_length", "workers", "verified", "header_imports", "restarts", ...}
    GET  /metrics     Prometheus text format (metrics.py)

Guards, cheapest first: a body larger than `max_request_bytes` gets 413 before it is read; a missing
or wrong key gets 401 (compared in constant time); a batch longer than `max_batch` gets 413; a batch
that would take the number of jobs accepted and not yet answered above `max_queue` gets 429 with
`Retry-After` (seconds, from the pool's mean time per proof) and nothing of it is queued. A job
that cannot be checked (no theorem in the statement) gets 422 naming it, and nothing is queued.
"""

from __future__ import annotations

import asyncio
import hmac
import math
from dataclasses import dataclass

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from theoremllama.errors import UserError
from theoremllama.lean.job import VerifyJob, prepare_job
from theoremllama.lean.verdict import Verdict
from theoremllama.serve import kimina
from theoremllama.serve.metrics import CONTENT_TYPE, Metrics
from theoremllama.serve.models import VerifyRequest, VerifyResponse


@dataclass
class Limits:
    api_key: str | None = None
    """Require `Authorization: Bearer KEY` (or kimina's `X-Auth-Token: KEY`); None: no auth."""
    max_request_bytes: int = 32 * 2**20
    max_batch: int = 4096
    """Jobs (or snippets) in one request."""
    max_queue: int = 65536
    """Jobs accepted and not yet answered, over all requests."""


class _BodyLimit:
    """ASGI middleware: 413 for a body over `limit` bytes, by Content-Length or as it streams in."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await self._refuse(send)
        # Read the body here (the app would buffer it anyway), stopping as soon as it is too large.
        chunks, seen, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.limit:
                return await self._refuse(send)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()
        await self.app(scope, replay, send)

    async def _refuse(self, send):
        body = b'{"detail":"request body larger than %d bytes"}' % self.limit
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _Admission:
    """Counts jobs accepted and not yet answered; refuses a batch that would overflow the queue."""

    def __init__(self, verifier, max_queue: int):
        self.verifier, self.max_queue, self.in_flight = verifier, max_queue, 0

    def admit(self, n: int) -> None:
        if self.in_flight + n > self.max_queue:
            stats = self.verifier.stats()
            per_proof = stats.get("busy_seconds", 0) / stats["verified"] if stats.get("verified") else 1.0
            wait = math.ceil(self.in_flight * per_proof / max(1, stats.get("workers", 1)))
            raise HTTPException(429, f"queue full ({self.in_flight} jobs waiting, at most {self.max_queue})",
                                headers={"Retry-After": str(max(1, wait))})
        self.in_flight += n


def _key_check(api_key: str | None):
    """The dependency that refuses a request without `api_key` (as a bearer token or `x-auth-token`)."""

    def require_key(request: Request) -> None:
        if api_key is None:
            return
        given = request.headers.get("authorization") or request.headers.get("x-auth-token") or ""
        token = given[7:].strip() if given[:7].lower() == "bearer " else given.strip()
        if not hmac.compare_digest(token.encode(), api_key.encode()):
            raise HTTPException(401, "missing or wrong API key", headers={"WWW-Authenticate": "Bearer"})

    return require_key


def _kimina_results(snippets: list, made: list, verdicts: list[Verdict], metrics: Metrics,
                    timeout: float) -> list:
    """One kimina result per snippet, in order: `made` holds per snippet its job (checked: the next
    of `verdicts`), a verdict decided without Lean, or the reason it has no theorem (a str)."""
    checked = iter(verdicts)
    results = []
    for snippet, m in zip(snippets, made):
        if isinstance(m, str):
            results.append(kimina.no_theorem_result(snippet.id, m))
            continue
        verdict = next(checked) if isinstance(m, VerifyJob) else m
        if not isinstance(m, VerifyJob):
            metrics.observe(verdict)
        results.append(kimina.result_of(snippet.id, verdict, timeout))
    return results


def create_app(verifier, limits: Limits | None = None) -> FastAPI:
    """An app serving `verifier` (a `Verifier`, or anything with its `submit` and `stats`); the
    caller owns the verifier and closes it."""
    limits = limits or Limits()
    admission = _Admission(verifier, limits.max_queue)
    metrics = Metrics(verifier.stats, lambda: admission.in_flight)
    app = FastAPI(title="theoremllama verifier", description="Lean 4 proof checking (theoremllama serve)")
    app.add_middleware(_BodyLimit, limit=limits.max_request_bytes)

    require_key = _key_check(limits.api_key)

    def check_batch(n: int) -> None:
        if n > limits.max_batch:
            raise HTTPException(413, f"{n} jobs in one request; at most {limits.max_batch}")

    async def run(jobs: list[VerifyJob]) -> list[Verdict]:
        """Submit a whole (admitted) batch, await every verdict; cancel what is left if the request dies."""
        futures = []
        try:
            futures = [verifier.submit(job) for job in jobs]
            verdicts = await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
        except UserError as e:  # the pool cannot run (e.g. the REPL does not start)
            raise HTTPException(503, f"verifier unavailable: {e}") from None
        finally:
            for f in futures:
                f.cancel()  # no-op for finished ones
            admission.in_flight -= len(jobs)
        for verdict in verdicts:
            metrics.observe(verdict)
        return verdicts

    def validate(jobs: list[VerifyJob]) -> None:
        for job in jobs:
            try:
                prepare_job(job)
            except UserError as e:
                raise HTTPException(422, str(e)) from None

    @app.post("/verify", response_model=VerifyResponse, dependencies=[Depends(require_key)])
    async def verify(request: VerifyRequest) -> VerifyResponse:
        check_batch(len(request.jobs))
        jobs = [j.to_job() for j in request.jobs]
        validate(jobs)
        admission.admit(len(jobs))
        verdicts = await run(jobs)
        return VerifyResponse(verdicts=[v.to_dict() for v in verdicts])

    @app.post("/api/check", response_model=kimina.CheckResponse, response_model_exclude_none=True,
              dependencies=[Depends(require_key)])
    @app.post("/api/check/", response_model=kimina.CheckResponse, response_model_exclude_none=True,
              dependencies=[Depends(require_key)], include_in_schema=False)
    async def check(request: kimina.CheckRequest) -> kimina.CheckResponse:
        check_batch(len(request.snippets))
        made = [kimina.snippet_job(s) for s in request.snippets]
        jobs = [m for m in made if isinstance(m, VerifyJob)]
        validate(jobs)
        admission.admit(len(jobs))
        verdicts = await run(jobs)
        return kimina.CheckResponse(results=_kimina_results(request.snippets, made, verdicts, metrics,
                                                            getattr(verifier, "timeout", 0.0)))

    @app.get("/health")
    async def health() -> dict:
        stats = verifier.stats()
        return {"status": "ok", "queue_length": admission.in_flight,
                **{k: stats.get(k) for k in ("workers", "verified", "header_imports", "restarts", "busy_seconds")}}

    @app.get("/metrics", dependencies=[Depends(require_key)])
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    @app.exception_handler(UserError)
    async def user_error(_request: Request, e: UserError) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=422)

    return app
