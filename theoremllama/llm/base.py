"""The one generation interface every stage uses (the backends implement it; build one with
`theoremllama.llm.factory.make_generator`).

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

