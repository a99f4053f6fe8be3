"""Text generation backends (OpenAI-compatible server, vLLM, HF transformers) and retrieval."""

from theoremllama.llm.base import Generator, Sampling, make_generator  # noqa: F401
