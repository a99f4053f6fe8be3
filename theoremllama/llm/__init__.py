"""Text generation backends (OpenAI-compatible server, vLLM, HF transformers) and retrieval.

The interface is in `base` (light: configs import `Sampling` from here); `factory.make_generator`
builds a backend and imports them all, with the `openai` SDK (the `llm` extra).
"""

from theoremllama.llm.base import Generator, Prompt, Sampling, Usage  # noqa: F401
