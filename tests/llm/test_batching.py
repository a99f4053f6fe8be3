"""Concurrent single requests batched into few blocking calls (MicroBatcher), and a blocking
HF generator driven from async code through BatchingGenerator."""

import asyncio
import threading

from theoremllama.llm import Sampling
from theoremllama.llm.factory import make_generator
from theoremllama.llm.batching import BatchingGenerator, MicroBatcher, as_async


def test_microbatcher_batches_and_keeps_each_result():
    sizes, threads = [], set()

    def square_all(xs):
        sizes.append(len(xs))
        threads.add(threading.current_thread().name)
        return [x * x for x in xs]

    batcher = MicroBatcher(square_all, max_batch=4, max_wait=0.05)

    async def main():
        return await asyncio.gather(*(batcher.submit(i) for i in range(10)))

    assert asyncio.run(main()) == [i * i for i in range(10)]
    assert sizes == [4, 4, 2] and batcher.batches == 3
    assert threading.main_thread().name not in threads  # the blocking call ran off the event loop


def test_microbatcher_failure_reaches_every_caller():
    def broken(xs):
        raise RuntimeError("backend down")

    batcher = MicroBatcher(broken, max_batch=8, max_wait=0.01)

    async def main():
        return await asyncio.gather(*(batcher.submit(i) for i in range(3)), return_exceptions=True)

    results = asyncio.run(main())
    assert all(isinstance(r, RuntimeError) and "backend down" in str(r) for r in results)


def test_hf_generator_batched_from_async_tasks(tiny_model_dir):
    gen = make_generator({"backend": "hf", "model": tiny_model_dir, "device": "cpu", "batch_size": 16})
    agen = as_async(gen)
    assert isinstance(agen, BatchingGenerator) and agen.usage is gen.usage
    greedy = Sampling(n=1, temperature=0, max_tokens=4)
    prompts = ["theorem foo", "we rewrite", "example : 2", "the proof"]

    async def main():
        return await asyncio.gather(*(agen.agenerate([p], greedy) for p in prompts))

    results = [r[0] for r in asyncio.run(main())]
    assert results == gen.generate(prompts, greedy)
    assert agen.batches == 1 and agen.calls == 1  # four tasks, one generate call
