"""Expert iteration: the prover learns from its own Lean-verified proofs.

    for round r = 0, 1, ...:
        prove    `samples` completions per problem (unsolved ones, or all below the cap) with the
                 current model -> extracted proof -> Lean verdict        round-r/attempts.jsonl
        collect  passing proofs, deduplicated, at most `max_per_problem` per problem over all
                 rounds, shortest first                                 round-r/proofs.jsonl
        train    the SFT recipe on base data + every proof kept so far, from the base model or
                 round r-1's checkpoint                                 round-r/sft_data.jsonl,
                                                                        round-r/recipe.yaml, round-r/train/
        round r+1 generates with round r's checkpoint

Each stage ends by writing its marker (`round-r/{prove,collect,train}.done`, JSON with the stage's
figures, written atomically), so a killed run, rerun with the same command, resumes at the stage
it was in: proving continues from the attempts already recorded (append-only), collecting is
redone whole (it is a pure function of the attempts), training resumes from the recipe's last
checkpoint. `rounds.json` is the table of rounds (problems solved, new proofs, training run).

Held-out guard: the training problems, the base data and every round's SFT data are checked
against the configured held-out problems (by name and normalised statement) before use.

With the `openai` backend the model is served by a server the user runs: after a round is
trained the run stops and says which checkpoint to serve; the rerun continues with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from theoremllama.config import apply_overrides, read_yaml_mapping
from theoremllama.data.jsonl import atomic_write_jsonl, atomic_write_text, read_jsonl
from theoremllama.data.records import Problem, prompt_hash
from theoremllama.errors import UserError
from theoremllama.eval.attempts import AttemptsFile, RunInfo, read_attempts
from theoremllama.eval.pipeline import WorkItem, run_pipeline
from theoremllama.eval.prompts import ProofExample, ProofExampleBank, build_prompt
from theoremllama.learn.collect import VerifiedProof, collect_round, sft_rows
from theoremllama.learn.config import IterateConfig
from theoremllama.learn.problems import HeldOut, load_problems
from theoremllama.learn.verifier import make_verifier
from theoremllama.llm.base import Sampling
from theoremllama.train.config import load_config
from theoremllama.train.format import load_obt_records

STAGES = ("prove", "collect", "train")
ROUNDS_FILE = "rounds.json"


@dataclass
class IterateResult:
    """What `iterate` returns."""

    rounds: list[dict]
    """One row per round reached (see `rounds.json`)."""
    model: str
    """The latest model: the last trained checkpoint (or the initial model)."""
    waiting_for_server: bool = False
    """True when the run stopped for the user to serve `model` (openai backend)."""
    stopped: str = ""
    """Why the run ended before `rounds` (nothing left to prove, no new proof), or ''."""
    stages_run: list[str] = field(default_factory=list)
    """`r/stage` of every stage run in this call (resumed ones included)."""


def round_dir(config: IterateConfig, r: int) -> Path:
    return Path(config.output_dir) / f"round-{r}"


def marker(config: IterateConfig, r: int, stage: str) -> dict | None:
    """A finished stage's figures, or None if the stage has not finished."""
    path = round_dir(config, r) / f"{stage}.done"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _mark(config: IterateConfig, r: int, stage: str, figures: dict) -> None:
    atomic_write_text(round_dir(config, r) / f"{stage}.done", json.dumps(figures, indent=2, ensure_ascii=False) + "\n")


def iterate(config: IterateConfig, *, generator_factory=None, verifier=None, progress: bool = True,
            log=print) -> IterateResult:
    """Run (or resume) expert iteration. `generator_factory(llm_config)` builds each round's
    generator (default: `make_generator`); `verifier` may be shared (default: from the config)."""
    config.check()
    heldout = HeldOut.load(config.heldout)
    problems = load_problems(config.problems)[: config.limit]
    heldout.refuse_overlap(problems, what=f"config key 'problems' ({config.problems})")
    base = []
    if config.base_data:
        base = load_obt_records(config.base_data)
        heldout.refuse_overlap(base, what=f"config key 'base_data' ({config.base_data})")
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True))

    result = IterateResult(rounds=[], model=str(config.llm.get("model", "")))
    own_verifier = verifier is None
    kept: list[VerifiedProof] = []
    try:
        for r in range(config.rounds):
            row = {"round": r, "model": result.model}
            # ---- prove
            proved = marker(config, r, "prove")
            if proved is None:
                todo = _to_attempt(config, problems, kept)
                if not todo:
                    result.stopped = f"round {r}: no problem left to attempt"
                    break
                if verifier is None:
                    verifier = _verifier(config)
                proved = _prove(config, r, todo, problems, kept, result.model, generator_factory, verifier,
                                progress)
                _mark(config, r, "prove", proved)
                result.stages_run.append(f"{r}/prove")
            row.update(attempted=len(proved["problems"]), attempts=proved["attempts"],
                       unchecked=proved.get("unchecked", 0), reasons=proved["reasons"])
            # ---- collect
            collected = marker(config, r, "collect")
            if collected is None:
                collected = _collect(config, r, problems, kept)
                _mark(config, r, "collect", collected)
                result.stages_run.append(f"{r}/collect")
            new = [VerifiedProof.from_dict(d) for d in read_jsonl(round_dir(config, r) / "proofs.jsonl")]
            solved_before = {v.problem for v in kept}
            kept += new
            row.update(solved=collected["solved"], newly_solved=len({v.problem for v in new} - solved_before),
                       new_proofs=len(new), duplicates=collected["duplicates"], over_cap=collected["over_cap"],
                       total_proofs=len(kept))
            if not new and marker(config, r, "train") is None:
                result.rounds.append(row)
                result.stopped = f"round {r}: no new verified proof (the next round would train on the same data)"
                break
            # ---- train
            trained = marker(config, r, "train")
            trained_now = trained is None
            if trained is None:
                if verifier is not None and own_verifier:
                    verifier.close()  # free the REPL workers' memory while training
                    verifier = None
                trained = _train(config, r, base, kept, problems, heldout, log)
                _mark(config, r, "train", trained)
                result.stages_run.append(f"{r}/train")
            row.update(sft_rows=trained["sft_rows"], train_dir=trained["train_dir"], checkpoint=trained["checkpoint"])
            result.model = trained["checkpoint"]
            result.rounds.append(row)
            _write_rounds(config, result.rounds)
            if trained_now and config.llm["backend"] == "openai" and r + 1 < config.rounds:
                result.waiting_for_server = True
                log(f"round {r} trained: serve {result.model} at {config.llm.get('base_url', 'llm.base_url')} "
                    f"(e.g. `vllm serve {result.model}`), then rerun the same command to continue")
                break
    finally:
        if own_verifier and verifier is not None:
            verifier.close()
    _write_rounds(config, result.rounds)
    return result


def _to_attempt(config: IterateConfig, problems: list[Problem], kept: list[VerifiedProof]) -> list[Problem]:
    counts = Counter(v.problem for v in kept)
    if config.attempt == "unsolved":
        return [p for p in problems if counts[p.name] == 0]
    return [p for p in problems if counts[p.name] < config.max_per_problem]


def _prove(config: IterateConfig, r: int, todo: list[Problem], problems: list[Problem], kept: list[VerifiedProof],
           model: str, generator_factory, verifier, progress: bool) -> dict:
    """Generate and verify the round's attempts (resuming from those already recorded). Worked
    examples (`k_examples`) are the shortest kept proof of each problem solved so far."""
    by_name = {p.name: p for p in problems}
    bank = ProofExampleBank([])
    known = {}
    for v in kept:  # one example per problem: its shortest kept proof (kept is shortest first)
        known.setdefault(v.problem, v)
    if config.k_examples:
        bank.add_verified([ProofExample.from_verified(by_name[v.problem], v.proof, v.round) for v in known.values()])
    run = RunInfo(split="train", problems=[p.name for p in todo], samples=config.samples, rounds=r + 1,
                  seed=config.seed, variant=config.prompt, model=model,
                  extra={"round": r, "problem_file": config.problems})
    attempts = AttemptsFile(round_dir(config, r) / "attempts.jsonl", run)
    generator = None
    unchecked = 0
    try:
        items = []
        for p in todo:
            missing = [s for s in range(config.samples) if not attempts.done((p.name, r, s))]
            if missing:
                prompt = build_prompt(p, bank.choose(p, config.k_examples), config.prompt)
                items += [WorkItem(p, r, s, prompt, prompt_hash(prompt)) for s in missing]
        if items:
            llm = dict(config.llm, model=model)
            generator = generator_factory(llm) if generator_factory else _generator(llm)
            stats = run_pipeline(items, generator=generator, sampling=Sampling(n=1, **config.sampling),
                                 verifier=verifier, record=attempts.write, seed=config.seed,
                                 concurrency=config.concurrency, progress=progress, description=f"round {r}: prove")
            unchecked = stats.unchecked
        recorded = list(attempts.attempts.values())
    finally:
        attempts.close()
        if generator is not None:
            generator.close()
            generator = None
            _release_gpu_memory()  # the training subprocess needs the GPUs the generator held
    # `unchecked`: attempts whose header did not import (never checked, so not recorded)
    return {"model": model, "problems": run.problems, "attempts": len(recorded), "unchecked": unchecked,
            "passed": sum(a.passed for a in recorded),
            "reasons": dict(sorted(Counter(a.reason for a in recorded).items()))}


def _collect(config: IterateConfig, r: int, problems: list[Problem], kept: list[VerifiedProof]) -> dict:
    _, attempts = read_attempts(round_dir(config, r) / "attempts.jsonl")
    got = collect_round(attempts, r, problems, kept, config.max_per_problem)
    atomic_write_jsonl(round_dir(config, r) / "proofs.jsonl", got.new)
    return {"passed": got.passed, "solved": len({a.problem for a in attempts if a.passed}),
            "new_proofs": len(got.new), "duplicates": got.duplicates, "over_cap": got.over_cap}


def _train(config: IterateConfig, r: int, base, kept: list[VerifiedProof], problems: list[Problem],
           heldout: HeldOut, log) -> dict:
    """Write the round's SFT data and recipe, and run the recipe (it resumes from its checkpoints)."""
    rd = round_dir(config, r)
    rows = sft_rows(base, kept, problems)
    heldout.refuse_overlap(rows, what=f"round {r} SFT data")
    atomic_write_jsonl(rd / "sft_data.jsonl", rows)
    recipe = apply_overrides(read_yaml_mapping(config.train.recipe), dict(config.train.set))
    recipe["data"] = str((rd / "sft_data.jsonl").resolve())
    recipe["output_dir"] = str((rd / "train").resolve())
    recipe["resume"] = "auto"
    if config.train.init == "previous" and r > 0:
        previous = marker(config, r - 1, "train")
        model = dict(recipe.get("model") or {})
        model.update(name_or_path=previous["checkpoint"], from_config=None)
        recipe["model"], recipe["tokenizer"] = model, previous["checkpoint"]
    atomic_write_text(rd / "recipe.yaml", yaml.safe_dump(recipe, sort_keys=False, allow_unicode=True))
    load_config(rd / "recipe.yaml")  # a bad recipe is one line now, not a failed subprocess
    command = list(config.train.launcher) or [sys.executable, "-m", "theoremllama.cli", "train"]
    command += ["--config", str((rd / "recipe.yaml").resolve())]
    log(f"round {r}: training on {len(rows)} rows ({len(rows) - len(base)} verified proofs): {' '.join(command)}")
    with open(rd / "train.log", "ab") as out:
        code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT).returncode
    final = rd / "train" / "final"
    if code != 0 or not final.is_dir():
        raise UserError(f"round {r}: training failed (exit code {code}); see {rd / 'train.log'}; "
                        "rerun the same command to resume from the last checkpoint")
    return {"sft_rows": len(rows), "verified_rows": len(rows) - len(base), "train_dir": str(rd / "train"),
            "checkpoint": str(final.resolve())}


def _release_gpu_memory() -> None:
    import gc
    import sys

    gc.collect()
    torch = sys.modules.get("torch")  # only if a backend imported it
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def _write_rounds(config: IterateConfig, rounds: list[dict]) -> None:
    if rounds:
        atomic_write_text(Path(config.output_dir) / ROUNDS_FILE, json.dumps(rounds, indent=2) + "\n")


def _generator(llm: dict):
    # the backends need the llm extra (openai, torch, vllm)
    from theoremllama.llm.factory import make_generator

    return make_generator(llm)


def _verifier(config: IterateConfig):
    return make_verifier(config.verifier)
