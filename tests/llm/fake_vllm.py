"""A stand-in for the `vllm` package (not installed here) at the library boundary, for tests only.

It has the shapes theoremllama uses, as in vLLM's source (vllm/entrypoints/llm.py, vllm/outputs.py,
vllm/sampling_params.py): `LLM(model=..., **engine_args)` with `generate(prompts, sampling_params,
use_tqdm=...)` and `chat(messages, sampling_params, use_tqdm=...)`, each returning one
`RequestOutput` per prompt (`prompt_token_ids`, `outputs`: `CompletionOutput`s with `text` and
`token_ids`), and `SamplingParams(n=..., temperature=..., ...)`.

Like the real engine it is not thread-safe: every call records whether another call was inside
the engine at the same time (`LLM.overlaps`), so a test can fail when two threads enter it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class SamplingParams:
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 16
    stop: list | None = None
    seed: int | None = None


@dataclass
class CompletionOutput:
    text: str
    token_ids: list = field(default_factory=list)


@dataclass
class RequestOutput:
    prompt_token_ids: list
    outputs: list


class LLM:
    instances: list = []

    def __init__(self, model: str, **engine_args):
        self.model, self.engine_args = model, engine_args
        self.answer = lambda prompt, params: f"completion of {len(str(prompt))} chars at T={params.temperature}"
        self.inside = 0
        self.overlaps = 0
        self.calls: list[tuple[int, float]] = []  # (prompts, temperature) per call
        self._guard = threading.Lock()
        LLM.instances.append(self)

    def _enter(self) -> None:
        with self._guard:
            self.inside += 1
            if self.inside > 1:
                self.overlaps += 1

    def _exit(self) -> None:
        with self._guard:
            self.inside -= 1

    def _run(self, prompts: list, params: SamplingParams) -> list[RequestOutput]:
        self._enter()
        try:
            time.sleep(0.02)  # a GPU step: long enough for another thread to come in
            self.calls.append((len(prompts), params.temperature))
            return [RequestOutput(prompt_token_ids=[1, 2, 3],
                                  outputs=[CompletionOutput(self.answer(p, params), [4, 5]) for _ in range(params.n)])
                    for p in prompts]
        finally:
            self._exit()

    def generate(self, prompts, sampling_params, use_tqdm=True):
        return self._run(list(prompts), sampling_params)

    def chat(self, messages, sampling_params, use_tqdm=True):
        return self._run(list(messages), sampling_params)
