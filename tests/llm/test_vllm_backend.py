"""The vLLM backend is optional: without vllm installed it must fail with a clear UserError."""

import importlib.util

import pytest

from theoremllama.errors import UserError
from theoremllama.llm.factory import make_generator


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed")
def test_missing_vllm_is_a_user_error():
    with pytest.raises(UserError, match="pip install 'theoremllama\\[vllm\\]'"):
        make_generator({"backend": "vllm", "model": "some/model"})


def test_unknown_backend_is_a_user_error():
    with pytest.raises(UserError, match="unknown LLM backend 'llama.cpp'"):
        make_generator({"backend": "llama.cpp"})


# -- one engine, one caller at a time (the fake `vllm` stands in at the library boundary) -------

import asyncio  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

from theoremllama.llm import Sampling  # noqa: E402
from theoremllama.llm.batching import as_async  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import fake_vllm  # noqa: E402


@pytest.fixture
def vllm_engine(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", fake_vllm)
    fake_vllm.LLM.instances.clear()
    return fake_vllm


def test_two_samplings_from_many_tasks_share_one_queue_into_one_engine(vllm_engine):
    """Bootstrap's informalize and weave stages sample differently and run concurrently."""
    agen = as_async(make_generator({"backend": "vllm", "model": "m"}))
    informal, weave = Sampling(temperature=0.7, max_tokens=8), Sampling(temperature=0.3, max_tokens=8)

    async def main():
        return await asyncio.gather(*(agen.agenerate([f"p{i}"], informal if i % 2 else weave) for i in range(40)))

    results = asyncio.run(main())
    engine = vllm_engine.LLM.instances[0]
    assert len(vllm_engine.LLM.instances) == 1 and engine.overlaps == 0
    assert [r[0][0].endswith("T=0.7") for r in results] == [i % 2 == 1 for i in range(40)]
    assert sum(n for n, _ in engine.calls) == 40 and len(engine.calls) <= 4  # batched, per sampling


def test_threads_calling_the_generator_at_once_enter_the_engine_one_at_a_time(vllm_engine):
    gen = make_generator({"backend": "vllm", "model": "m"})
    threads = [threading.Thread(target=gen.generate, args=([[{"role": "user", "content": "x"}]], Sampling()))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine = vllm_engine.LLM.instances[0]
    assert len(engine.calls) == 4 and engine.overlaps == 0


class _LocklessBackend:
    """A blocking backend with no lock of its own (like HF transformers' generate)."""

    def __init__(self):
        self.engine = fake_vllm.LLM("m")
        self.usage = None

    def generate(self, prompts, sampling):
        params = fake_vllm.SamplingParams(n=sampling.n, temperature=sampling.temperature)
        return [[c.text for c in out.outputs] for out in self.engine.generate(prompts, params)]

    def close(self):
        pass


def test_the_batching_layer_alone_never_runs_two_calls_at_once():
    backend = _LocklessBackend()
    agen = as_async(backend)
    samplings = [Sampling(temperature=t) for t in (0.1, 0.5, 0.9)]

    async def main():
        await asyncio.gather(*(agen.agenerate([f"p{i}"], samplings[i % 3]) for i in range(30)))

    asyncio.run(main())
    assert backend.engine.overlaps == 0 and sum(n for n, _ in backend.engine.calls) == 30
