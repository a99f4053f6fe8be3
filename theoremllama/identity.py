"""A run's identity: everything that changes its results, recorded so a resume never mixes runs.

Long jobs resume by skipping what their output directory already holds. That is only right when
the rerun would have produced the same records: evaluating checkpoint B in A's directory would
otherwise report A's score under B's name. Each job records its identity (model, backend,
sampling, prompt format, examples, seed, problem set, ...) when it starts, and a rerun whose
identity differs stops with one line naming every difference and how to start a new run.

    identity = {"model": "A", "sampling": {"temperature": 0.9}, ...}
    check_same_run(previous, identity, where="runs/eval/x/attempts.jsonl", new_run_hint="--output-dir DIR")

Operational settings (server address, concurrency, retries, workers) are not part of an identity:
moving to another node or changing the parallelism continues the same run.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from theoremllama.errors import UserError

# LLM options that change how fast answers come, not what they are.
OPERATIONAL_LLM_KEYS = frozenset({
    "base_url", "api_key_env", "concurrency", "max_retries", "timeout", "backoff_base", "backoff_max",
    "retry_after_max", "batch_size", "device", "gpu_memory_utilization", "tensor_parallel_size",
    "max_batch", "max_wait",
})


def llm_identity(llm: dict) -> dict:
    """The generator options that decide the answers (backend, model, dtype, extra_body, ...)."""
    return {k: v for k, v in sorted(llm.items()) if k not in OPERATIONAL_LLM_KEYS}


def model_slug(model: Any) -> str:
    """A short directory name for a model: the last two parts of a hub id or path, filesystem-safe.

    `RickyDeSkywalker/TheoremLlama` -> `RickyDeSkywalker--TheoremLlama`,
    `/scratch/runs/sft-a/final/` -> `sft-a--final`. Two models with the same slug are still told
    apart by the identity check."""
    parts = [p for p in re.split(r"[\\/]+", str(model or "model")) if p not in ("", ".", "..")]
    slug = "--".join(parts[-2:]) or "model"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", slug)


def digest(value: Any) -> str:
    """A short stable hash of JSON-able data (for long lists such as the problem statements)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    """`key: old -> new` for every (dotted) key whose value differs, in key order."""
    out = []
    for key in sorted(set(old) | set(new), key=str):
        name = f"{prefix}{key}"
        a, b = old.get(key, "<unset>"), new.get(key, "<unset>")
        if isinstance(a, dict) and isinstance(b, dict):
            out += differences(a, b, prefix=f"{name}.")
        elif a != b:
            out.append(f"{name}: {_short(a)} -> {_short(b)}")
    return out


def check_same_run(previous: dict, current: dict, *, where: str, new_run_hint: str) -> None:
    """Raise a one-line `UserError` if `current` is not the identity recorded in `where`."""
    changed = differences(previous, current)
    if changed:
        raise UserError(f"{where} holds a different run ({'; '.join(changed)}); to start a new run, "
                        f"{new_run_hint} (or delete it); to continue the old one, rerun with its settings")


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
