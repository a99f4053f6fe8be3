"""Generation through any OpenAI-compatible HTTP server (vLLM `serve`, TGI, SGLang, hosted APIs).

    gen = OpenAIGenerator("deepseek-ai/DeepSeek-Prover-V1.5-RL", base_url="http://gpu-node:8000/v1")
    outs = gen.generate(prompts, Sampling(n=8, temperature=1.0))          # blocking
    outs = await gen.agenerate(prompts, sampling)                          # inside a pipeline
    for i, completions in gen.generate_stream(prompts, sampling): ...      # as each prompt finishes

Requests go through the official `openai` SDK (`AsyncOpenAI`): it retries rate limits (429,
honouring `Retry-After`), 408/409, server errors (5xx), timeouts and dropped connections with
exponential backoff and jitter; other 4xx replies are the caller's mistake and fail at once.
This module adds what the SDK does not do: at most `concurrency` requests in flight, a retry of
replies that arrive with status 200 but are not a completion, asking again when a server returns
fewer than `n` choices, and token usage summed over all requests.
The API key is read from the environment variable named by `api_key_env` (`OPENAI_API_KEY` by
default) and is never logged; `OPENAI_BASE_URL` is the server when `base_url` is not given.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import queue
import random
import threading
from typing import AsyncIterator, Iterator

import openai
from openai._base_client import get_platform

from theoremllama.errors import UserError
from theoremllama.llm.base import Generator, Prompt, Sampling, Usage

DEFAULT_BASE_URL = "http://localhost:8000/v1"
"""`vllm serve`'s address, used when neither `base_url` nor `$OPENAI_BASE_URL` is given."""

_NO_KEY = "no-key"
"""The SDK refuses to start without a key: with none, this stands in and no header is sent."""


class GenerationError(UserError):
    """The server could not produce an answer (after retries, or a non-retryable reply)."""


class _MalformedReply(Exception):
    """A 200 reply that is not a completion (a proxy's HTML page, a body without `choices`)."""


def _backoff(base: float, cap: float, attempt: int) -> float:
    """Seconds to wait before retry `attempt` (0-based): exponential, capped, with the SDK's jitter."""
    return min(cap, base * 2 ** attempt) * random.uniform(0.75, 1.0)


class _Client(openai.AsyncOpenAI):
    """`AsyncOpenAI` with a configurable backoff, sending concurrent requests in the order they
    were made. The SDK has no public setting for either: this touches two of its internals."""

    backoff_base = 0.5
    backoff_max = 8.0

    def __init__(self, **options):
        super().__init__(**options)
        # Else the first request looks the platform up (for the User-Agent headers) on a worker
        # thread, and concurrent first requests overtake each other on the way out.
        self._platform = get_platform()

    def _calculate_retry_timeout(self, remaining_retries, options, response_headers=None) -> float:
        """The SDK's hook before each retry (it fixes the first wait at 0.5 s)."""
        if response_headers is not None and ("retry-after" in response_headers
                                             or "retry-after-ms" in response_headers):
            # The server said how long to wait: the SDK's own rule (capped at two minutes).
            return super()._calculate_retry_timeout(remaining_retries, options, response_headers)
        return _backoff(self.backoff_base, self.backoff_max, self.max_retries - remaining_retries)


class OpenAIGenerator(Generator):
    """An OpenAI-compatible server as a `Generator`.

    Args:
        model: model name the server knows (vLLM: the `--served-model-name` or model path).
        base_url: server root including `/v1` (default: `$OPENAI_BASE_URL`, else `vllm serve`'s
            `http://localhost:8000/v1`).
        api_key_env: environment variable holding the API key (`Authorization: Bearer ...`); unset
            or empty means no key is sent (local vLLM needs none).
        concurrency: most requests in flight at once.
        max_retries: retries per request after the first attempt.
        timeout: seconds for one request to connect, and then to answer.
        chat: use `/v1/chat/completions` (string prompts become one user message); with False,
            `/v1/completions` for string prompts (chat-message prompts then need chat=True).
        backoff_base, backoff_max: the wait before retry `a` (0-based) is
            `min(backoff_max, backoff_base * 2**a)` scaled by a random factor in [0.75, 1], or the
            server's `Retry-After` when it gives one (a server asking for more than two minutes is
            not retried: the SDK's rule).
        extra_body: extra JSON fields for every request (e.g. `{"repetition_penalty": 1.05}`).
    """

    def __init__(self, model: str, base_url: str | None = None, *,
                 api_key_env: str = "OPENAI_API_KEY", concurrency: int = 64, max_retries: int = 6,
                 timeout: float = 120, chat: bool = True, backoff_base: float = 0.5,
                 backoff_max: float = 30.0, extra_body: dict | None = None):
        if concurrency < 1:
            raise UserError(f"openai backend: concurrency must be >= 1, got {concurrency}")
        if max_retries < 0:
            raise UserError(f"openai backend: max_retries must be >= 0, got {max_retries}")
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.api_key_env = api_key_env
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.timeout = timeout
        self.chat = chat
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.extra_body = dict(extra_body or {})
        self.usage = Usage()
        # The client's connections and the semaphore belong to one event loop; each `generate`
        # call runs its own loop, so they are rebuilt when the loop changes.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: _Client | None = None
        self._semaphore: asyncio.Semaphore | None = None

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIGenerator(model={self.model!r}, base_url={self.base_url!r}, concurrency={self.concurrency})"

    # -- async API ------------------------------------------------------------------------------

    async def agenerate(self, prompts: list[Prompt], sampling: Sampling) -> list[list[str]]:
        """All prompts concurrently; `result[i]` holds the `n` completions of `prompts[i]`."""
        return list(await asyncio.gather(*(self.agenerate_one(p, sampling) for p in prompts)))

    async def astream(self, prompts: list[Prompt], sampling: Sampling) -> AsyncIterator[tuple[int, list[str]]]:
        """Yield `(index, completions)` for each prompt as soon as it is done."""
        async def indexed(i: int, p: Prompt) -> tuple[int, list[str]]:
            return i, await self.agenerate_one(p, sampling)

        tasks = [asyncio.ensure_future(indexed(i, p)) for i, p in enumerate(prompts)]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:  # the consumer stopped early (or one failed): the rest end before this returns
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def agenerate_one(self, prompt: Prompt, sampling: Sampling) -> list[str]:
        """Exactly `sampling.n` completions of one prompt (asking again if the server sends fewer)."""
        body = self._body(prompt)
        got: list[str] = []
        while len(got) < sampling.n:
            want = sampling.n - len(got)
            request = dict(body, n=want, temperature=sampling.temperature, top_p=sampling.top_p,
                           max_tokens=sampling.max_tokens)
            if sampling.stop:
                request["stop"] = list(sampling.stop)
            if sampling.seed is not None:
                # A top-up request with the same seed would repeat the samples already received.
                request["seed"] = sampling.seed + len(got)
            texts = await self._request(request)
            if not texts:
                raise GenerationError(f"{self._url(request)} returned no choices for a request with n={want}")
            got.extend(texts[:want])
        return got

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
        self._client = self._loop = self._semaphore = None

    # -- blocking API ---------------------------------------------------------------------------

    def generate(self, prompts: list[Prompt], sampling: Sampling) -> list[list[str]]:
        async def main() -> list[list[str]]:
            try:
                return await self.agenerate(prompts, sampling)
            finally:
                await self.aclose()

        return _run_blocking(main())

    def generate_stream(self, prompts: list[Prompt], sampling: Sampling) -> Iterator[tuple[int, list[str]]]:
        """Blocking iterator of `(index, completions)` in completion order (the event loop runs in a
        helper thread), so a caller can hand finished prompts to verifiers while others generate.
        Stopping early (`close()`, `break`) cancels the requests still in flight."""
        results: queue.Queue = queue.Queue()
        done = object()

        async def stream() -> None:  # the part that the consumer may cancel
            async for item in self.astream(prompts, sampling):
                results.put(item)

        async def produce(streaming: asyncio.Task) -> None:  # ... but never the clean-up after it
            try:
                await streaming
            except asyncio.CancelledError:
                pass  # the consumer stopped early
            except BaseException as e:  # hand the failure to the consuming thread
                results.put(e)
            finally:
                await self.aclose()
                results.put(done)

        # This thread creates the loop and closes it only after the helper thread has finished, so
        # the loop is open whenever this thread asks it to cancel the streaming.
        loop = asyncio.new_event_loop()
        streaming = loop.create_task(stream())
        producer = loop.create_task(produce(streaming))
        thread = threading.Thread(target=_run_to_end, args=(loop, producer), name="openai-stream", daemon=True)
        thread.start()
        try:
            while (item := results.get()) is not done:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            loop.call_soon_threadsafe(streaming.cancel)  # a no-op when it has finished
            thread.join()
            loop.close()

    def close(self) -> None:
        if self._client is not None and self._loop is not None and not self._loop.is_closed():
            try:
                asyncio.run_coroutine_threadsafe(self.aclose(), self._loop).result(5)
            except Exception:  # the loop is not running: nothing to clean up from here
                pass
        self._client = self._loop = self._semaphore = None

    # -- internals ------------------------------------------------------------------------------

    def _body(self, prompt: Prompt) -> dict:
        if isinstance(prompt, str):
            return {"messages": [{"role": "user", "content": prompt}]} if self.chat else {"prompt": prompt}
        if isinstance(prompt, list):
            if not self.chat:
                raise UserError("openai backend: chat-message prompts need chat: true "
                                "(chat: false sends plain-text prompts to /v1/completions)")
            return {"messages": prompt}
        raise UserError(f"openai backend: a prompt must be a string or a list of chat messages, "
                        f"got {type(prompt).__name__}")

    def _url(self, request: dict) -> str:
        return self.base_url + ("/chat/completions" if "messages" in request else "/completions")

    def _state(self) -> tuple[_Client, asyncio.Semaphore]:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._client is None:
            key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
            # Its aiohttp transport is the one it recommends for many concurrent requests (httpx
            # also resolves host names on worker threads: concurrent requests leave out of order).
            client = _Client(api_key=key or _NO_KEY, base_url=self.base_url, max_retries=self.max_retries,
                             timeout=self.timeout, http_client=openai.DefaultAioHttpClient())
            client.backoff_base, client.backoff_max = self.backoff_base, self.backoff_max
            self._client, self._semaphore, self._loop = client, asyncio.Semaphore(self.concurrency), loop
        return self._client, self._semaphore

    async def _request(self, request: dict) -> list[str]:
        """The texts of one reply. The SDK retries failed requests; this retries malformed replies."""
        client, semaphore = self._state()
        options = {"extra_headers": {"Authorization": openai.Omit()} if client.api_key == _NO_KEY else None,
                   "extra_body": self.extra_body or None}
        create = client.chat.completions.create if "messages" in request else client.completions.create
        last = ""
        for attempt in range(self.max_retries + 1):
            try:
                # The slot stays taken while the SDK waits to retry: under rate limits, fewer
                # requests in flight is what the server asks for.
                async with semaphore:
                    reply = await create(model=self.model, **request, **options)
                return self._texts(reply, chat="messages" in request)
            except _MalformedReply as e:
                last = str(e)
            except (json.JSONDecodeError, openai.APIResponseValidationError) as e:
                last = f"malformed reply ({type(e).__name__}: {e})"
            except (openai.APIStatusError, openai.APITimeoutError, openai.APIConnectionError) as e:
                raise GenerationError(self._failure(request, e)) from None
            if attempt < self.max_retries:
                await asyncio.sleep(_backoff(self.backoff_base, self.backoff_max, attempt))
        raise GenerationError(f"{self._url(request)}: no valid reply after {self.max_retries + 1} attempts "
                              f"(last: {last})")

    def _failure(self, request: dict, e: openai.APIError) -> str:
        """One line for a request the SDK gave up on: a status the caller must fix (401, 404, ...)
        or the last of its attempts (the SDK numbers them in a request header)."""
        if isinstance(e, openai.APIStatusError):
            status, text = e.status_code, e.response.text[:300]
            if not (status in (408, 409, 429) or status >= 500):  # not retried: the caller's mistake
                hint = f" (check the API key in ${self.api_key_env})" if status in (401, 403) else ""
                return f"{self._url(request)}: HTTP {status}{hint}: {text}"
            last, sent = f"HTTP {status}: {text}", e.response.request
        else:
            last, sent = f"{type(e).__name__}: {e}", e.request
        attempts = int(sent.headers.get("x-stainless-retry-count", self.max_retries)) + 1
        return f"{self._url(request)}: no valid reply after {attempts} attempt{'s' * (attempts != 1)} (last: {last})"

    def _texts(self, reply, *, chat: bool) -> list[str]:
        """The completions of a parsed reply, in choice order; usage counted."""
        choices = getattr(reply, "choices", None)
        if not isinstance(choices, list):
            raise _MalformedReply(f"malformed reply (no 'choices' list): {str(reply)[:200]!r}")
        texts = []
        for choice in sorted(choices, key=lambda c: getattr(c, "index", None) or 0):
            part = getattr(choice, "message", None) if chat else choice
            if part is None or not hasattr(part, "content" if chat else "text"):
                raise _MalformedReply(f"malformed reply (a choice without its text): {str(choice)[:200]!r}")
            texts.append((part.content if chat else part.text) or "")
        usage = getattr(reply, "usage", None)
        self.usage.requests += 1
        self.usage.prompt_tokens += int(getattr(usage, "prompt_tokens", 0) or 0)
        self.usage.completion_tokens += int(getattr(usage, "completion_tokens", 0) or 0)
        return texts


def _run_to_end(loop: asyncio.AbstractEventLoop, task: asyncio.Task) -> None:
    """Run `task` on `loop` in this thread, then shut down what `asyncio.run` would (async
    generators, the default executor used by DNS lookups); closing the loop is left to its creator."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(task)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        asyncio.set_event_loop(None)


def _run_blocking(coro):
    """Run a coroutine to completion from synchronous code, even when called from inside a
    running event loop (Jupyter, an async pipeline): then it runs on a helper thread's loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
