"""Mutation testing of the verifier's verdict and policy code, with mutmut 3.

    .venv/bin/python benchmarks/mutation.py [--workers 2] [--keep DIR]

Each mutant is a small change to the code (a flipped comparison, a dropped condition, another
constant, a removed argument...). A mutant the tests still pass on ("survived") is a behaviour no
test pins down: in verdict code, a way a wrong verdict could slip through unnoticed.

Scope (the code that decides a verdict, not the process plumbing around it):
  theoremllama/lean/checks.py   the check commands and the parsers of Lean's answers
  theoremllama/lean/policy.py   the forbidden-construct policy, lemma-style rules
  theoremllama/lean/job.py      job preparation (name, namespace, splicing, policy application)
  theoremllama/lean/verdict.py  the Verdict record
  theoremllama/lean/worker.py   `Worker.check` and `Worker._reference` only (the check sequence)
Tests run against each mutant: the verdict tests of tests/lean (policy, checks, verdicts, jobs, lexer:
seconds each; the pool's fault tests in test_verifier.py take minutes per mutant and test process
handling, not verdicts); mutmut runs, for each mutant, only the tests that call the mutated function. (mutmut passes
test node ids back to pytest, so those tests use plain parametrize ids.)

mutmut reads its configuration from pyproject.toml and works in a `mutants/` copy of the project;
so that neither touches the checkout, this script copies the project into a scratch directory
(default: a temporary one; --keep DIR to look at it afterwards, e.g. `mutmut show NAME` there),
writes the configuration there, runs `mutmut run` on the mutants in scope and prints the
survivors with their diffs and the figure killed / total. Takes a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FILES = ["theoremllama/lean/checks.py", "theoremllama/lean/policy.py", "theoremllama/lean/job.py",
         "theoremllama/lean/verdict.py", "theoremllama/lean/worker.py"]
MUTANTS = ["theoremllama.lean.checks.*", "theoremllama.lean.policy.*", "theoremllama.lean.job.*",
           "theoremllama.lean.verdict.*", "theoremllama.lean.worker.xǁWorkerǁcheck__mutmut_*",
           "theoremllama.lean.worker.xǁWorkerǁ_reference__mutmut_*"]
TESTS = ["tests/lean/test_policy.py", "tests/lean/test_checks.py", "tests/lean/test_verdicts.py",
         "tests/lean/test_job.py", "tests/lean/test_syntax_interpolation.py"]
CONFIG = f"""
[tool.mutmut]
source_paths = ["theoremllama/"]
only_mutate = {FILES!r}
pytest_add_cli_args_test_selection = {TESTS!r}
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]
also_copy = ["data/examples/", "lean_project/", "configs/", "eval/", "train/"]
"""


def prepare(scratch: Path) -> None:
    """A copy of the project with mutmut's configuration in its pyproject.toml."""
    for name in ("theoremllama", "tests", "data/examples", "lean_project", "configs", "eval", "train"):
        source = ROOT / name
        if source.exists():
            shutil.copytree(source, scratch / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pyproject = re.sub(r"\n\[tool\.mutmut\][^\[]*", "\n", pyproject)
    (scratch / "pyproject.toml").write_text(pyproject + CONFIG, encoding="utf-8")


def run(scratch: Path, workers: int) -> tuple[dict[str, str], float]:
    """Run mutmut on the mutants in scope; returns ({mutant: status}, seconds)."""
    start = time.monotonic()
    mutmut = [sys.executable, "-m", "mutmut"]
    done = subprocess.run([*mutmut, "run", "--max-children", str(workers), *MUTANTS], cwd=scratch,
                          capture_output=True, text=True)
    seconds = time.monotonic() - start
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"mutmut run failed with status {done.returncode}")
    listed = subprocess.run([*mutmut, "results", "--all", "true"], cwd=scratch, capture_output=True, text=True,
                            check=True).stdout
    statuses = {}
    for line in listed.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name and any(_matches(name, pattern) for pattern in MUTANTS):
            statuses[name] = status
    return statuses, seconds


def _matches(name: str, pattern: str) -> bool:
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), name) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR (kept) instead of a temporary directory")
    args = parser.parse_args()
    if args.keep:
        scratch = Path(args.keep).resolve()
        if scratch.exists():
            shutil.rmtree(scratch)
        scratch.mkdir(parents=True)
    else:
        scratch = Path(tempfile.mkdtemp(prefix="theoremllama-mutation-"))
    try:
        prepare(scratch)
        statuses, seconds = run(scratch, args.workers)
        survivors = sorted(name for name, status in statuses.items() if status != "killed")
        for name in survivors:
            diff = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=scratch, capture_output=True,
                                  text=True).stdout
            print(f"--- {statuses[name]}: {name}\n{_short_diff(diff)}")
        by_file: dict[str, list[int]] = {}
        for name, status in statuses.items():
            module = name.split(".xǁ")[0].rsplit(".x_", 1)[0]
            counts = by_file.setdefault(module, [0, 0])
            counts[0] += status == "killed"
            counts[1] += 1
        print("\nkilled / total by module:")
        for module, (killed, total) in sorted(by_file.items()):
            print(f"  {module:36s} {killed:4d} / {total}")
        killed = sum(1 for status in statuses.values() if status == "killed")
        print(f"mutants killed: {killed} / {len(statuses)} ({killed / max(len(statuses), 1):.1%}) "
              f"in {seconds:.0f} s with {args.workers} workers")
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


def _short_diff(diff: str) -> str:
    """The changed lines of a mutant's diff."""
    lines = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return "\n".join("    " + line for line in lines[:6])


if __name__ == "__main__":
    main()
