"""Offline batched generation with vLLM on the local GPUs (`pip install theoremllama[vllm]`).

    gen = VLLMGenerator("deepseek-ai/DeepSeek-Prover-V1.5-SFT", tensor_parallel_size=2)
    outs = gen.generate(prompts, Sampling(n=32, temperature=1.0, max_tokens=2048))

All prompts go to vLLM in one call: its scheduler batches them far better than we could.
String prompts are completed as they are; chat-message prompts go through `LLM.chat`, which
applies the model's chat template. For serving many jobs at once, run `vllm serve` and use the
`openai` backend instead.
"""

from __future__ import annotations

import threading

from theoremllama.config import check_model_source
from theoremllama.errors import UserError
from theoremllama.llm.base import Generator, Prompt, Sampling, Usage


class VLLMGenerator(Generator):
    """vLLM's offline `LLM` engine as a `Generator`.

    Args:
        model: HF model id or local directory.
        tensor_parallel_size: GPUs to shard the model over.
        dtype: `auto`, `bfloat16`, `float16`, ...
        max_model_len: context length cap (None: the model's own).
        gpu_memory_utilization: fraction of GPU memory vLLM may take.
        engine_args: further keyword arguments for `vllm.LLM` (e.g. `enable_prefix_caching`).
    """

    def __init__(self, model: str, tensor_parallel_size: int = 1, dtype: str = "auto",
                 max_model_len: int | None = None, *, gpu_memory_utilization: float = 0.9,
                 seed: int = 0, trust_remote_code: bool = False, engine_args: dict | None = None):
        check_model_source(model, "vllm backend: model")  # not a minute of hub retries for a typo
        try:
            import vllm
        except ImportError:
            raise UserError("the vllm backend needs vLLM: pip install 'theoremllama[vllm]' "
                            "(or use backend: openai with a running `vllm serve`)") from None
        self._vllm = vllm
        self.model = model
        self.usage = Usage()
        # One engine, one caller at a time: `LLM` is not thread-safe, and callers may hold threads
        # of their own (an async pipeline's helper threads).
        self._engine_lock = threading.Lock()
        self.llm = vllm.LLM(model=model, tensor_parallel_size=tensor_parallel_size, dtype=dtype,
                            max_model_len=max_model_len, gpu_memory_utilization=gpu_memory_utilization,
                            seed=seed, trust_remote_code=trust_remote_code, **(engine_args or {}))

    def _params(self, sampling: Sampling):
        return self._vllm.SamplingParams(n=sampling.n, temperature=sampling.temperature, top_p=sampling.top_p,
                                         max_tokens=sampling.max_tokens, stop=list(sampling.stop) or None,
                                         seed=sampling.seed)

    def generate(self, prompts: list[Prompt], sampling: Sampling) -> list[list[str]]:
        params = self._params(sampling)
        texts = [i for i, p in enumerate(prompts) if isinstance(p, str)]
        chats = [i for i, p in enumerate(prompts) if not isinstance(p, str)]
        results: list = [None] * len(prompts)
        with self._engine_lock:
            if texts:
                for i, out in zip(texts, self.llm.generate([prompts[i] for i in texts], params, use_tqdm=False)):
                    results[i] = out
            if chats:
                for i, out in zip(chats, self.llm.chat([prompts[i] for i in chats], params, use_tqdm=False)):
                    results[i] = out
        completions = []
        for out in results:
            completions.append([c.text for c in out.outputs])
            self.usage.requests += 1
            self.usage.prompt_tokens += len(out.prompt_token_ids or ())
            self.usage.completion_tokens += sum(len(c.token_ids) for c in out.outputs)
        return completions

    def close(self) -> None:
        self.llm = None
