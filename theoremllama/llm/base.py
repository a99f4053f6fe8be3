"""The one generation interface every stage uses.

    gen = make_generator({"backend": "openai", "model": "...", "base_url": "..."})
    outs = gen.generate(prompts, Sampling(n=4, temperature=0.7))   # outs[i][j]: j-th sample of prompt i

A prompt is either a plain string (completion-style) or a list of chat messages
(`[{"role": "system"|"user"|"assistant", "content": str}, ...]`).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Union

Prompt = Union[str, list[dict]]


@dataclass
class Sampling:
    """Sampling parameters shared by all backends."""

    n: int = 1
    """Completions per prompt."""
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 1024
    stop: list[str] = field(default_factory=list)
    seed: int | None = None


@dataclass
class Usage:
    """Token counts accumulated by a generator (where the backend reports them)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0


class Generator(abc.ABC):
    """A text generator. Implementations must return exactly `n` strings per prompt, in order."""

    usage: Usage

    @abc.abstractmethod
    def generate(self, prompts: list[Prompt], sampling: Sampling) -> list[list[str]]:
        ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (connections, GPU memory)."""


def make_generator(config: dict) -> Generator:
    """Build a generator from a config mapping with a `backend` key (`openai`, `vllm`, `hf`)."""
    from theoremllama.errors import UserError

    backend = (config or {}).get("backend")
    options = {k: v for k, v in config.items() if k != "backend"}
    if backend == "openai":
        from theoremllama.llm.openai_backend import OpenAIGenerator
        return OpenAIGenerator(**options)
    if backend == "vllm":
        from theoremllama.llm.vllm_backend import VLLMGenerator
        return VLLMGenerator(**options)
    if backend == "hf":
        from theoremllama.llm.hf_backend import HFGenerator
        return HFGenerator(**options)
    raise UserError(f"unknown LLM backend {backend!r}: expected one of 'openai', 'vllm', 'hf'")
