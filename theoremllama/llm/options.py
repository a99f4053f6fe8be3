"""Which `llm:` config keys a backend takes, so switching backends with `--set llm.backend=...`
does not end in `unexpected keyword argument 'base_url'`.

    options, dropped = backend_options({"backend": "hf", "model": "m", "base_url": "http://..."})
    # options == {"backend": "hf", "model": "m"}; dropped == ["base_url"] (an openai option)

A key that another backend takes is dropped (the caller says so in a note): configs carry the
options of their usual backend. A key no backend takes is a typo and a `UserError` naming it.
"""

from __future__ import annotations

import importlib
import inspect

from theoremllama.errors import UserError

BACKENDS = {"openai": ("theoremllama.llm.openai_backend", "OpenAIGenerator"),
            "vllm": ("theoremllama.llm.vllm_backend", "VLLMGenerator"),
            "hf": ("theoremllama.llm.hf_backend", "HFGenerator")}


def accepted_keys(backend: str) -> set[str] | None:
    """The constructor arguments of a backend's generator (None: it takes any keyword)."""
    module, name = BACKENDS[backend]
    cls = getattr(importlib.import_module(module), name)
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def backend_options(llm: dict, *, where: str = "llm") -> tuple[dict, list[str]]:
    """(the config with only the keys its backend takes, the keys dropped as another backend's)."""
    backend = llm.get("backend")
    if backend not in BACKENDS:
        raise UserError(f"{where}.backend: unknown LLM backend {backend!r}: expected one of "
                        f"{', '.join(repr(b) for b in BACKENDS)}")
    own = accepted_keys(backend)
    if own is None:
        return dict(llm), []
    others: set[str] = set()
    for other in BACKENDS:
        if other != backend:
            try:
                others |= accepted_keys(other) or set()
            except ImportError:  # a backend whose module cannot even be imported here
                pass
    options, dropped = {"backend": backend}, []
    for key, value in llm.items():
        if key == "backend" or key in own:
            options[key] = value
        elif key in others:
            dropped.append(key)
        else:
            raise UserError(f"{where}: {key!r} is not an option of the {backend} backend "
                            f"(its options: {', '.join(sorted(own))})")
    return options, dropped
