"""MiniF2F evaluation with iterative proof writing (the paper's two rounds of 128 samples).

    for each round r = 0, 1, ...:
        problems  = the split, minus those solved in earlier rounds (unless skip_solved: false)
        prompt    = the problem + k worked examples (never itself) from the example bank
        attempts  = `samples` completions each -> extracted proof -> Lean verdict  (pipelined)
                    + repairs of the failures, with Lean's errors (`repair.py`; `repair.rounds` > 0)
        bank     += one verified proof per newly solved problem
        stop when r + 1 == rounds or the round solved nothing new

Everything the run does is in `output_dir/attempts.jsonl` (see `attempts.py`) with the config
and seed in `output_dir/config.yaml`. A rerun resumes: the example bank of each round is rebuilt
from the recorded attempts, so prompts are the same, and only the (problem, round, sample) not
yet recorded are generated and verified.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from theoremllama.config import hint_with_config_key
from theoremllama.data.jsonl import atomic_write_text
from theoremllama.data.minif2f import load_example_bank, load_minif2f, log_notes
from theoremllama.data.problems import read_problems
from theoremllama.data.records import Problem, ProofAttempt, prompt_hash
from theoremllama.errors import UserError
from theoremllama.eval.attempts import AttemptsFile, RunInfo
from theoremllama.eval.config import EvalConfig
from theoremllama.eval.passk import EvalSummary, summarize
from theoremllama.eval.pipeline import PipelineStats, WorkItem, run_pipeline
from theoremllama.eval.prompts import ProofExample, ProofExampleBank, build_prompt
from theoremllama.eval.repair import RepairPlanner
from theoremllama.eval.report import write_report
from theoremllama.lean.open import open_verifier
from theoremllama.llm.base import Sampling
from theoremllama.llm.options import backend_options
from theoremllama.llm.retriever import Retriever
from theoremllama.runlog import LOG_FILE, run_log

ATTEMPTS_FILE = "attempts.jsonl"
CONFIG_FILE = "config.yaml"

log = logging.getLogger(__name__)


@dataclass
class EvalResult:
    """What `evaluate` returns."""

    summary: EvalSummary
    """The numbers (same as the report's)."""
    attempts_path: Path
    """The attempts file."""
    pipeline: list[PipelineStats]
    """Per round run in this call: generation requests, verifications, wall time."""
    rounds_run: int
    """Rounds that needed work in this call (0 when everything was already recorded)."""


def load_problems(config: EvalConfig, notes: list[str] | None = None) -> list[Problem]:
    """The problems of the configured split (of MiniF2F, or of `problems_file`), restricted by
    `problems` and `limit` (the data layer's notes on the published files are appended to `notes`
    when given)."""
    if config.problems_file is not None:
        problems = _problems_of_file(config)
    else:
        problems = load_minif2f(config.split, root=config.data_root, report=notes)
    if config.problems:
        by_name = {p.name: p for p in problems}
        missing = [n for n in config.problems if n not in by_name]
        if missing:
            raise UserError(f"eval config: problem {missing[0]!r} is not in {_benchmark(config)}-{config.split}")
        problems = [by_name[n] for n in config.problems]
    if config.limit is not None:
        problems = problems[: config.limit]
    return problems


def _problems_of_file(config: EvalConfig) -> list[Problem]:
    from collections import Counter

    everything = read_problems(config.problems_file)
    problems = [p for p in everything if p.split == config.split]
    if not problems:
        splits = ", ".join(f"{s}: {n}" for s, n in sorted(Counter(p.split for p in everything).items()))
        raise UserError(f"{config.problems_file}: no problem of split {config.split!r} (the file has {splits}); "
                        "set split=...")
    return problems


def _benchmark(config: EvalConfig) -> str:
    """The benchmark's name for reports: MiniF2F, or the problem file's name."""
    return "MiniF2F" if config.problems_file is None else Path(config.problems_file).stem


def load_seed_examples(config: EvalConfig, notes: list[str] | None = None) -> list[ProofExample]:
    """The seed example bank: the commented MiniF2F-valid proofs shipped with the project.

    Only real proofs: 13 of the 106 shipped records are `sorry` placeholders, and a prompt must
    never show the model a `sorry` as a worked example."""
    return [ProofExample.from_obt(r) for r in load_example_bank(proved_only=True, report=notes)]


def evaluate(config: EvalConfig, *, problems: list[Problem] | None = None,
             seed_examples: list[ProofExample] | None = None, generator=None, verifier=None,
             progress: bool = True) -> EvalResult:
    """Run (or resume) an evaluation. `problems`, `seed_examples`, `generator` and `verifier`
    default to what the config says; pass them to evaluate on other data or with a shared pool.
    Everything logged goes to `run.log` in the output directory too."""
    config.check()
    out = config.run_dir()
    out.mkdir(parents=True, exist_ok=True)
    with run_log(out / LOG_FILE):
        return _evaluate(config, out, problems=problems, seed_examples=seed_examples, generator=generator,
                         verifier=verifier, progress=progress)


def _evaluate(config: EvalConfig, out: Path, *, problems, seed_examples, generator, verifier,
              progress: bool) -> EvalResult:
    notes: list[str] = []  # the data layer's notes on the published files: one summary line
    problems = load_problems(config, notes) if problems is None else problems
    if not problems:
        raise UserError("eval: no problems to evaluate")
    seed_examples = load_seed_examples(config, notes) if seed_examples is None else seed_examples
    # The loaders logged each note; both read the seed bank, so its notes come twice.
    log_notes("MiniF2F", list(dict.fromkeys(notes)), details=False, log_file=str(out / "run.log"))
    run = RunInfo(split=config.split, problems=[p.name for p in problems], samples=config.samples,
                  rounds=config.rounds, seed=config.seed, variant=config.prompt,
                  model=str(config.llm.get("model", "")),
                  extra={"examples": config.examples, "k_examples": config.k_examples,
                         "skip_solved": config.skip_solved, "benchmark": _benchmark(config),
                         **({"repair": dataclasses.asdict(config.repair_config())} if config.repair_config().enabled else {})},
                  identity=config.identity(problems, seed_examples))
    attempts = AttemptsFile(out / ATTEMPTS_FILE, run)
    _write_config(out / CONFIG_FILE, config)

    own_generator = generator is None
    own_verifier = verifier is None
    stats: list[PipelineStats] = []
    rounds_run = 0
    try:
        bank = ProofExampleBank(seed_examples, selection=config.examples, retriever=_retriever(config))
        sampling = Sampling(n=1, **config.sampling)
        repair = config.repair_config()
        planner = RepairPlanner(repair, problems, config.prompt) if repair.enabled else None
        solved: dict[str, int] = {}
        for r in range(config.rounds):
            todo = [p for p in problems if not (config.skip_solved and p.name in solved)]
            items = []
            for p in todo:
                missing = [s for s in range(config.samples) if not attempts.done((p.name, r, s))]
                if missing:
                    prompt = build_prompt(p, bank.choose(p, config.k_examples), config.prompt)
                    _check_same_prompt(attempts, p.name, r, prompt_hash(prompt))
                    items += [WorkItem(p, r, s, prompt, prompt_hash(prompt)) for s in missing]
            if planner is not None:  # repairs of recorded failures not yet repaired (a resumed run)
                items += planner.pending(r, attempts.attempts.values(), todo)
            if items:
                if generator is None:
                    generator = _generator(config)
                if verifier is None:
                    verifier = _verifier(config)
                rounds_run += 1
                stats.append(run_pipeline(items, generator=generator, sampling=sampling, verifier=verifier,
                                          record=attempts.write, seed=config.seed,
                                          concurrency=config.concurrency, progress=progress,
                                          description=f"round {r}",
                                          follow_up=planner.follow_up if planner is not None else None,
                                          feedback_messages=repair.max_messages))
                if stats[-1].unchecked:
                    log.warning("round %d: %d attempts were not recorded because their header did not "
                                "import (their proofs were never checked); rerun the same command to "
                                "retry them", r, stats[-1].unchecked)
            newly = _newly_solved(problems, attempts.attempts.values(), r, solved)
            solved.update({p.name: r for p, _ in newly})
            bank.add_verified([ProofExample.from_verified(p, a.proof, r) for p, a in newly])
            if not newly:
                break
    finally:
        attempts.close()
        if own_generator and generator is not None:
            generator.close()
        if own_verifier and verifier is not None:
            verifier.close()
    summary = summarize(list(attempts.attempts.values()), run.problems, split=run.split, samples=run.samples)
    if config.report:
        write_report(out / ATTEMPTS_FILE, out)
    return EvalResult(summary=summary, attempts_path=out / ATTEMPTS_FILE, pipeline=stats, rounds_run=rounds_run)


def _check_same_prompt(attempts: AttemptsFile, problem: str, round: int, hash: str) -> None:
    """A resumed (problem, round) must be asked exactly what its recorded samples were asked:
    anything that changed the prompt (examples, format, the bank of an extended run) would mix
    two experiments under one pass@k."""
    recorded = {a.prompt_hash for a in attempts.attempts.values() if (a.problem, a.round) == (problem, round)}
    if recorded and recorded != {hash}:
        raise UserError(f"{attempts.path}: the recorded attempts of {problem} in round {round} were made "
                        "with a different prompt; choose another output directory (eval --output-dir DIR) "
                        "to start a new run")


def _newly_solved(problems: list[Problem], attempts, round: int,
                  solved: dict[str, int]) -> list[tuple[Problem, ProofAttempt]]:
    """(problem, its first passing attempt) for each problem first solved in `round`, in
    problem order: deterministic, so a resumed run rebuilds the same example bank."""
    first: dict[str, ProofAttempt] = {}
    for a in sorted((a for a in attempts if a.round == round and a.passed), key=lambda a: (a.sample, a.depth, a.id)):
        first.setdefault(a.problem, a)
    return [(p, first[p.name]) for p in problems if p.name in first and p.name not in solved]


def _write_config(path: Path, config: EvalConfig) -> None:
    resolved = {**config.to_dict(), "output_dir": str(config.run_dir())}
    atomic_write_text(path, yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True))


def _generator(config: EvalConfig):
    # the backends need the llm extra (openai, torch, vllm): only when eval makes its own
    from theoremllama.llm.factory import make_generator

    options, dropped = backend_options(dict(config.llm))
    if dropped:
        print(f"eval: note: not options of the {options['backend']} backend, ignored: "
              f"{', '.join('llm.' + k for k in dropped)}", file=sys.stderr)
    return make_generator(options)


def _verifier(config: EvalConfig):
    options = dict(config.verifier)
    options.setdefault("progress", False)  # the pipeline shows its own progress bar
    try:
        return open_verifier(**options)
    except TypeError as e:
        raise UserError(f"eval config: bad verifier option ({e})") from None
    except UserError as e:  # the harness's hints name `verify`'s flags; eval has config keys
        raise hint_with_config_key(e, {"--repl-cmd": "verifier.repl_cmd",
                                       "--lean-project": "verifier.lean_project"}) from None


def _retriever(config: EvalConfig):
    if config.examples != "retrieved":
        return None
    return Retriever(**config.retriever)
