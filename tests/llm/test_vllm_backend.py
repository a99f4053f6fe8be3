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
