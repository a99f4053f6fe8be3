"""Generation through any OpenAI-compatible HTTP server (vLLM `serve`, TGI, SGLang, hosted APIs).

    gen = OpenAIGenerator("deepseek-ai/DeepSeek-Prover-V1.5-RL", base_url="http://gpu-node:8000/v1")
    outs = gen.generate(prompts, Sampling(n=8, temperature=1.0))          # blocking
    outs = await gen.agenerate(prompts, sampling)                          # inside a pipeline
    for i, completions in gen.generate_stream(prompts, sampling): ...      # as each prompt finishes

Requests run concurrently (aiohttp), at most `concurrency` in flight. Each request is retried with
exponential backoff and jitter on rate limits (429, honouring `Retry-After`), server errors
(5xx), timeouts, dropped connections and malformed bodies; other 4xx replies are the caller's
mistake and fail at once. A server that returns fewer than `n` choices is asked for the rest.
The API key is read from the environment variable named by `api_key_env` and is never logged.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import json
import os
import queue
import random
import threading
import time
from typing import AsyncIterator, Iterator

import aiohttp

from theoremllama.errors import UserError
from theoremllama.llm.base import Generator, Prompt, Sampling, Usage

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class GenerationError(UserError):
    """The server could not produce an answer (after retries, or a non-retryable reply)."""


class _Retryable(Exception):
    """A failed attempt worth retrying; `retry_after` is the server's requested wait, if any."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def _parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` is either seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class OpenAIGenerator(Generator):
    """An OpenAI-compatible server as a `Generator`.

    Args:
        model: model name the server knows (vLLM: the `--served-model-name` or model path).
        base_url: server root including `/v1`.
        api_key_env: environment variable holding the API key (`Authorization: Bearer ...`); unset
            or empty means no key is sent (local vLLM needs none).
        concurrency: most requests in flight at once.
        max_retries: retries per request after the first attempt.
        timeout: seconds for one request (connect + reply).
        chat: use `/v1/chat/completions` (string prompts become one user message); with False,
            `/v1/completions` for string prompts (chat-message prompts then need chat=True).
        backoff_base, backoff_max: the wait before retry `a` (0-based) is
            `min(backoff_max, backoff_base * 2**a)` scaled by a random factor in [0.5, 1], or the
            server's `Retry-After` when it gives one (capped at `retry_after_max`).
        extra_body: extra JSON fields for every request (e.g. `{"repetition_penalty": 1.05}`).
    """

    def __init__(self, model: str, base_url: str = "http://localhost:8000/v1", *,
                 api_key_env: str = "OPENAI_API_KEY", concurrency: int = 64, max_retries: int = 6,
                 timeout: float = 120, chat: bool = True, backoff_base: float = 0.5,
                 backoff_max: float = 30.0, retry_after_max: float = 120.0,
                 extra_body: dict | None = None):
        if concurrency < 1:
            raise UserError(f"openai backend: concurrency must be >= 1, got {concurrency}")
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.timeout = timeout
        self.chat = chat
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_after_max = retry_after_max
        self.extra_body = dict(extra_body or {})
        self.usage = Usage()
        # The session and semaphore belong to one event loop; they are rebuilt on another loop.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
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
        finally:
            for t in tasks:
                t.cancel()

    async def agenerate_one(self, prompt: Prompt, sampling: Sampling) -> list[str]:
        """Exactly `sampling.n` completions of one prompt (asking again if the server sends fewer)."""
        body = self._body(prompt)
        path = "/chat/completions" if "messages" in body else "/completions"
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
            texts = await self._request_with_retries(path, request)
            if not texts:
                raise GenerationError(f"{self.base_url}{path} returned no choices for a request with n={want}")
            got.extend(texts[:want])
        return got

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = self._loop = self._semaphore = None

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
        helper thread), so a caller can hand finished prompts to verifiers while others generate."""
        results: queue.Queue = queue.Queue()
        done = object()
        running: dict = {}

        async def main() -> None:
            running["loop"], running["task"] = asyncio.get_running_loop(), asyncio.current_task()
            try:
                async for item in self.astream(prompts, sampling):
                    results.put(item)
            except asyncio.CancelledError:
                pass  # the consumer stopped early
            except BaseException as e:  # hand the failure to the consuming thread
                results.put(e)
            finally:
                await self.aclose()
                results.put(done)

        thread = threading.Thread(target=lambda: asyncio.run(main()), name="openai-stream", daemon=True)
        thread.start()
        try:
            while (item := results.get()) is not done:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            if thread.is_alive() and "task" in running:  # stop the requests still in flight
                running["loop"].call_soon_threadsafe(running["task"].cancel)
            thread.join()

    def close(self) -> None:
        if self._session is not None and self._loop is not None and not self._loop.is_closed():
            try:
                asyncio.run_coroutine_threadsafe(self.aclose(), self._loop).result(5)
            except Exception:  # the loop is not running: nothing to clean up from here
                pass
        self._session = self._loop = self._semaphore = None

    # -- internals ------------------------------------------------------------------------------

    def _body(self, prompt: Prompt) -> dict:
        body = {"model": self.model, **self.extra_body}
        if isinstance(prompt, str):
            if self.chat:
                body["messages"] = [{"role": "user", "content": prompt}]
            else:
                body["prompt"] = prompt
        elif isinstance(prompt, list):
            if not self.chat:
                raise UserError("openai backend: chat-message prompts need chat: true "
                                "(chat: false sends plain-text prompts to /v1/completions)")
            body["messages"] = prompt
        else:
            raise UserError(f"openai backend: a prompt must be a string or a list of chat messages, "
                            f"got {type(prompt).__name__}")
        return body

    def _state(self) -> tuple[aiohttp.ClientSession, asyncio.Semaphore]:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._session is None or self._session.closed:
            headers = {"Content-Type": "application/json"}
            key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
            if key:
                headers["Authorization"] = f"Bearer {key}"
            connector = aiohttp.TCPConnector(limit=self.concurrency)
            self._session = aiohttp.ClientSession(headers=headers, connector=connector,
                                                  timeout=aiohttp.ClientTimeout(total=self.timeout))
            self._semaphore = asyncio.Semaphore(self.concurrency)
            self._loop = loop
        return self._session, self._semaphore

    async def _request_with_retries(self, path: str, request: dict) -> list[str]:
        session, semaphore = self._state()
        url = self.base_url + path
        last = ""
        for attempt in range(self.max_retries + 1):
            try:
                async with semaphore:
                    return await self._request_once(session, url, request)
            except _Retryable as e:
                last = str(e)
                wait = e.retry_after
            except (asyncio.TimeoutError, aiohttp.ClientError) as e:
                last = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
                wait = None
            if attempt == self.max_retries:
                break
            if wait is None:
                wait = min(self.backoff_max, self.backoff_base * 2 ** attempt) * random.uniform(0.5, 1.0)
            await asyncio.sleep(min(wait, self.retry_after_max))
        raise GenerationError(f"{url}: no valid reply after {self.max_retries + 1} attempts (last: {last})")

    async def _request_once(self, session: aiohttp.ClientSession, url: str, request: dict) -> list[str]:
        async with session.post(url, json=request) as reply:
            text = await reply.text()
            if reply.status in RETRYABLE_STATUS:
                raise _Retryable(f"HTTP {reply.status}: {text[:200]}",
                                 _parse_retry_after(reply.headers.get("Retry-After")))
            if reply.status != 200:
                hint = " (check the API key in $" + self.api_key_env + ")" if reply.status in (401, 403) else ""
                raise GenerationError(f"{url}: HTTP {reply.status}{hint}: {text[:300]}")
        try:
            data = json.loads(text)
            choices = data["choices"]
            if not isinstance(choices, list):
                raise TypeError("'choices' is not a list")
            choices = sorted(choices, key=lambda c: c.get("index", 0))
            if "messages" in request:
                texts = [c["message"].get("content") or "" for c in choices]
            else:
                texts = [c["text"] or "" for c in choices]
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise _Retryable(f"malformed reply ({type(e).__name__}: {e}): {text[:200]!r}") from None
        usage = data.get("usage") or {}
        self.usage.requests += 1
        self.usage.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        self.usage.completion_tokens += int(usage.get("completion_tokens") or 0)
        return texts


def _run_blocking(coro):
    """Run a coroutine to completion from synchronous code, even when called from inside a
    running event loop (Jupyter, an async pipeline): then it runs on a helper thread's loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
