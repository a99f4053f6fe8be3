"""Build a `Generator` from the `llm:` section of a config.

    gen = make_generator({"backend": "openai", "model": "...", "base_url": "..."})
"""

from __future__ import annotations

from theoremllama.errors import UserError
from theoremllama.llm.base import Generator
from theoremllama.llm.hf_backend import HFGenerator
from theoremllama.llm.openai_backend import OpenAIGenerator
from theoremllama.llm.vllm_backend import VLLMGenerator

BACKENDS = {"openai": OpenAIGenerator, "vllm": VLLMGenerator, "hf": HFGenerator}


def make_generator(config: dict) -> Generator:
    """A generator from a config mapping with a `backend` key (`openai`, `vllm`, `hf`); the other
    keys are the backend's options."""
    backend = (config or {}).get("backend")
    if backend not in BACKENDS:
        raise UserError(f"unknown LLM backend {backend!r}: expected one of {', '.join(map(repr, BACKENDS))}")
    return BACKENDS[backend](**{k: v for k, v in config.items() if k != "backend"})
