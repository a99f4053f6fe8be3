"""Turn many concurrent single requests into a few batched calls of a blocking function.

An async pipeline has one task per theorem, each asking for one completion (or one proof
check) at a time. Backends that work in batches (vLLM offline, HF transformers, the Lean REPL
pool) are fastest when given many at once, so `MicroBatcher` gathers what arrives within
`max_wait` seconds (up to `max_batch` items), runs the blocking function once on a worker
thread, and hands each caller its own result. Batches run one at a time: the backend behind
them (a GPU, a process pool) is not shared between two calls.

    agen = as_async(make_generator(cfg))       # has .agenerate(prompts, sampling) in any case
"""

from __future__ import annotations

import asyncio
from typing import Callable


class MicroBatcher:
    """`await submit(item)` -> `fn([... item ...])[i]`, with concurrent submits batched together."""

    def __init__(self, fn: Callable[[list], list], *, max_batch: int = 64, max_wait: float = 0.02):
        self.fn = fn
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._pending: list[tuple[object, asyncio.Future]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._lock: asyncio.Lock | None = None
        self.batches = 0
        """How many batched calls were made (for tests and tuning)."""

    async def submit(self, item):
        loop = asyncio.get_running_loop()
        if self._lock is None:
            self._lock = asyncio.Lock()
        future = loop.create_future()
        self._pending.append((item, future))
        if len(self._pending) >= self.max_batch:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.max_wait, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
        if batch:
            asyncio.ensure_future(self._run(batch))
        if self._pending:
            self._timer = asyncio.get_running_loop().call_later(self.max_wait, self._flush)

    async def _run(self, batch: list[tuple[object, asyncio.Future]]) -> None:
        async with self._lock:
            self.batches += 1
            try:
                results = await asyncio.to_thread(self.fn, [item for item, _ in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"batched call returned {len(results)} results for {len(batch)} items")
            except BaseException as e:
                for _, f in batch:
                    if not f.done():
                        f.set_exception(e)
                return
        for (_, f), r in zip(batch, results):
            if not f.done():
                f.set_result(r)


class BatchingGenerator:
    """An async face (`agenerate`) for a blocking `Generator`, batching concurrent calls that
    share the same sampling parameters into one `generate` call."""

    def __init__(self, generator, *, max_batch: int = 256, max_wait: float = 0.05):
        self.generator = generator
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._batchers: dict[str, MicroBatcher] = {}

    @property
    def usage(self):
        return self.generator.usage

    async def agenerate(self, prompts: list, sampling) -> list[list[str]]:
        key = repr(sampling)
        if key not in self._batchers:
            self._batchers[key] = MicroBatcher(lambda ps, s=sampling: self.generator.generate(ps, s),
                                               max_batch=self.max_batch, max_wait=self.max_wait)
        batcher = self._batchers[key]
        return list(await asyncio.gather(*(batcher.submit(p) for p in prompts)))

    def close(self) -> None:
        self.generator.close()


def as_async(generator, **batching):
    """The generator itself if it has a native `agenerate`, else a `BatchingGenerator` around it."""
    if hasattr(generator, "agenerate"):
        return generator
    return BatchingGenerator(generator, **batching)
