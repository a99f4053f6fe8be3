"""Turn many concurrent single requests into a few batched calls of a blocking function.

An async pipeline has one task per theorem, each asking for one completion (or one proof
check) at a time. Backends that work in batches (vLLM offline, HF transformers, the Lean REPL
pool) are fastest when given many at once, so `MicroBatcher` gathers what arrives within
`max_wait` seconds (up to `max_batch` items), runs the blocking function once on a worker
thread, and hands each caller its own result. A batcher runs its batches one at a time, and
`BatchingGenerator` puts every request for its backend into one batcher, whatever its sampling
parameters (bootstrap's two stages sample differently): the backend behind it (one vLLM engine,
one GPU) is never entered from two threads at once.

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
    """An async face (`agenerate`) for a blocking `Generator`: concurrent calls go into one queue,
    and each batch becomes one `generate` call per distinct sampling, made one after the other on
    one worker thread."""

    def __init__(self, generator, *, max_batch: int = 256, max_wait: float = 0.05):
        self.generator = generator
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._batcher = MicroBatcher(self._generate_mixed, max_batch=max_batch, max_wait=max_wait)
        self.calls = 0
        """`generate` calls made on the backend (for tests and tuning)."""

    @property
    def usage(self):
        return self.generator.usage

    @property
    def batches(self) -> int:
        return self._batcher.batches

    def _generate_mixed(self, items: list[tuple[object, object]]) -> list[list[str]]:
        """(prompt, sampling) items -> completions, one backend call per distinct sampling."""
        groups: dict[str, list[int]] = {}
        for i, (_, sampling) in enumerate(items):
            groups.setdefault(repr(sampling), []).append(i)
        results: list = [None] * len(items)
        for indices in groups.values():
            sampling = items[indices[0]][1]
            self.calls += 1
            outs = self.generator.generate([items[i][0] for i in indices], sampling)
            if len(outs) != len(indices):
                raise RuntimeError(f"the generator returned {len(outs)} results for {len(indices)} prompts")
            for i, out in zip(indices, outs):
                results[i] = out
        return results

    async def agenerate(self, prompts: list, sampling) -> list[list[str]]:
        return list(await asyncio.gather(*(self._batcher.submit((p, sampling)) for p in prompts)))

    def close(self) -> None:
        self.generator.close()


def as_async(generator, **batching):
    """The generator itself if it has a native `agenerate`, else a `BatchingGenerator` around it."""
    if hasattr(generator, "agenerate"):
        return generator
    return BatchingGenerator(generator, **batching)
