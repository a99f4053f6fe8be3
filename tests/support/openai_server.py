"""A scripted OpenAI-compatible HTTP server on loopback, for tests only.

It speaks the real wire format (`/v1/chat/completions`, `/v1/completions`, OpenAI response
shapes with `choices`, `finish_reason` and `usage`), so clients are tested against real HTTP,
real JSON and real connection handling; only the model is replaced by a `responder`.

    def responder(body: dict) -> str | list[str] | Fault:
        ...                                   # body: the parsed request ("messages" or "prompt", "n", ...)

    with ScriptedOpenAIServer(responder, latency=0.2) as server:
        gen = OpenAIGenerator("m", base_url=server.base_url)
        ...
        server.requests        # every request body received, in order
        server.max_in_flight   # most requests being handled at the same time

`latency` is seconds to wait before answering each request, or a function of the request body
giving them (to make some prompts finish later than others).

A responder returning one string answers every one of the `n` choices with it; a list gives one
choice per item (a shorter list than `n` tests the client's top-up); a `Fault` scripts an error.

The reply shapes are those of vLLM's OpenAI-compatible server (`ChatCompletionResponse`,
`CompletionResponse` and `ErrorResponse` in vllm-project/vllm `vllm/entrypoints/openai/protocol.py`),
which match the `openai` SDK's `ChatCompletion` and `Completion` types. aiohttp serves them: it is
already installed as the SDK's HTTP transport.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from typing import Callable, Union

from aiohttp import web


@dataclass
class Fault:
    """A scripted failure reply."""

    status: int = 500
    """HTTP status to reply with (429, 500, 503, ...); ignored when `malformed` is set (200)."""
    retry_after: float | None = None
    """Value of a `Retry-After` header (seconds), if any."""
    body: str | None = None
    """Reply body (default: an OpenAI-style JSON error, or garbage when `malformed`)."""
    delay: float | None = None
    """Seconds to wait before replying (longer than the client's timeout scripts a timeout)."""
    malformed: bool = False
    """Reply 200 with a body that is not a valid completion (non-JSON unless `body` says otherwise)."""


Responder = Callable[[dict], Union[str, list, Fault]]


def _words(x) -> int:
    if isinstance(x, str):
        return len(x.split())
    if isinstance(x, list):
        return sum(_words(m.get("content", "")) if isinstance(m, dict) else _words(m) for m in x)
    return 0


def _apply_stop(text: str, stop) -> str:
    """Truncate at the first stop string, as real servers do (the stop string is not returned)."""
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    cut = len(text)
    for s in stops:
        i = text.find(s)
        if s and i >= 0:
            cut = min(cut, i)
    return text[:cut]


class ScriptedOpenAIServer:
    """An OpenAI-compatible server in a background thread on 127.0.0.1 (a random free port)."""

    def __init__(self, responder: Responder, *, latency: float | Callable[[dict], float] = 0.0):
        self.responder = responder
        self.latency = latency
        self.requests: list[dict] = []
        """Every request body received, in order of arrival."""
        self.headers: list[dict] = []
        """The HTTP headers of every request, same order as `requests`."""
        self.in_flight = 0
        self.max_in_flight = 0
        """The most requests being handled at once (to check a client's concurrency limit)."""
        self.base_url = ""
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> "ScriptedOpenAIServer":
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._start_app())
            except BaseException as e:  # surface bind errors to the caller
                failure.append(e)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            pending = asyncio.all_tasks(loop)  # handlers still sleeping: cancel, then let them end
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

        self._thread = threading.Thread(target=serve, name="scripted-openai-server", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    async def _start_app(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/completions", self._completions)
        # On stop, requests still sleeping in a handler are cancelled, not waited for.
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.05)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}/v1"

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = self._thread = None

    def __enter__(self) -> "ScriptedOpenAIServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- handlers ------------------------------------------------------------------------------

    async def _chat(self, request: web.Request) -> web.Response:
        return await self._handle(request, chat=True)

    async def _completions(self, request: web.Request) -> web.Response:
        return await self._handle(request, chat=False)

    async def _handle(self, request: web.Request, *, chat: bool) -> web.Response:
        body = await request.json()
        with self._lock:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            latency = self.latency(body) if callable(self.latency) else self.latency
            if latency:
                await asyncio.sleep(latency)
            answer = self.responder(body)
            if isinstance(answer, Fault):
                return await self._fault(answer)
            n = int(body.get("n", 1) or 1)
            texts = [answer] * n if isinstance(answer, str) else list(answer)
            texts = [_apply_stop(t, body.get("stop")) for t in texts]
            choices = [
                {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop"}
                if chat else {"index": i, "text": t, "finish_reason": "stop", "logprobs": None}
                for i, t in enumerate(texts)
            ]
            prompt_tokens = _words(body.get("messages") if chat else body.get("prompt"))
            completion_tokens = sum(_words(t) for t in texts)
            reply = {
                "id": f"cmpl-{len(self.requests)}",
                "object": "chat.completion" if chat else "text_completion",
                "created": 0,
                "model": body.get("model", ""),
                "choices": choices,
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                          "total_tokens": prompt_tokens + completion_tokens},
            }
            return web.json_response(reply)
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _fault(self, fault: Fault) -> web.Response:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        if fault.malformed:
            return web.Response(status=200, text=fault.body if fault.body is not None else "<html>oops",
                                content_type="application/json", headers=headers)
        body = fault.body if fault.body is not None else json.dumps(
            {"error": {"message": f"scripted fault {fault.status}", "type": "server_error", "code": fault.status}})
        return web.Response(status=fault.status, text=body, content_type="application/json", headers=headers)
